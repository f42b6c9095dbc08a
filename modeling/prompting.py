"""Prompt templates -> token ids (generation and training use the same function, so they cannot drift).

A template is literal text with placeholders `{prompt}` and (edit only) `{ref}`. Each literal piece and the
prompt are tokenized separately with no added special tokens (special-token strings in the literal pieces are
added tokens and map to their ids); the prompt is truncated to max_prompt_tokens; `{ref}` becomes the
reference image's codes as token ids (image_code_offset + code). Templates end with <|img_start|>.
"""

from __future__ import annotations

import re

from tokenizers import Tokenizer

from .config import ModelConfig
from .text_tokenizer import encode_plain

PLACEHOLDER = re.compile(r"\{(prompt|ref)\}")

# Sign text as the nano model was trained to read it: its captions always write a sign's word in capitals
# inside double quotes, so a bare `a sign that says OPEN` is a phrasing it never saw. Generation quotes bare
# (or single-quoted) capital words when the tokenizer spells capitals (the bundle's tokenizer.quote_sign_words),
# and writes a double-quoted word typed in lower or mixed case in capitals, the only letters the model learned;
# src-main/engine/tokenizer/sign-words.ts is the same rule, tests/cases/sign-word-quoting.json its cases.
# [^\W_] is a letter or digit (JavaScript's [\p{L}\p{N}]).
_BARE_CAPITALS = re.compile(r"""(?<![^\W_]|['"])[A-Z]{2,}(?: [A-Z]{2,})*(?![^\W_]|['"])""")
_SINGLE_QUOTED = re.compile(r"(?<![^\W_])'([A-Z]{2,}(?: [A-Z]{2,})*)'(?![^\W_])")
_LETTER_WORDS = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,})*")  # a quoted sign the model can write in capitals


def quote_sign_words(prompt: str) -> str:
    """The prompt with curly double quotes made straight, bare (or single-quoted) capital words double-quoted, and
    double-quoted words of letters in capitals."""
    pieces = re.sub("[\u201c\u201d\u201e]", '"', prompt).split('"')

    def piece(i: int, p: str) -> str:
        if i % 2 == 0:
            return _BARE_CAPITALS.sub(r'"\g<0>"', _SINGLE_QUOTED.sub(r'"\1"', p))
        # inside double quotes; the last piece after an unmatched quote is left as typed
        return p.upper() if i < len(pieces) - 1 and _LETTER_WORDS.fullmatch(p) else p
    return '"'.join(piece(i, p) for i, p in enumerate(pieces))


def build_prompt_ids(tokenizer: Tokenizer, cfg: ModelConfig, prompt: str,
                     ref_codes: list[int] | None = None) -> tuple[list[int], bool]:
    """Returns (ids, truncated). Uses the edit template when ref_codes is given."""
    template = cfg.text.template_edit if ref_codes is not None else cfg.text.template_generate
    ids: list[int] = []
    truncated = False
    pos = 0
    for m in PLACEHOLDER.finditer(template):
        if m.start() > pos:
            ids += encode_plain(tokenizer, template[pos:m.start()])
        if m.group(1) == "prompt":
            p = encode_plain(tokenizer, prompt)
            truncated = len(p) > cfg.text.max_prompt_tokens
            ids += p[: cfg.text.max_prompt_tokens]
        else:
            if ref_codes is None:
                raise ValueError("template has {ref} but no reference codes were given")
            ids += [cfg.image_code_offset + int(c) for c in ref_codes]
        pos = m.end()
    if pos < len(template):
        ids += encode_plain(tokenizer, template[pos:])
    return ids, truncated


def training_example(tokenizer: Tokenizer, cfg: ModelConfig, prompt: str, codes: list[int],
                     ref_codes: list[int] | None = None) -> tuple[list[int], list[int]]:
    """(input_ids, labels) for ARTransformer.loss: the prompt ids, then the image's codes as tokens.

    labels[j] = input_ids[j + 1] where that next token is an image code of the target image, else -100; so
    the loss is the cross-entropy of predicting each code from everything before it (from <|img_start|> on).
    """
    prompt_ids, _ = build_prompt_ids(tokenizer, cfg, prompt, ref_codes)
    code_ids = [cfg.image_code_offset + int(c) for c in codes]
    ids = prompt_ids + code_ids
    labels = [-100] * len(ids)
    start = len(prompt_ids) - 1  # the <|img_start|> position predicts code 0
    for i, t in enumerate(code_ids):
        labels[start + i] = t
    return ids, labels
