"""The text tokenizer: byte-level BPE trained with Hugging Face `tokenizers`, saved as tokenizer.json.

The seven special tokens are added tokens with ids 0..6 in this order:
<|pad|> <|bos|> <|eos|> <|img_start|> <|img_end|> <|ref_start|> <|ref_end|>
No post-processor: encoding never adds special tokens on its own; the prompt templates place them.
Byte-level means any Unicode prompt tokenizes (no unknown token).

Spelled capitals (`spell_capitals`): every capital letter A-Z is its own pre-token, so BPE never merges
capitals and a sign word like "LAKE" always reads L, A, K, E. The model then learns to draw letters, not
a fixed list of whole words (a word never seen on a training sign would otherwise be a few rare fragments).
Prompts in the data engine use capitals only for the quoted sign text. The token ids of every other
piece are the same as without it, so a tokenizer trained without it can be converted in place.
"""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

from .config import SPECIAL_TOKENS

# A small built-in caption list: the fixture's BPE is trained on it, so the fixture is deterministic.
FIXTURE_CAPTIONS = [
    f"a {obj} at the {pos} on a {colour} background"
    for obj in ("red apple", "cat", "dog", "car", "house", "tree", "star", "fish", "bird", "flower")
    for pos in ("top left", "top right", "centre", "bottom left", "bottom right")
    for colour in ("blue", "green", "yellow", "white", "black", "purple")
] + ["make it brighter", "remove the cat", "turn the sky orange", "add a hat", "keep the image unchanged"]


def _pre_tokenizer(spell_capitals: bool):
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    if not spell_capitals:
        return byte_level
    return pre_tokenizers.Sequence([pre_tokenizers.Split(Regex("[A-Z]"), behavior="isolated"), byte_level])


def train_tokenizer(texts: list[str], vocab_size: int, spell_capitals: bool = False) -> Tokenizer:
    """Train a byte-level BPE with at most `vocab_size` ids (special tokens included)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = _pre_tokenizer(spell_capitals)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    check_tokenizer(tok, vocab_size)
    return tok


def spell_capitals(tok: Tokenizer) -> Tokenizer:
    """A copy of `tok` that splits capitals into single letters (same vocabulary and ids otherwise)."""
    out = Tokenizer.from_str(tok.to_str())
    out.pre_tokenizer = _pre_tokenizer(True)
    return out


def spells_capitals(tok: Tokenizer) -> bool:
    return [t for t, _ in tok.pre_tokenizer.pre_tokenize_str("AB")] == ["A", "B"]


def check_tokenizer(tok: Tokenizer, text_vocab_size: int) -> None:
    for i, s in enumerate(SPECIAL_TOKENS):
        if tok.token_to_id(s) != i:
            raise ValueError(f"tokenizer: special token {s} must have id {i}, has {tok.token_to_id(s)}")
    if tok.get_vocab_size() > text_vocab_size:
        raise ValueError(f"tokenizer has {tok.get_vocab_size()} ids but the config reserves "
                         f"text.vocab_size={text_vocab_size}")


def special_token_ids(tok: Tokenizer) -> dict[str, int]:
    names = ("pad", "bos", "eos", "img_start", "img_end", "ref_start", "ref_end")
    return {n: tok.token_to_id(s) for n, s in zip(names, SPECIAL_TOKENS)}


def encode_plain(tok: Tokenizer, text: str) -> list[int]:
    """Token ids of `text` with no special tokens added by the tokenizer (added tokens in the text still match)."""
    return tok.encode(text, add_special_tokens=False).ids


# Prompts whose ids the TypeScript engine must reproduce with a spelled tokenizer (tests/fixtures/tokenizer-spelled).
SPELLED_CASES = [
    'a sign that says "OPEN"',
    'the word "CLOSED" near the top with a pink background',
    'change the text to "FROG"',
    "a cat at the top left on a red background, emoji style",
    "Cat and DOG, Ünïcode 日本 OK!",
    "",
]


def write_spelled_fixture(source: Path, out: Path) -> dict:
    """Convert `source` (a tokenizer.json) to spelled capitals; write it and the ids of SPELLED_CASES."""
    tok = spell_capitals(Tokenizer.from_file(str(source)))
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    cases = [{"text": t, "ids": encode_plain(tok, t) if t else []} for t in SPELLED_CASES]
    lines = ",\n ".join(json.dumps(c, ensure_ascii=False) for c in cases)
    (out / "cases.json").write_text(f"[\n {lines}\n]\n")
    return {"cases": len(cases)}


if __name__ == "__main__":
    # python -m modeling.text_tokenizer SOURCE_TOKENIZER_JSON OUT_DIR (modeling.make_fixtures writes tests/fixtures/tokenizer-spelled)
    import sys
    print(write_spelled_fixture(Path(sys.argv[1]), Path(sys.argv[2])))
