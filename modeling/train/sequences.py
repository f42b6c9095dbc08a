"""AR training sequences built exactly as docs/bundle-spec.md's prompt templates say (an adapter: H3's
modules expose the model, this file turns captions and codes into the id rows the engine will feed).

A row is left-padded so its last `count + 1` positions are always <|img_start|> and the image codes:
    [pad ... pad] template-text  prompt  [<|ref_start|> ref codes <|ref_end|> for edits]  <|img_start|> c_0 … c_{n-1}
The AR is trained to predict c_0 … c_{n-1} from the positions <|img_start|>, c_0 … c_{n-2}, and the DiT is
conditioned on the hidden states of the last count + 1 positions (what the engine collects at inference).
"""
from __future__ import annotations

import re

import numpy as np
import torch
from tokenizers import Tokenizer

from ..config import ModelConfig
from ..text_tokenizer import encode_plain

_PLACEHOLDER = re.compile(r"\{(prompt|ref)\}")


def template_pieces(template: str) -> list[str]:
    """'a{prompt}b' -> ['a', '{prompt}', 'b'] (literal pieces and placeholders, in order)."""
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(template):
        out += [template[pos:m.start()], m.group(0)]
        pos = m.end()
    out.append(template[pos:])
    return [p for p in out if p]


class PromptBuilder:
    def __init__(self, cfg: ModelConfig, tokenizer: Tokenizer):
        self.cfg = cfg
        self.tok = tokenizer
        self.offset = cfg.image_code_offset
        self.count = cfg.code_count
        self.pad = tokenizer.token_to_id("<|pad|>")
        self.img_start = tokenizer.token_to_id("<|img_start|>")
        self._pieces = {}
        for kind, template in (("generate", cfg.text.template_generate), ("edit", cfg.text.template_edit)):
            if not template.endswith("<|img_start|>"):
                raise ValueError(f"template {kind!r} must end with <|img_start|>: {template!r}")
            self._pieces[kind] = [p if p.startswith("{") else encode_plain(tokenizer, p) for p in template_pieces(template)]

    def prompt_ids(self, prompt: str) -> list[int]:
        return encode_plain(self.tok, prompt)[: self.cfg.text.max_prompt_tokens]

    def prompt_ids_batch(self, prompts: list[str]) -> list[list[int]]:
        """prompt_ids for many prompts at once (the tokenizer's batch encoder, several threads)."""
        m = self.cfg.text.max_prompt_tokens
        return [e.ids[:m] for e in self.tok.encode_batch(prompts, add_special_tokens=False)]

    def prefix(self, kind: str, prompt_ids: list[int], ref_codes: np.ndarray | None = None) -> list[int]:
        """The ids the engine feeds before sampling (ends with <|img_start|>)."""
        ids: list[int] = []
        for p in self._pieces[kind]:
            if p == "{prompt}":
                ids += prompt_ids
            elif p == "{ref}":
                if ref_codes is None:
                    raise ValueError("the edit template needs reference codes")
                ids += [self.offset + int(c) for c in ref_codes]
            else:
                ids += p
        return ids

    def left_padded(self, prefixes: list[list[int]], device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Prompt prefixes as one left-padded batch for a prefill: ids, attention mask and position ids
        (cumsum(mask) − 1, 0 on padding), as docs/bundle-spec.md defines them."""
        b, longest = len(prefixes), max(len(p) for p in prefixes)
        ids = torch.full((b, longest), self.pad, dtype=torch.long)
        mask = torch.zeros((b, longest), dtype=torch.long)
        for i, p in enumerate(prefixes):
            ids[i, longest - len(p):] = torch.tensor(p)
            mask[i, longest - len(p):] = 1
        ids, mask = ids.to(device), mask.to(device)
        return ids, mask, (mask.cumsum(-1) - 1).clamp(min=0)

    def rows(self, kind: str, prompts: list[list[int]], codes: np.ndarray, refs: np.ndarray | None = None):
        """Left-padded rows [N, L] (prefix + target codes) and their attention masks (int64 numpy)."""
        prefixes = [self.prefix(kind, p, None if refs is None else refs[i]) for i, p in enumerate(prompts)]
        longest = max(len(p) for p in prefixes) + self.count
        if longest > self.cfg.ar.max_positions:
            raise ValueError(f"a {kind} sequence of {longest} tokens exceeds ar.max_positions={self.cfg.ar.max_positions}")
        n = len(prefixes)
        ids = np.full((n, longest), self.pad, dtype=np.int64)
        mask = np.zeros((n, longest), dtype=np.int64)
        for i, p in enumerate(prefixes):
            row = p + [self.offset + int(c) for c in codes[i]]
            ids[i, longest - len(row):] = row
            mask[i, longest - len(row):] = 1
        return ids, mask
