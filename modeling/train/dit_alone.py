"""Train the text-to-image DiT alone on a frozen AR + connector, the condition computed once.

With the AR and connector frozen, a pool row's condition (connector(AR hidden states of the prompt and the image's
codes, teacher forced)) never changes, so it is computed once and each step is a DiT step only (about 1.5 steps/s
at batch 64 on this workplace's 2 CPU cores, against 0.4 for a generator step). The runs that use it are as-run
scripts in modeling/checkpoints (nano-cpu-signs-2026-11-27/session-18/dit_only.py, nano-cpu-dit-signs-2026-11-28,
nano-cpu-dit-robust-2026-11-28); what they choose is which rows make a batch, which condition each row gets and how
much each latent cell counts."""
from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np
import torch

from ..data.assets import Assets
from ..data.scene import group_boxes, sample_scene, scene_rng, sign_box
from .preview import sample_code
from .sequences import PromptBuilder
from .stages import COND_DROP, make_optimizer


def cell_weights(n: int, seed: int, signs: np.ndarray, letter_weight: float, object_weight: float = 0.0,
                 split: str = "train", folder=None) -> torch.Tensor:
    """How much each cell of the 16×16 latent counts in the flow loss, for the scenes make_scenes(n, seed, split) drew
    (scene_rng is deterministic, so the same scenes are drawn again for their boxes) [n, 1, 16, 16]: 1, 1 +
    object_weight under each object, plus letter_weight under the sign. `signs` (the batch's sign flags) checks that
    the scenes are the same; `folder`: the prepared assets, as make_scenes'."""
    assets = Assets(folder)
    names = assets.names()
    weight = torch.ones(n, 1, 16, 16)
    for k in range(n):
        scene = sample_scene(scene_rng(seed, split, k), names, split)
        if (scene.sign is not None) != bool(signs[k]):
            raise ValueError(f"scene {k} of seed {seed} is not the one make_scenes drew")
        for g in scene.groups:
            for x0, y0, x1, y1 in group_boxes(g):
                weight[k, 0, y0 // 4:(y1 + 3) // 4, x0 // 4:(x1 + 3) // 4] = 1 + object_weight
        if scene.sign is not None:
            x0, y0, x1, y1 = sign_box(scene.sign, assets)
            weight[k, 0, y0 // 4:(y1 + 3) // 4, x0 // 4:(x1 + 3) // 4] += letter_weight
    return weight


@torch.no_grad()
def teacher_forced(model, builder: PromptBuilder, prompts: list[list[int]], codes: np.ndarray):
    """For text-to-image rows prompt + codes: the AR's logits predicting each code [B, n, V] and the DiT's
    condition [B, n + 1, C] (<|img_start|> and the codes' positions)."""
    ids, mask = (torch.from_numpy(a) for a in builder.rows("generate", prompts, codes))
    logits, hidden = model.ar.forward_full(ids, mask)
    n = codes.shape[1]
    return logits[:, -(n + 1):-1], model.connector(hidden[:, -(n + 1):])


@torch.no_grad()
def conditions(model, builder: PromptBuilder, prompts: list[list[int]], codes: np.ndarray, batch: int = 256):
    """The DiT condition of every row, fp16 (a pool of 24,000 rows is 600 MB)."""
    return torch.cat([teacher_forced(model, builder, prompts[i:i + batch], codes[i:i + batch])[1].half()
                      for i in range(0, len(codes), batch)])


@torch.no_grad()
def resample_codes(model, builder: PromptBuilder, prompts: list[list[int]], codes: np.ndarray, sampling: dict,
                   gen: torch.Generator, logits: torch.Tensor | None = None) -> np.ndarray:
    """Each code drawn again from the AR's guided distribution given the *true* prefix, with the bundle's sampling
    settings (cfg_scale, temperature, top_k, top_p; the unconditional branch is the empty prompt, as the engine's):
    the AR's own mistakes, in the scene's layout. `logits`: the conditional logits if already computed."""
    if logits is None:
        logits = teacher_forced(model, builder, prompts, codes)[0]
    uncond = teacher_forced(model, builder, [[]] * len(codes), codes)[0]
    guided = uncond.float() + sampling["cfg_scale"] * (logits.float() - uncond.float())
    b, n, v = guided.shape
    pick = sample_code(guided.reshape(b * n, v), model.cfg.image_code_offset, model.cfg.codebook_size,
                   sampling["temperature"], sampling["top_k"], sampling["top_p"], gen)
    return pick.reshape(b, n).numpy()


def train(model, latents: torch.Tensor, batch_rows: Callable[[], torch.Tensor],
          condition_of: Callable[[torch.Tensor], torch.Tensor], seconds: float, lr: float,
          weight: torch.Tensor | None = None, log: Callable[[str], None] = print, max_steps: int | None = None) -> int:
    """Train model.dit for `seconds` (or `max_steps`): lr warms up over 100 steps, then a cosine to a tenth by the
    deadline. batch_rows() picks a batch's pool rows, condition_of(rows) their condition (float), `weight`
    [N, 1, H, W] how much each latent cell of each row counts. Returns the steps taken."""
    dit = model.dit
    for p in model.parameters():
        p.requires_grad_(False)
    params = list(dit.parameters())
    for p in params:
        p.requires_grad_(True)
    opt = make_optimizer(params, lr, "cpu")
    dit.train()
    step, t0, run = 0, time.time(), 0.0
    while time.time() - t0 < seconds and (max_steps is None or step < max_steps):
        frac = (time.time() - t0) / seconds
        for g in opt.param_groups:
            g["lr"] = lr * min(1, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        idx = batch_rows()
        c = condition_of(idx)
        loss = dit.loss(latents[idx], c, None, cond_drop_prob=COND_DROP, weight=None if weight is None else weight[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        run = 0.98 * run + 0.02 * loss.item() if step > 1 else loss.item()
        if step % 100 == 0:
            log(f"step {step} {time.time() - t0:.0f}s {step / (time.time() - t0):.2f} steps/s loss {run:.4f}")
    dit.eval()
    for p in params:
        p.requires_grad_(False)
    return step
