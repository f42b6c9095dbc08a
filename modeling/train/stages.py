"""The training stages, top to bottom. Each stage is a time-budgeted loop over one step function.

Stage 0  tokenizer      byte-level BPE on the caption corpus (captions.txt of the prepared data folder)
Stage 1  autoencoders   VAE (MSE + tiny KL) and FSQ image tokenizer (MSE through the straight-through
                        quantiser) on rendered scenes; then the latent scale/shift is fitted and every pool
                        image is encoded once (codes + scaled latents)
Stage 2  generator      AR cross-entropy on the image codes + DiT flow matching conditioned on
                        connector(AR hidden states at <|img_start|> + codes); teacher forcing with the true
                        codes; 10% of conditions zeroed (the DiT's CFG branch), 10% of prompts emptied (the
                        AR's CFG branch). AR, connector and DiT train together.
Stage 3  edit           the same two losses on edit sequences (reference codes in the prompt, reference
                        latents into the DiT), alternating with text-to-image steps so generation is kept
Stage 4  rl             GRPO on the AR (OCR + composition rewards, DiT frozen): modeling/rl/grpo.py,
                        run by run.py after stage 3 when --rl-seconds > 0
"""
from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

from ..model import AtelierModel
from ..text_tokenizer import train_tokenizer
from .pool import Pool, batch_rows, build_rows, encode_pool, to_float
from .presets import StageBudget, TrainPreset
from .sequences import PromptBuilder

STAGES = ("autoencoders", "generator", "edit")


# ---------------------------------------------------------------- stage 0: text tokenizer

def train_text_tokenizer(data_folder: Path, vocab_size: int) -> Tokenizer:
    """BPE on the caption corpus; capitals (sign text) are spelled letter by letter (text_tokenizer.py)."""
    corpus = (data_folder / "captions.txt").read_text().splitlines()
    return train_tokenizer(corpus, vocab_size, spell_capitals=True)


# ---------------------------------------------------------------- the time-budgeted loop

@dataclass
class StageProgress:
    stage: str
    step: int = 0
    elapsed: float = 0.0  # seconds spent in this stage (carried over a resume)
    done: bool = False


@dataclass
class Context:
    """What the loop needs besides the step: budget, logging, periodic checkpoint/grid hooks."""
    preset: TrainPreset
    history: list[dict] = field(default_factory=list)
    log: Callable[[str], None] = print
    on_checkpoint: Callable[[], None] = lambda: None
    on_grid: Callable[[str], None] = lambda stage: None

    def autocast(self):
        if self.preset.autocast_bf16 and self.preset.device == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()


def lr_at(base: float, frac: float, step: int, warmup_steps: int = 100) -> float:
    """Linear warm-up, then cosine from base down to 10% of base at the end of the time budget."""
    warm = min(1.0, (step + 1) / warmup_steps)
    return base * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def run_stage(ctx: Context, progress: StageProgress, budget: StageBudget, opt: torch.optim.Optimizer,
              params: list[torch.nn.Parameter], step_fn: Callable[[int], dict[str, torch.Tensor]]) -> None:
    seconds = ctx.preset.seconds * budget.share
    ctx.log(f"[{progress.stage}] start at step {progress.step}, {progress.elapsed:.0f}/{seconds:.0f}s, batch {budget.batch}, lr {budget.lr}")
    t_last = time.perf_counter()
    last_ckpt = last_grid = progress.elapsed
    sums: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}
    log_every = 25  # mean losses are read back (a device sync) every 25 steps into the history
    print_every_s, last_print = 10.0, progress.elapsed
    while progress.elapsed < seconds and progress.step < budget.max_steps:
        lr = lr_at(budget.lr, progress.elapsed / seconds, progress.step)
        for g in opt.param_groups:
            g["lr"] = lr
        losses = step_fn(progress.step)
        total = sum(losses.values())
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        progress.step += 1
        for k, v in losses.items():  # summed on the device: no sync until the history is written
            sums[k] = sums.get(k, 0.0) + v.detach().float()
            counts[k] = counts.get(k, 0) + 1
        now = time.perf_counter()
        progress.elapsed += now - t_last
        t_last = now
        if progress.step % log_every == 0 or progress.step == 1:
            means = {k: float(v) / counts[k] for k, v in sums.items()}
            ctx.history.append({"stage": progress.stage, "step": progress.step, "elapsed": round(progress.elapsed, 2), "lr": lr, **means})
            sums, counts = {}, {}
            if progress.elapsed - last_print >= print_every_s or progress.step == 1:
                last_print = progress.elapsed
                ctx.log(f"[{progress.stage}] step {progress.step} {progress.elapsed:.0f}/{seconds:.0f}s "
                        f"{progress.step / max(progress.elapsed, 1e-9):.1f} steps/s lr {lr:.2e} "
                        + " ".join(f"{k} {v:.4f}" for k, v in means.items()))
        if progress.elapsed - last_ckpt >= ctx.preset.checkpoint_every_s:
            ctx.on_checkpoint()
            last_ckpt = progress.elapsed
            t_last = time.perf_counter()  # checkpoint time does not count against the stage
        if progress.elapsed - last_grid >= ctx.preset.grid_every_s:
            ctx.on_grid(progress.stage)
            last_grid = progress.elapsed
            t_last = time.perf_counter()
    if sums:  # the last partial window
        ctx.history.append({"stage": progress.stage, "step": progress.step, "elapsed": round(progress.elapsed, 2),
                            "lr": lr, **{k: float(v) / counts[k] for k, v in sums.items()}})
    progress.done = True
    ctx.log(f"[{progress.stage}] done: {progress.step} steps in {progress.elapsed:.0f}s "
            f"({progress.step / max(progress.elapsed, 1e-9):.2f} steps/s)")


