"""Stage 4: GRPO on the AR only, as the reference (../shared/design/blip3o-next.md, "RL").

One step, top to bottom:
 1. prompts   P prompts from the scene engine (a share of them signs), each repeated G times (a group)
 2. rollout   the policy AR samples the image codes with the generation's logit processors (image-code mask,
              temperature, top-k, top-p: the same rules as modeling/sampling.py)
 3. render    the frozen connector + DiT + VAE turn the AR hidden states into pixels (Euler, CFG)
 4. reward    OCR reward on sign prompts (modeling/rl/ocr.py) and a composition reward from the evaluation's
              scorer (background, position, object, count; modeling/eval/score.py), weighted
              (with --edit-fraction, that share of steps are edit steps instead: the prompts are the data
              engine's edit instructions on a rendered source, the rollout reads the source's codes as the
              engine does, the render is the engine's edit (reference latents, keep-unchanged blend), and the
              reward is the evaluation's: the instruction done, and the PSNR outside the edited region)
 5. advantage A = (r - mean(group)) / (std(group) + eps): only differences within a group teach
 6. update    token-level clipped policy gradient  -min(ratio·A, clip(ratio, 1±eps)·A)  on the sampled codes,
              plus beta · KL(policy || reference) with the k3 estimator  exp(q - p) - (q - p) - 1  (p policy,
              q reference log-prob of the sampled code); the reference is a frozen copy of the starting AR.
              Log-probs are over all image codes at the sampling temperature, without the top-k/top-p cut
              (as common GRPO/PPO code does): over the cut set a peaked policy has log-prob 0 for its one kept
              code, and the KL term would not see how far it drifted from the reference

    python -m modeling.rl.grpo --checkpoint modeling/checkpoints/nano-cpu-arcfg-2026-11-26/model-fp16.safetensors \
        --out modeling/runs/rl-cpu --preset cpu --seconds 600
writes model.safetensors (the RL'd model), rl_history.json (reward per step), rl_eval.json (held-out
prompts before and after, same seeds) and rl_grid.png.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import json
import os
import time
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from ..model import AtelierModel
from ..scheduler import sigmas as flow_sigmas
from ..train.sequences import PromptBuilder


@dataclass
class GRPOConfig:
    seconds: float = 300.0  # wall-time budget of the RL loop (evaluations not included)
    max_steps: int = 10**9
    prompts_per_step: int = 4  # P
    group_size: int = 16  # G (the reference's)
    lr: float = 1e-5  # the reference uses 1e-6 on a 3B model; a nano AR needs more to move in minutes
    beta_kl: float = 0.001  # the reference's
    clip_eps: float = 0.2
    updates_per_batch: int = 1  # gradient steps per batch of rollouts (>1 makes the clip act)
    adv_eps: float = 1e-4
    grad_clip: float = 1.0
    ocr_weight: float = 1.0
    composition_weight: float = 1.0
    sign_fraction: float = 0.5  # share of prompts with a sign
    # Share of sign prompts whose word has a narrow capital (I, J): held-out words with one are read about half as
    # often as the rest (card notes, steps 20-21), so a group of rollouts on them differs most in its OCR reward.
    narrow_sign_fraction: float = 0.0
    # Roll out and score the policy the engine samples: the AR guided against the empty prompt at the config's
    # sampling.cfg_scale (edit steps: edit_cfg_scale). Runs until session 16 sampled unguided while the bundle
    # guides at 2, and a gain on their own unguided check did not reach the evaluation (card notes, step 16).
    # A training checkpoint's config may not carry the bundle's guidance (modeling/train/ship.py sets it at
    # export): the command line's --sampling-like BUNDLE (or --ar-cfg-scale / --edit-ar-cfg-scale) sets it.
    ar_guidance: bool = True
    edit_fraction: float = 0.0  # share of steps that are edit steps (edit instructions, EditReward)
    edit_reward: str = "mean"  # EditReward's combine: (done + preserved) / 2, or "product": done × preserved
    eval_edits: int = 32  # held-out edit pairs in the before/after evaluation (when edit_fraction > 0)
    diffusion_steps: int | None = None  # None: the model config's scheduler steps
    split: str = "train"  # rollout prompts; the evaluation uses "heldout"
    eval_sign: int = 16
    eval_other: int = 16
    seed: int = 0
    device: str = "cpu"
    bf16: bool = False  # autocast for rollouts and the loss (CUDA only)
    log_every_s: float = 10.0


def preset(name: str, seconds: float | None = None) -> GRPOConfig:
    if name == "cpu":
        # Session 8, on the model that first wrote legible signs: 2 prompts x 8 (lr 5e-6, KL weight 0.001)
        # drifted (KL 0.1-0.2 per code) and lost objects; 8 x 8 with KL weight 0.02 kept near the start and
        # raised text exact 0.54 -> 0.64 over four seeds (modeling/checkpoints/nano-h200-continue-2026-11-27).
        c = GRPOConfig(prompts_per_step=8, group_size=8, lr=5e-6, beta_kl=0.02, diffusion_steps=10,
                       eval_sign=32, eval_other=32)
    elif name == "gpu":
        c = GRPOConfig(prompts_per_step=16, group_size=16, device="cuda", bf16=True, eval_sign=96, eval_other=96)
    else:
        raise ValueError(f"unknown RL preset {name!r} (cpu, gpu)")
    return c if seconds is None else dataclasses.replace(c, seconds=seconds)


# ---------------------------------------------------------------- 1. prompts

@dataclass
class PromptItem:
    prompt: str
    scene: object | None = None  # the data engine's Scene the prompt describes (None for synthetic rewards)
    pair: object | None = None  # edits: the data engine's EditPair (source, target, kind, what changed)
    source: np.ndarray | None = None  # edits: the rendered source, uint8 [H, W, 3]
    ref_codes: np.ndarray | None = None  # edits: the source's image codes [N] (the edit template reads them)
    ref_latents: np.ndarray | None = None  # edits: the source's scaled VAE latents [C, h, w] (the DiT's reference)


class ScenePrompts:
    """An endless, seeded stream of (caption, scene) from the data engine; `sign_fraction` of them signs."""

    def __init__(self, seed: int, split: str, sign_fraction: float, narrow_sign_fraction: float = 0.0):
        from ..data.assets import Assets
        self.assets = Assets()
        self.names = self.assets.names()
        self.syn = {o.name: o.synonyms for o in self.assets.objects}
        self.seed, self.split, self.sign_fraction = seed, split, sign_fraction
        self.narrow_sign_fraction = narrow_sign_fraction
        self.i = 0
        self.pick = np.random.default_rng(seed)

    def _next(self, want_sign: bool, want_narrow: bool = False) -> PromptItem:
        from ..data.assets import NARROW_CAPITALS
        from ..data.captions import caption
        from ..data.scene import sample_scene, scene_rng
        while True:
            rng = scene_rng(self.seed, self.split, self.i, "rl")
            self.i += 1
            scene = sample_scene(rng, self.names, self.split)
            if (scene.sign is not None) != want_sign:
                continue
            if want_narrow and not any(c in NARROW_CAPITALS for c in scene.sign.word):
                continue
            return PromptItem(caption(scene, rng, self.syn), scene)

    def take(self, n: int) -> list[PromptItem]:
        out = []
        for _ in range(n):
            sign = bool(self.pick.random() < self.sign_fraction)
            # The second draw only when asked for, so streams without narrow words stay as they were.
            narrow = sign and self.narrow_sign_fraction > 0 and bool(self.pick.random() < self.narrow_sign_fraction)
            out.append(self._next(sign, narrow))
        return out


class EditPrompts:
    """An endless, seeded stream of edit pairs of every kind from the data engine, each source rendered and
    encoded by the model's own image tokenizer and VAE, as the engine encodes a reference."""

    def __init__(self, model: AtelierModel, seed: int, split: str):
        from ..backends import TorchBackend
        from ..data.assets import Assets
        self.assets = Assets()
        self.names = self.assets.names()
        self.syn = {o.name: o.synonyms for o in self.assets.objects}
        self.backend = TorchBackend(model)
        self.seed, self.split, self.i = seed, split, 0

    def pairs(self, n: int, split: str | None = None, stream: str = "rl-edit", start: int | None = None,
              seed: int | None = None) -> list:
        """The next n pairs of the stream, or (start given) n fixed ones, e.g. the eval command's held-out pairs."""
        from ..data.edits import sample_edit
        from ..data.scene import scene_rng
        split, first = split or self.split, self.i if start is None else start
        seed = self.seed if seed is None else seed
        if start is None:
            self.i += n
        return [sample_edit(scene_rng(seed, split, first + k, stream), self.names, split, synonyms=self.syn)
                for k in range(n)]

    def items(self, pairs: list) -> list[PromptItem]:
        from ..data.scene import render as render_scene
        from ..generate import encode_reference
        src = np.stack([render_scene(p.source, self.assets) for p in pairs])
        enc = encode_reference(self.backend, self.backend.cfg, src.transpose(0, 3, 1, 2).copy())
        return [PromptItem(p.instruction, None, p, src[k], enc["ref_codes"][k], enc["ref_latents"][k])
                for k, p in enumerate(pairs)]

    def take(self, n: int) -> list[PromptItem]:
        return self.items(self.pairs(n))


