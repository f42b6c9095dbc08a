"""LoRA on the DiT: which linears get a low-rank pair, and a DiT forward that adds them.

A target linear y = W x + b becomes y = W x + b + scale * up (down x) with down [rank, in] and up [out, rank]
(kohya's naming: `lora_down` = A, `lora_up` = B). Targets are the DiT's attention and MLP linears in every
block: self-attention qkv/out, cross-attention q/kv/out, MLP fc1/fc2. The adaLN, embedding and reference
connector layers stay frozen (they carry timestep and layout, not content).

Two ways of passing the pairs, one per exported graph:
- training (`dit_train_lora`): one fixed max rank R per target and one scalar `scale` (= alpha / rank). A LoRA
  of rank r < R is the same tensors zero-padded to R: the padded rows of down and columns of up get exactly
  zero gradient (d up[:, j] = (down x)_j ... = 0 and d down[j] ∝ up[:, j] = 0), so AdamW keeps them at zero.
- inference (`dit_lora`): a dynamic rank per call, scale folded into up; several LoRAs are concatenated along
  the rank axis (down rows stacked, up columns stacked, each up multiplied by its own weight * alpha / rank).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..dit import DiT

# Module paths inside one DiT block, in graph order.
BLOCK_TARGETS = ("attn.qkv", "attn.out", "cross.q", "cross.kv", "cross.out", "mlp.0", "mlp.2")


@dataclass(frozen=True)
class Target:
    index: int
    module: str  # path inside the DiT, e.g. blocks.0.attn.qkv
    in_features: int
    out_features: int

    @property
    def key(self) -> str:
        """kohya-style key prefix of this target in a LoRA .safetensors file."""
        return "lora_dit_" + self.module.replace(".", "_")


def lora_targets(dit: DiT) -> list[Target]:
    out = []
    for b in range(len(dit.blocks)):
        for path in BLOCK_TARGETS:
            name = f"blocks.{b}.{path}"
            lin = dit.get_submodule(name)
            assert isinstance(lin, nn.Linear), name
            out.append(Target(len(out), name, lin.in_features, lin.out_features))
    return out


class _LoraLinear(nn.Module):
    """A frozen linear plus a low-rank update read from the owner's current pair list."""

    def __init__(self, base: nn.Linear, owner: "LoraDiT", index: int):
        super().__init__()
        self.base = base
        self.owner = [owner]  # a list so the owner is not registered as a submodule (no cycle)
        self.index = index

    def forward(self, x):
        down, up, scale = self.owner[0].current(self.index)
        y = self.base(x)
        if down is None:
            return y
        h = torch.matmul(torch.matmul(x, down.t()), up.t())
        return y + h * scale if scale is not None else y + h


class LoraDiT(nn.Module):
    """The DiT with every target linear wrapped. Call with pairs=[(down, up), …] in target order."""

    def __init__(self, dit: DiT):
        super().__init__()
        self.dit = dit
        self.targets = lora_targets(dit)
        self._pairs: list | None = None
        self._scale = None
        for t in self.targets:
            parent_name, _, leaf = t.module.rpartition(".")
            parent = dit.get_submodule(parent_name)
            setattr(parent, leaf, _LoraLinear(getattr(parent, leaf), self, t.index))

    def current(self, index: int):
        if self._pairs is None:
            return None, None, None
        down, up = self._pairs[index]
        return down, up, self._scale

    def forward(self, latents, timestep, cond, ref_latents, pairs=None, scale=None):
        self._pairs, self._scale = pairs, scale
        try:
            return self.dit(latents, timestep, cond, ref_latents)
        finally:
            self._pairs, self._scale = None, None

    def loss(self, pairs, scale, x0, noise, t, cond, ref_latents):
        """Flow-matching MSE at x_t = (1 - t) x0 + t noise against v = noise - x0 (cond already dropped)."""
        tt = t[:, None, None, None]
        xt = (1 - tt) * x0 + tt * noise
        v = self(xt, t, cond, ref_latents, pairs, scale)
        return torch.mean((v - (noise - x0)) ** 2)


def freeze(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        p.requires_grad_(False)
    return module.eval()