def _batch_index(n: int, batch: int, device: str) -> torch.Tensor:
    return torch.randint(0, n, (batch,), device=device)


# ---------------------------------------------------------------- stage 1: autoencoders

def autoencoder_step(model: AtelierModel, pool: Pool, ctx: Context, budget: StageBudget):
    n = len(pool.images)

    def step(_i: int) -> dict[str, torch.Tensor]:
        x = to_float(pool.images[_batch_index(n, budget.batch, ctx.preset.device)])
        with ctx.autocast():
            return {"vae": model.vae.loss(x), "tokenizer": model.image_tokenizer.loss(x)}
    return step


@torch.no_grad()
def fit_latent_scale(model: AtelierModel, pool: Pool, n: int = 4096) -> tuple[float, float]:
    """shift = mean, scale = 1/std of the raw VAE latents over training images (so noise and data match)."""
    model.eval()
    raw = torch.cat([model.vae.encode(to_float(pool.images[i:i + 512]))[0] for i in range(0, min(n, len(pool.images)), 512)])
    shift, std = float(raw.mean()), float(raw.std())
    model.cfg.vae.shift_factor = shift
    model.cfg.vae.scaling_factor = 1.0 / max(std, 1e-6)
    return shift, model.cfg.vae.scaling_factor


def prepare_generator_data(model: AtelierModel, pool: Pool, builder: PromptBuilder, ctx: Context, refit: bool = True) -> None:
    t = time.time()
    if refit:
        shift, scale = fit_latent_scale(model, pool)
    else:  # a continued run keeps the scale its DiT was trained with
        shift, scale = model.cfg.vae.shift_factor, model.cfg.vae.scaling_factor
    encode_pool(model, pool)
    build_rows(pool, builder, ctx.preset.device)
    used = len(torch.unique(pool.codes))
    ctx.log(f"encoded the pool in {time.time() - t:.1f}s: latent shift {shift:.4f} scale {scale:.4f}; "
            f"{used}/{model.cfg.codebook_size} codes used; rows {tuple(pool.gen_ids.shape)} gen, {tuple(pool.edit_ids.shape)} edit")


# ---------------------------------------------------------------- stages 2 and 3: AR + DiT

# Share of rows whose AR condition is replaced by zeros (the CFG unconditional branch). Edit rows drop it
# more often: with the condition kept, the true target codes already describe the picture and the DiT learned
# to ignore the reference latents (measured on the first nano checkpoints: the unconditional branch of a
# "keep it unchanged" edit gave 12.7 dB against the reference, the conditional one 23 dB from the true codes,
# while the VAE round trip is 31.7 dB). Without the condition the reference is all the DiT has to go on.
COND_DROP = 0.1
EDIT_COND_DROP = 0.3
# Share of AR rows trained with an empty prompt (generate and edit alike), so the AR has an unconditional
# branch for classifier-free guidance on its logits (as LlamaGen does with dropped class labels).
PROMPT_DROP = 0.1


def generator_losses(model: AtelierModel, ids: torch.Tensor, mask: torch.Tensor, codes: torch.Tensor,
                     latents: torch.Tensor, ref_latents: torch.Tensor | None,
                     cond_drop_prob: float = COND_DROP) -> dict[str, torch.Tensor]:
    """Cross-entropy of the image codes + flow matching conditioned on the AR hidden states.

    Rows are left-padded, so the last count + 1 positions are <|img_start|>, c_0 … c_{n-1}; the logits at
    positions -(n+1) … -2 predict c_0 … c_{n-1}; the hidden states of all n + 1 condition the DiT."""
    n = codes.shape[1]
    logits, hidden = model.ar.forward_full(ids, mask)
    code_logits = logits[:, -(n + 1):-1]
    ce = F.cross_entropy(code_logits.reshape(-1, code_logits.shape[-1]).float(),
                         (codes + model.cfg.image_code_offset).reshape(-1))
    cond = model.connector(hidden[:, -(n + 1):])
    fm = model.dit.loss(latents, cond, ref_latents, cond_drop_prob=cond_drop_prob)
    return {"ar_ce": ce, "flow": fm}