# ---------------------------------------------------------------- 2. rollout (the generation's processors)

def process_logits(logits: torch.Tensor, offset: int, size: int, temperature: float, top_k: int,
                   top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, vocab] -> (scaled image-code logits [B, size] with -inf outside the kept set, kept mask [B, size]).

    The rules of modeling/sampling.process_logits, batched: only image codes; divide by the temperature; keep
    the top_k largest; then the shortest prefix (by probability) whose mass reaches top_p."""
    if temperature <= 0:
        raise ValueError("RL needs stochastic sampling: temperature must be > 0")
    x = logits[:, offset:offset + size].float() / temperature
    keep = torch.ones_like(x, dtype=torch.bool)
    if 0 < top_k < size:
        kth = torch.topk(x, top_k, dim=-1).values[:, -1:]
        keep &= x >= kth
    p = torch.softmax(x.masked_fill(~keep, float("-inf")).double(), -1)  # float64, as the spec sampler
    sp, order = torch.sort(p, descending=True, dim=-1, stable=True)
    before = sp.cumsum(-1) - sp  # mass of the more likely codes
    keep_sorted = (before < top_p) & (sp > 0)
    keep_sorted[:, 0] = True
    keep = torch.zeros_like(keep).scatter(-1, order, keep_sorted)
    return x.masked_fill(~keep, float("-inf")), keep


@dataclass
class Rollout:
    items: list[PromptItem]  # one per row (the group's prompt repeated)
    ids: torch.Tensor  # left-padded prefixes [B, L]
    mask: torch.Tensor  # [B, L]
    codes: torch.Tensor  # sampled codes [B, N] (0..size-1)
    hidden: torch.Tensor  # AR hidden states of <|img_start|> + codes [B, N + 1, D] (the DiT's condition)
    guidance: float = 1.0  # the AR guidance the codes were sampled under (1: none)
    uncond_ids: torch.Tensor | None = None  # with guidance: the empty-prompt twins' left-padded prefixes [B, L']
    uncond_mask: torch.Tensor | None = None


def guidance_for(cfg, editing: bool) -> float:
    """The AR guidance the engine samples with (modeling/generate.py): sampling.cfg_scale, or edit_cfg_scale for
    the edit template."""
    return float(cfg.sampling.edit_cfg_scale if editing else cfg.sampling.cfg_scale)


def guide(logits: torch.Tensor, uncond: torch.Tensor, scale: float) -> torch.Tensor:
    """uncond + scale · (cond − uncond): classifier-free guidance on the AR's logits, as the engine mixes them."""
    return uncond + scale * (logits - uncond)


