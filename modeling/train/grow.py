"""Make a trained AR deeper without changing what it computes (block expansion).

The nano AR loses most of the text score (eval diagnostics: a sign drawn from the true codes is read about 0.95
of the time, from the sampled codes about 0.7), and the bundle now has room for more AR weights (fp16 storage,
modeling/half_storage.py). A deeper AR trained from scratch would throw away hours of training; instead each
new block is a copy of the trained block before it with its two output projections (attention o_proj, MLP
down) set to zero. A pre-norm block adds `o_proj(attn(norm(x)))` and `down(mlp(norm(x)))` to the residual, so a
block with both zero is the identity: the grown model's logits and hidden states are those of the checkpoint,
exactly, and training starts from there. The copies' other weights give the zeroed projections non-zero
gradients from the first step. (The same idea as LLaMA Pro's block expansion, Wu et al. 2024.)
"""

from __future__ import annotations

import copy

import torch

from ..model import AtelierModel

ZEROED = ("attn.o_proj.weight", "mlp.down.weight")


def expansion_plan(old: int, new: int) -> list[tuple[int, bool]]:
    """For each block of the grown AR: (the checkpoint block it copies, whether it is a new identity block).
    The new blocks are spread evenly, each right after the block it copies."""
    if new <= old:
        raise ValueError(f"the AR has {old} layers; growing it needs more than that (got {new})")
    extra = new - old
    after = [0] * old  # new blocks after each old block
    for e in range(extra):
        after[((e + 1) * old) // extra - 1] += 1
    plan = []
    for i in range(old):
        plan.append((i, False))
        plan += [(i, True)] * after[i]
    return plan


def grow_ar_depth(model: AtelierModel, layers: int) -> AtelierModel:
    """A new model with `layers` AR blocks that computes exactly what `model` computes (see the module doc)."""
    cfg = copy.deepcopy(model.cfg)
    plan = expansion_plan(cfg.ar.layers, layers)
    cfg.ar.layers = layers
    cfg.validate()
    grown = AtelierModel(cfg)
    old = model.state_dict()
    state = {}
    for key in grown.state_dict():
        if not key.startswith("ar.blocks."):
            state[key] = old[key].clone()
            continue
        j, rest = key[len("ar.blocks."):].split(".", 1)
        src, fresh = plan[int(j)]
        value = old[f"ar.blocks.{src}.{rest}"].clone()
        if fresh and rest in ZEROED:
            value.zero_()
        state[key] = value
    grown.load_state_dict(state, strict=True)
    return grown.to(next(model.parameters()).device)


def new_block_count(model: AtelierModel) -> int:
    """How many AR blocks are still exact identities (both output projections zero): 0 once trained."""
    return sum(bool(torch.all(b.attn.o_proj.weight == 0) and torch.all(b.mlp.down.weight == 0)) for b in model.ar.blocks)