def generator_step(model: AtelierModel, pool: Pool, ctx: Context, budget: StageBudget):

    def step(_i: int) -> dict[str, torch.Tensor]:
        idx, ids, mask = batch_rows(pool.gen_ids, pool.gen_mask, pool.gen_len, budget.batch, ctx.preset.device,
                                    (pool.gen_uncond_ids, pool.gen_uncond_mask), PROMPT_DROP, pool.gen_cdf)
        with ctx.autocast():
            return generator_losses(model, ids, mask, pool.codes[idx], pool.latents[idx], None)
    return step


def edit_step(model: AtelierModel, pool: Pool, ctx: Context, budget: StageBudget):
    gen = generator_step(model, pool, ctx, budget)

    def step(i: int) -> dict[str, torch.Tensor]:
        if i % 2 == 1:  # keep text-to-image alive
            return {f"t2i_{k}": v for k, v in gen(i).items()}
        idx, ids, mask = batch_rows(pool.edit_ids, pool.edit_mask, pool.edit_len, budget.batch, ctx.preset.device,
                                    (pool.edit_uncond_ids, pool.edit_uncond_mask), PROMPT_DROP)
        with ctx.autocast():
            losses = generator_losses(model, ids, mask, pool.edit_tgt_codes[idx], pool.edit_tgt_latents[idx],
                                      pool.edit_src_latents[idx], cond_drop_prob=EDIT_COND_DROP)
        return {f"edit_{k}": v for k, v in losses.items()}
    return step


GENERATOR_PARTS = ("ar", "connector", "dit")


def check_frozen(frozen: tuple[str, ...]) -> None:
    unknown = set(frozen) - set(GENERATOR_PARTS)
    if unknown:
        raise ValueError(f"cannot freeze {sorted(unknown)}: the generator parts are {', '.join(GENERATOR_PARTS)}")
    if set(frozen) == set(GENERATOR_PARTS):
        raise ValueError("every generator part is frozen: nothing would train")


def stage_parameters(model: AtelierModel, stage: str, frozen: tuple[str, ...] = ()) -> list[torch.nn.Parameter]:
    """The parameters a stage trains. Frozen generator parts get requires_grad=False (no weight gradients are
    computed for them), but gradients still flow through them to the parts before."""
    if stage == "autoencoders":
        return list(model.vae.parameters()) + list(model.image_tokenizer.parameters())
    check_frozen(frozen)
    params: list[torch.nn.Parameter] = []
    for part in GENERATOR_PARTS:
        module = getattr(model, part)
        module.requires_grad_(part not in frozen)
        if part not in frozen:
            params += list(module.parameters())
    return params


def make_optimizer(params: list[torch.nn.Parameter], lr: float, device: str) -> torch.optim.Optimizer:
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.98), fused=device == "cuda")


# ---------------------------------------------------------------- batch-size probe (GPU runs)

def probe_batch_sizes(model: AtelierModel, pool: Pool, ctx: Context, batches: list[int], seconds: float = 4.0,
                      warmup: int = 3) -> dict[int, float]:
    """Rows per second of the generator step (forward, backward, AdamW) at each batch size, timed on a copy of the
    model so the run's weights and optimizer are untouched. The nano model is small for a GPU: if a step costs
    about the same time at a larger batch, the run sees more rows per second there."""
    cuda = ctx.preset.device == "cuda"
    rates = {}
    for b in batches:
        m = copy.deepcopy(model).train()
        params = stage_parameters(m, "generator")
        opt = make_optimizer(params, 1e-7, ctx.preset.device)
        step = generator_step(m, pool, ctx, StageBudget(1.0, b, 1e-7))

        def one(i: int) -> None:
            total = sum(step(i).values())
            opt.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)  # as run_stage does
            opt.step()
        for i in range(warmup):
            one(i)
        if cuda:
            torch.cuda.synchronize()
        t, n = time.perf_counter(), 0
        while True:
            one(n)
            n += 1
            if n % 5 == 0:
                if cuda:
                    torch.cuda.synchronize()
                if time.perf_counter() - t >= seconds:
                    break
        rates[b] = n * b / (time.perf_counter() - t)
        del m, opt, params, step
    if cuda:
        torch.cuda.empty_cache()
    return rates


def choose_batch(rates: dict[int, float], base: int, min_gain: float = 1.3) -> int:
    """The batch with the most rows per second, if it beats `base` by min_gain (a smaller gain is not worth
    changing the recipe's batch and learning rate for); else base."""
    best = max(rates, key=lambda b: rates[b])
    return best if base in rates and rates[best] >= min_gain * rates[base] else base