@torch.no_grad()
def rollout(model: AtelierModel, builder: PromptBuilder, items: list[PromptItem], gen: torch.Generator,
            temperature: float | None = None, guidance: float = 1.0) -> Rollout:
    """Sample each item's codes as the engine does. With guidance != 1 each item's empty-prompt twin (the same
    template; an edit's keeps the reference codes) runs as rows B…2B−1, the logits are mixed before the
    processors, and both rows are fed the sampled code; the hidden states are the conditional rows'."""
    cfg, s = model.cfg, model.cfg.sampling
    t = s.temperature if temperature is None else temperature
    dev = next(model.parameters()).device
    prefixes = [builder.prefix("generate", builder.prompt_ids(it.prompt)) if it.ref_codes is None
                else builder.prefix("edit", builder.prompt_ids(it.prompt), it.ref_codes) for it in items]
    b = len(prefixes)
    guided = guidance != 1.0
    uncond = [builder.prefix("generate", []) if it.ref_codes is None else builder.prefix("edit", [], it.ref_codes)
              for it in items] if guided else []
    ids, mask, pos = builder.left_padded(prefixes, dev)
    if guided:
        u_ids, u_mask, _ = builder.left_padded(uncond, dev)
        all_ids, all_mask, all_pos = builder.left_padded(prefixes + uncond, dev)
    else:
        all_ids, all_mask, all_pos = ids, mask, pos
    rows = all_ids.shape[0]
    pk, pv = model.ar.empty_cache(rows)
    logits, hidden, pk, pv = model.ar(all_ids, all_mask, all_pos, pk, pv)
    hiddens, codes = [hidden[:b, -1]], []
    full_mask, last_pos = all_mask, all_pos[:, -1]
    for _ in range(cfg.code_count):
        last = logits[:, -1].float()
        mixed = guide(last[:b], last[b:], guidance) if guided else last
        x, _ = process_logits(mixed, cfg.image_code_offset, cfg.codebook_size, t, s.top_k, s.top_p)
        code = torch.multinomial(torch.softmax(x, -1), 1, generator=gen)[:, 0]
        codes.append(code)
        feed = torch.cat([code, code]) if guided else code
        full_mask = torch.cat([full_mask, torch.ones((rows, 1), dtype=torch.long, device=dev)], 1)
        last_pos = last_pos + 1
        logits, hidden, pk, pv = model.ar((feed + cfg.image_code_offset)[:, None], full_mask, last_pos[:, None], pk, pv)
        hiddens.append(hidden[:b, -1])
    return Rollout(items, ids, mask, torch.stack(codes, 1), torch.stack(hiddens, 1).float(), guidance,
                   u_ids if guided else None, u_mask if guided else None)


# ---------------------------------------------------------------- 3. render (frozen DiT + VAE)

@torch.no_grad()
def render(model: AtelierModel, hidden: torch.Tensor, gen: torch.Generator, steps: int | None = None) -> np.ndarray:
    """uint8 [B, H, W, 3]: connector(hidden) conditions Euler flow matching with CFG on zeroed conditions."""
    cfg = model.cfg
    b = hidden.shape[0]
    cond = model.connector(hidden)
    c, h, w = cfg.latent_shape
    x = torch.randn((b, c, h, w), generator=gen, device=hidden.device)
    ref, zero = torch.zeros_like(x), torch.zeros_like(cond)
    sig = flow_sigmas(steps or cfg.scheduler.steps, cfg.scheduler.shift)
    for i in range(len(sig) - 1):
        tt = torch.full((b,), float(sig[i]), device=x.device)
        v = model.dit(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([cond, zero]), torch.cat([ref, ref])).float()
        v = v[b:] + cfg.scheduler.cfg_scale * (v[:b] - v[b:])
        x = x + float(sig[i + 1] - sig[i]) * v
    img = model.vae.decode(model.vae.unscale(x)).float()
    return ((img.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def render_edits(model: AtelierModel, roll: Rollout, gen: torch.Generator, steps: int | None = None) -> np.ndarray:
    """uint8 [B, H, W, 3]: the engine's edit (modeling/generate.py) on the rollout's codes: the source's latents
    condition the DiT, and with the model's edit_keep_unchanged the cells whose code the AR kept are blended to
    the source while denoising and take its pixels at the end."""
    from ..backends import TorchBackend
    from ..generate import Params, decode, diffuse, keep_unchanged_blend, paste_kept, regenerate_cells
    cfg, items = model.cfg, roll.items
    backend = TorchBackend(model)
    params = Params.defaults(cfg, steps=steps)
    cond = model.connector(roll.hidden).float().cpu().numpy()
    ref_latents = np.stack([it.ref_latents for it in items]).astype(np.float32)
    noise = torch.randn((len(items), *cfg.latent_shape), generator=gen, device=gen.device).float().cpu().numpy()
    inpaint, regenerate = None, None
    if params.edit_keep_unchanged:
        regenerate = regenerate_cells(roll.codes.cpu().numpy(), np.stack([it.ref_codes for it in items]))
        inpaint = keep_unchanged_blend(cfg, regenerate, ref_latents)
    x = diffuse(backend, cfg, cond, ref_latents, noise, params, inpaint)["latents_final"]
    image = decode(backend, cfg, x)["image"]
    if regenerate is not None:
        image = paste_kept(image, np.stack([it.source for it in items]).transpose(0, 3, 1, 2), regenerate, cfg.code_grid)
    return image.transpose(0, 2, 3, 1)


# ---------------------------------------------------------------- 4. rewards

class Reward(Protocol):
    needs_pixels: bool

    def __call__(self, items: list[PromptItem], codes: torch.Tensor, images: np.ndarray | None) -> tuple[np.ndarray, dict]:
        ...


_WORKER_ASSETS = None


def _init_score_worker(folder: str) -> None:
    global _WORKER_ASSETS
    from ..data.assets import Assets
    _WORKER_ASSETS = Assets(Path(folder))


def _score_chunk(pairs) -> list[dict]:
    from ..eval.score import score_scene
    return [score_scene(img, scene, _WORKER_ASSETS) for scene, img in pairs]


class SceneReward:
    """ocr_weight · OCR reward (sign prompts) + composition_weight · mean of the scorer's background,
    position, object and count judgements (those that apply), divided by the weights that applied."""
    needs_pixels = True

    def __init__(self, ocr_weight: float, composition_weight: float, ocr=None, workers: int | None = None):
        from ..data.assets import Assets
        from .ocr import OcrReward
        self.assets = Assets()
        self.w_ocr, self.w_comp = ocr_weight, composition_weight
        cores = os.cpu_count() or 1  # rewards run on the CPU beside the GPU rollouts
        self.ocr = ocr if ocr is not None else (OcrReward(threads=min(8, cores)) if ocr_weight > 0 else None)
        self.workers = workers if workers is not None else min(8, cores // 2)
        self.pool = None
        if self.workers > 1:  # spawn, not fork: the parent may hold a CUDA context
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_init_score_worker, initargs=(str(self.assets.folder),))

    def parts(self, items: list[PromptItem], images: np.ndarray) -> list[dict[str, float]]:
        from ..eval.score import score_scene
        # the scorer rebuilds its object templates for every new measured background colour (~40 ms an image
        # here): with spare cores, worker processes share the images so a 256-rollout step does not wait on one.
        # They start before the OCR, which runs meanwhile in this process (on the H100 machine the rewards took
        # 5 of a step's 6 s with the two one after the other).
        pairs = [(it.scene, img) for it, img in zip(items, images)]
        futures = None
        if self.pool is not None:
            k = -(-len(pairs) // self.workers)
            futures = [self.pool.submit(_score_chunk, pairs[i:i + k]) for i in range(0, len(pairs), k)]
        ocr = self.ocr(images, [it.prompt for it in items]) if self.ocr is not None else [None] * len(items)
        if futures is not None:
            scores = [s for f in futures for s in f.result()]
        else:
            scores = [score_scene(img, scene, self.assets) for scene, img in pairs]
        rows = []
        for s, o in zip(scores, ocr):
            row = {"composition": float(np.mean([v for k, v in s.items() if k != "text"]))}
            if "text" in s:
                row["text_template"] = s["text"]
            if o is not None:
                row["ocr"] = o
            rows.append(row)
        return rows

    def __call__(self, items, codes, images):
        rewards, rows = [], []
        for p in self.parts(items, images):
            num = self.w_comp * p["composition"] + self.w_ocr * p.get("ocr", 0.0)
            den = self.w_comp + (self.w_ocr if "ocr" in p else 0.0)
            rewards.append(num / den if den > 0 else 0.0)
            rows.append(p)
        means = {k: float(np.mean([r[k] for r in rows if k in r])) for k in ("composition", "ocr", "text_template")
                 if any(k in r for r in rows)}
        return np.asarray(rewards, np.float64), means


class EditReward:
    """The evaluation's edit judgement as a reward: (done + preserved) / 2, where done is 1 if the output shows
    what the instruction asked (modeling/eval/score.py edit_done; sign text read by the OCR) and preserved
    ramps from 0 at 20 dB to 1 at 35 dB of PSNR against the source outside the edited region (the goal is
    ≥ 30 dB there; a ramp, not a step, so a group's rollouts that all miss it still differ).

    combine="product" gives done × preserved instead: the mean lets a policy trade instructions for untouched
    pixels (session 17's run on the edit generator did: done 0.75 → 0.65, ≥ 30 dB 0.64 → 0.70), the product pays
    only for an edit that is both done and kept, which is the goal's measure."""
    needs_pixels = True
    PSNR_LOW, PSNR_HIGH = 20.0, 35.0
    COMBINE = ("mean", "product")

    def __init__(self, ocr=None, assets=None, combine: str = "mean"):
        from ..data.assets import Assets
        if combine not in self.COMBINE:
            raise ValueError(f"edit reward: combine must be one of {self.COMBINE}, got {combine!r}")
        self.assets = assets or Assets()
        self.ocr = ocr
        self.combine = combine

    def parts(self, items: list[PromptItem], images: np.ndarray) -> list[dict[str, float]]:
        from ..data.edits import edit_mask
        from ..eval.score import edit_done, psnr
        rows = []
        for it, img in zip(items, images):
            p = min(psnr(img, it.source, ~edit_mask(it.pair, self.assets)), 60.0)  # identical: inf -> 60 dB
            done = float(edit_done(img, it.pair, self.assets, self.ocr))
            rows.append({"done": done, "preserved": float(np.clip((p - self.PSNR_LOW) / (self.PSNR_HIGH - self.PSNR_LOW), 0, 1)),
                         "psnr_ge_30": float(p >= 30), "success": float(done == 1.0 and p >= 30), "kind": it.pair.kind})
        return rows

    def __call__(self, items, codes, images):
        rows = self.parts(items, images)
        if self.combine == "product":
            rewards = np.asarray([r["done"] * r["preserved"] for r in rows], np.float64)
        else:
            rewards = np.asarray([(r["done"] + r["preserved"]) / 2 for r in rows], np.float64)
        means = {k: float(np.mean([r[k] for r in rows])) for k in ("done", "preserved", "success")}
        return rewards, means


# ---------------------------------------------------------------- 5. advantages

def group_advantages(rewards: torch.Tensor, group_size: int, eps: float = 1e-4) -> torch.Tensor:
    """[P·G] rewards (groups contiguous) -> (r - group mean) / (group std + eps); a constant group gives 0."""
    r = rewards.reshape(-1, group_size).double()
    a = (r - r.mean(1, keepdim=True)) / (r.std(1, unbiased=False, keepdim=True) + eps)
    return a.reshape(-1).float()


# ---------------------------------------------------------------- 6. the loss

def code_logprobs(ar, roll: Rollout, cfg, temperature: float) -> torch.Tensor:
    """log-prob [B, N] of each sampled code under `ar`: softmax over the image codes at the temperature, of the
    guided logits when the rollout was guided (the policy the codes were drawn from)."""
    n = roll.codes.shape[1]
    lo, hi = cfg.image_code_offset, cfg.image_code_offset + cfg.codebook_size

    def code_logits(prefix_ids, prefix_mask):
        ids = torch.cat([prefix_ids, roll.codes + cfg.image_code_offset], 1)
        mask = torch.cat([prefix_mask, torch.ones_like(roll.codes)], 1)
        logits, _ = ar.forward_full(ids, mask)
        return logits[:, -(n + 1):-1, lo:hi].float()

    x = code_logits(roll.ids, roll.mask)
    if roll.guidance != 1.0:
        x = guide(x, code_logits(roll.uncond_ids, roll.uncond_mask), roll.guidance)
    x = x / temperature
    logp = F.log_softmax(x, -1)
    return logp.gather(-1, roll.codes[..., None])[..., 0]


def grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, ref_logp: torch.Tensor, adv: torch.Tensor,
              clip_eps: float, beta: float) -> tuple[torch.Tensor, dict[str, float]]:
    """Token-level clipped surrogate + beta · k3 KL; logp/old/ref [B, N], adv [B]. Mean over all tokens."""
    ratio = torch.exp(logp - old_logp)
    a = adv[:, None]
    pg = -torch.minimum(ratio * a, ratio.clamp(1 - clip_eps, 1 + clip_eps) * a)
    d = ref_logp - logp
    kl = torch.exp(d) - d - 1
    loss = (pg + beta * kl).mean()
    with torch.no_grad():
        stats = {"pg": float(pg.mean()), "kl": float(kl.mean()), "clipped": float(((ratio - 1).abs() > clip_eps).float().mean())}
    return loss, stats


# ---------------------------------------------------------------- the trainer

@dataclass
class GRPO:
    model: AtelierModel
    builder: PromptBuilder
    cfg: GRPOConfig
    reward: Reward
    prompts: Callable[[int], list[PromptItem]]
    edit_prompts: Callable[[int], list[PromptItem]] | None = None  # edit steps (cfg.edit_fraction of them)
    edit_reward: Reward | None = None
    history: list[dict] = field(default_factory=list)

    def __post_init__(self):
        m = self.model
        for p in m.parameters():
            p.requires_grad_(False)
        for p in m.ar.parameters():
            p.requires_grad_(True)
        self.reference = copy.deepcopy(m.ar).eval()
        for p in self.reference.parameters():
            p.requires_grad_(False)
        self.params = [p for p in m.ar.parameters()]
        self.opt = torch.optim.AdamW(self.params, lr=self.cfg.lr, betas=(0.9, 0.99), weight_decay=0.0)
        self.gen = torch.Generator(device=self.cfg.device).manual_seed(self.cfg.seed)
        self.temperature = m.cfg.sampling.temperature
        # the engine samples edits at their own temperature (sampling.edit_temperature); so do edit rollouts,
        # and their log-probs are taken at it
        et = m.cfg.sampling.edit_temperature
        self.edit_temperature = self.temperature if et is None else et
        self.task_rng = np.random.default_rng(self.cfg.seed + 1)
        if self.cfg.edit_fraction > 0 and (self.edit_prompts is None or self.edit_reward is None):
            raise ValueError("edit_fraction > 0 needs edit_prompts and edit_reward")
        self.step_index = 0

    def autocast(self):
        if self.cfg.bf16 and self.cfg.device == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def step(self) -> dict:
        c, m = self.cfg, self.model
        t0 = time.perf_counter()
        editing = c.edit_fraction > 0 and bool(self.task_rng.random() < c.edit_fraction)
        take, reward = (self.edit_prompts, self.edit_reward) if editing else (self.prompts, self.reward)
        temperature = self.edit_temperature if editing else self.temperature
        guidance = guidance_for(m.cfg, editing) if c.ar_guidance else 1.0
        groups = take(c.prompts_per_step)
        items = [it for it in groups for _ in range(c.group_size)]
        m.eval()  # no dropout anywhere: rollout and update see the same network
        with self.autocast():
            roll = rollout(m, self.builder, items, self.gen, temperature, guidance)
            if not reward.needs_pixels:
                images = None
            elif editing:
                images = render_edits(m, roll, self.gen, c.diffusion_steps)
            else:
                images = render(m, roll.hidden, self.gen, c.diffusion_steps)
        t_roll = time.perf_counter()
        rewards, parts = reward(items, roll.codes, images)
        r = torch.as_tensor(rewards, dtype=torch.float32, device=roll.codes.device)
        adv = group_advantages(r, c.group_size, c.adv_eps)
        t_reward = time.perf_counter()
        with torch.no_grad(), self.autocast():
            old = code_logprobs(m.ar, roll, m.cfg, temperature)
            ref = code_logprobs(self.reference, roll, m.cfg, temperature)
        stats = {}
        for _ in range(c.updates_per_batch):
            with self.autocast():
                logp = code_logprobs(m.ar, roll, m.cfg, temperature)
            loss, stats = grpo_loss(logp, old, ref, adv, c.clip_eps, c.beta_kl)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = float(torch.nn.utils.clip_grad_norm_(self.params, c.grad_clip))
            self.opt.step()
        self.step_index += 1
        row = {"step": self.step_index, "task": "edit" if editing else "generate", "reward": float(rewards.mean()), "reward_std": float(rewards.std()),
               **{f"reward_{k}": v for k, v in parts.items()}, **stats, "grad_norm": gnorm,
               "rollout_s": round(t_roll - t0, 2), "reward_s": round(t_reward - t_roll, 2),
               "update_s": round(time.perf_counter() - t_reward, 2)}
        self.history.append(row)
        return row

    def run(self, log: Callable[[str], None] = print) -> list[dict]:
        c = self.cfg
        t0, last = time.perf_counter(), -1e9
        while time.perf_counter() - t0 < c.seconds and self.step_index < c.max_steps:
            row = self.step()
            row["elapsed"] = round(time.perf_counter() - t0, 1)
            if row["elapsed"] - last >= c.log_every_s or self.step_index == 1:
                last = row["elapsed"]
                log(f"[rl] step {row['step']} {row['elapsed']:.0f}/{c.seconds:.0f}s {row['task']} reward {row['reward']:.3f} "
                    + " ".join(f"{k[7:]} {v:.3f}" for k, v in row.items() if k.startswith("reward_") and k not in ("reward_std", "reward_s"))
                    + f" kl {row['kl']:.2e} pg {row['pg']:+.3f} (rollout {row['rollout_s']}s reward {row['reward_s']}s "
                    f"update {row['update_s']}s)")
        return self.history


# ---------------------------------------------------------------- evaluation (held-out prompts, fixed seeds)

@torch.no_grad()
def evaluate(model: AtelierModel, builder: PromptBuilder, reward: SceneReward, n_sign: int, n_other: int,
             seed: int = 0, steps: int | None = None, batch: int = 32, bf16: bool = False, guidance: float = 1.0):
    """One image per held-out prompt (the split the eval command uses), the same seeds every call, scored
    by the OCR reader (exact match = reward 1.0) and the evaluation's scorer; PyTorch, not the bundle, with the
    AR guided at `guidance`. Returns (scores, images, prompts)."""
    from ..eval.run import heldout_prompts
    from ..eval.score import score_scene
    dev = next(model.parameters()).device
    per_layout = max(1, n_other // 3)
    triples = heldout_prompts(reward.assets, per_layout, per_layout, n_sign, n_other - 2 * per_layout, seed)
    gen = torch.Generator(device=dev).manual_seed(seed)
    images = []
    ac = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 and dev.type == "cuda" else contextlib.nullcontext()
    for s in range(0, len(triples), batch):
        items = [PromptItem(p, sc) for sc, p, _ in triples[s:s + batch]]
        with ac:
            roll = rollout(model, builder, items, gen, guidance=guidance)
            images.append(render(model, roll.hidden, gen, steps))
    images = np.concatenate(images)
    cats: dict[str, list[float]] = {}
    prompts = [p for _, p, _ in triples]
    ocr = reward.ocr(images, prompts) if reward.ocr is not None else [None] * len(prompts)
    for (scene, prompt, _), img, r in zip(triples, images, ocr):
        for k, v in score_scene(img, scene, reward.assets).items():
            cats.setdefault(k, []).append(v)
        if r is not None:
            cats.setdefault("ocr_reward", []).append(r)
            cats.setdefault("ocr_exact", []).append(float(r == 1.0))
    out = {k: float(np.mean(v)) for k, v in cats.items()}
    out["n"] = len(triples)
    return out, images, prompts


@torch.no_grad()
def evaluate_edits(model: AtelierModel, builder: PromptBuilder, stream: EditPrompts, reward: EditReward, n: int,
                   seed: int = 0, steps: int | None = None, batch: int = 16,
                   guidance: float = 1.0) -> tuple[dict, np.ndarray, list[PromptItem]]:
    """One edit per held-out pair (the pairs the eval command draws for this seed), the same draws every call,
    judged by EditReward's parts; PyTorch, not the bundle. Returns (scores, images [n, H, W, 3], items)."""
    dev = next(model.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed + 1)
    et = model.cfg.sampling.edit_temperature
    temperature = model.cfg.sampling.temperature if et is None else et
    items = stream.items(stream.pairs(n, split="heldout", stream="eval-edit", start=0, seed=seed))
    images, rows = [], []
    for s in range(0, n, batch):
        chunk = items[s:s + batch]
        roll = rollout(model, builder, chunk, gen, temperature, guidance)
        images.append(render_edits(model, roll, gen, steps))
        rows += reward.parts(chunk, images[-1])
    out = {k: float(np.mean([r[k] for r in rows])) for k in ("done", "psnr_ge_30", "success", "preserved")}
    out["done_by_kind"] = {k: float(np.mean([r["done"] for r in rows if r["kind"] == k])) for k in sorted({r["kind"] for r in rows})}
    out["n"] = n
    return out, np.concatenate(images), items


# ---------------------------------------------------------------- CLI

def train_rl(model: AtelierModel, tokenizer, cfg: GRPOConfig, out: Path, log: Callable[[str], None] = print,
             eval_steps: int | None = None) -> dict:
    """Evaluate, run GRPO for cfg.seconds, evaluate again; writes rl_history.json, rl_eval.json, rl_grid.png."""
    from ..train.preview import grid_png
    out.mkdir(parents=True, exist_ok=True)
    model.to(cfg.device)
    builder = PromptBuilder(model.cfg, tokenizer)
    reward = SceneReward(cfg.ocr_weight, cfg.composition_weight)
    stream = ScenePrompts(cfg.seed, cfg.split, cfg.sign_fraction, cfg.narrow_sign_fraction)
    guidance = guidance_for(model.cfg, False) if cfg.ar_guidance else 1.0
    edit_guidance = guidance_for(model.cfg, True) if cfg.ar_guidance else 1.0
    log(f"[rl] AR guidance: text-to-image {guidance}, edits {edit_guidance} (1 = none)")
    t = time.time()
    before, imgs_before, prompts = evaluate(model, builder, reward, cfg.eval_sign, cfg.eval_other, steps=eval_steps,
                                            bf16=cfg.bf16, guidance=guidance)
    log(f"[rl] eval before ({time.time() - t:.0f}s): {json.dumps(before)}")
    edits, edit_reward, edit_before = None, None, None
    if cfg.edit_fraction > 0:
        edits, edit_reward = EditPrompts(model, cfg.seed, cfg.split), EditReward(reward.ocr, reward.assets, cfg.edit_reward)
        t = time.time()
        edit_before, edit_imgs_before, edit_items = evaluate_edits(model, builder, edits, edit_reward, cfg.eval_edits, steps=eval_steps,
                                                                      guidance=edit_guidance)
        log(f"[rl] edit eval before ({time.time() - t:.0f}s): {json.dumps(edit_before)}")
    trainer = GRPO(model, builder, cfg, reward, stream.take, edits.take if edits else None, edit_reward)
    t = time.time()
    history = trainer.run(log)
    train_s = time.time() - t
    (out / "rl_history.json").write_text(json.dumps(history, indent=0))
    after, imgs_after, _ = evaluate(model, builder, reward, cfg.eval_sign, cfg.eval_other, steps=eval_steps, bf16=cfg.bf16,
                                    guidance=guidance)
    log(f"[rl] eval after: {json.dumps(after)}")
    edit_after = None
    if edits is not None:
        edit_after, edit_imgs_after, _ = evaluate_edits(model, builder, edits, edit_reward, cfg.eval_edits, steps=eval_steps,
                                                                      guidance=edit_guidance)
        log(f"[rl] edit eval after: {json.dumps(edit_after)}")
    for p in model.parameters():
        p.requires_grad_(True)
    k = max(1, len(history) // 5)
    report = {"config": dataclasses.asdict(cfg), "ar_guidance": {"generate": guidance, "edit": edit_guidance},
              "steps": len(history), "seconds": round(train_s, 1),
              "rollouts": len(history) * cfg.prompts_per_step * cfg.group_size,
              "reward_first_steps": float(np.mean([h["reward"] for h in history[:k]])) if history else None,
              "reward_last_steps": float(np.mean([h["reward"] for h in history[-k:]])) if history else None,
              "eval_before": before, "eval_after": after,
              **({"edit_eval_before": edit_before, "edit_eval_after": edit_after} if edits is not None else {}),
              "eval_note": "held-out prompts, one image each, same seeds before/after, PyTorch; ocr_exact = OCR read "
                           "contains the word; background/position/object/count/text = modeling/eval/score.py"}
    (out / "rl_eval.json").write_text(json.dumps(report, indent=1))
    show = list(range(min(12, len(prompts))))
    rows, labels = [[imgs_before[i], imgs_after[i]] for i in show], [prompts[i] for i in show]
    if edits is not None:
        shown = range(min(8, len(edit_items)))
        rows += [[edit_items[i].source, edit_imgs_before[i], edit_imgs_after[i]] for i in shown]
        labels += [f"EDIT: {edit_items[i].prompt}  [source | before | after]" for i in shown]
    grid_png(rows, labels, out / "rl_grid.png", "RL: before | after (same seed)")
    return report


RL_SUMMARY_KEYS = ("steps", "seconds", "rollouts", "reward_first_steps", "reward_last_steps", "eval_before", "eval_after",
                   "edit_eval_before", "edit_eval_after")


def run_summary(checkpoint: Path, report: dict) -> dict:
    """summary.json of an RL run on a committed checkpoint: the summary of the run that made the checkpoint (beside
    it, when there) with this stage added as "rl", so an export's provenance names both (modeling/train/ship.py)."""
    beside = checkpoint.parent / "summary.json"
    summary = json.loads(beside.read_text()) if beside.exists() else {"init": str(checkpoint)}
    if summary.get("rl"):  # the checkpoint is itself an RL run's: its stage stays on record, in order
        summary["rl_earlier"] = summary.get("rl_earlier", []) + [summary["rl"]]
    summary["rl"] = {k: report.get(k) for k in RL_SUMMARY_KEYS}
    summary["rl"]["from"] = str(checkpoint)
    return summary


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, GRPOConfig]:
    """The command line and the config it gives: the preset's, with any flag given put over it."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--preset", choices=("cpu", "gpu"), default="cpu")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--max-steps", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--group-size", type=int)
    ap.add_argument("--prompts-per-step", type=int)
    ap.add_argument("--ocr-weight", type=float)
    ap.add_argument("--composition-weight", type=float)
    ap.add_argument("--beta-kl", type=float, help="weight of the KL to the starting AR (default: the reference's 0.001)")
    ap.add_argument("--seed", type=int, help="seed of the rollout prompts and sampling (a further round on an RL'd model "
                    "takes a new one, so it meets prompts the last round did not)")
    ap.add_argument("--sign-fraction", type=float, help="share of rollout prompts with a sign")
    ap.add_argument("--narrow-sign-fraction", type=float, help="share of sign prompts whose word has an I or J "
                    "(default 0: as the data engine draws them)")
    ap.add_argument("--sampling-like", type=Path, help="a bundle folder: roll out with its sampling and scheduler settings "
                    "(AR guidance, edit temperature, keep-unchanged, DiT guidance; the preset's diffusion steps stay), "
                    "which a training checkpoint's config may not carry; saved with the RL'd checkpoint")
    ap.add_argument("--ar-cfg-scale", type=float, help="the AR guidance the bundle will sample text-to-image with "
                    "(sampling.cfg_scale; default: the checkpoint's config's); saved with the RL'd checkpoint")
    ap.add_argument("--edit-ar-cfg-scale", type=float, help="the same for edits (sampling.edit_cfg_scale)")
    ap.add_argument("--no-ar-guidance", action="store_true", help="roll out unguided (as runs until session 16 did) "
                    "instead of at the config's AR guidance")
    ap.add_argument("--edit-fraction", type=float, help="share of steps that are edit steps (default 0: none)")
    ap.add_argument("--edit-reward", choices=EditReward.COMBINE, help="how edit steps score done and preserved: their "
                    "mean (default) or their product (only an edit both done and kept pays)")
    ap.add_argument("--eval-steps", type=int, help="diffusion steps of the before/after evaluation (default: the config's)")
    args = ap.parse_args(argv)
    cfg = preset(args.preset, args.seconds)
    for k in ("max_steps", "lr", "group_size", "prompts_per_step", "ocr_weight", "composition_weight", "beta_kl",
              "seed", "sign_fraction", "narrow_sign_fraction", "edit_fraction", "edit_reward"):
        if getattr(args, k) is not None:
            setattr(cfg, k, getattr(args, k))
    if args.no_ar_guidance:
        cfg.ar_guidance = False
    return args, cfg


def sampling_like(cfg, bundle: Path) -> None:
    """Put a bundle's sampling and scheduler settings on a model config (in place): how the engine will sample."""
    from ..config import SamplingConfig, SchedulerConfig
    meta = json.loads((bundle / "bundle.json").read_text())
    cfg.sampling = SamplingConfig(**meta["config"]["sampling"])
    cfg.scheduler = SchedulerConfig(**meta["config"]["scheduler"])


def main(argv: list[str] | None = None) -> None:
    from ..checkpoint import load_checkpoint, save_checkpoint
    args, cfg = parse_args(argv)
    torch.manual_seed(cfg.seed)
    model, tokenizer = load_checkpoint(args.checkpoint)
    model = model.float()
    if args.sampling_like is not None:
        sampling_like(model.cfg, args.sampling_like)
    if args.ar_cfg_scale is not None:
        model.cfg.sampling.cfg_scale = float(args.ar_cfg_scale)
    if args.edit_ar_cfg_scale is not None:
        model.cfg.sampling.edit_cfg_scale = float(args.edit_ar_cfg_scale)
    log = lambda s: print(f"{time.strftime('%H:%M:%S')} {s}", flush=True)
    report = train_rl(model, tokenizer, cfg, args.out, log, args.eval_steps)
    save_checkpoint(args.out / "model.safetensors", model.cpu(), tokenizer)
    (args.out / "summary.json").write_text(json.dumps(run_summary(args.checkpoint, report), indent=1))
    log(f"[rl] wrote {args.out / 'model.safetensors'}; reward first {report['reward_first_steps']} last {report['reward_last_steps']}")


if __name__ == "__main__":
    main()
