"""The training data pool: scenes and edit pairs rendered once at the start, held on the training device.

Rendering is deterministic from (seed, split, index) (modeling/data), so a resumed run rebuilds the same
pool. After stage 1 the pool also gets each image's FSQ codes and scaled VAE latents (encode_pool), so
stages 2-3 never run the autoencoders in the training loop.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..data.dataset import make_edits, make_scenes
from .sequences import PromptBuilder


@dataclass
class Pool:
    images: torch.Tensor  # uint8 [N, 64, 64, 3] on device
    captions: list[str]
    edit_src: torch.Tensor  # uint8 [M, 64, 64, 3]
    edit_tgt: torch.Tensor
    instructions: list[str]
    edit_kinds: list[str]
    signs: np.ndarray | None = None  # bool [N]: the scene shows a sign
    # cumulative probability of drawing each text-to-image row (None: uniform); set by weight_signs
    gen_cdf: np.ndarray | None = None
    # filled by encode_pool after stage 1
    codes: torch.Tensor | None = None  # int64 [N, count]
    latents: torch.Tensor | None = None  # [N, C, h, w] scaled
    edit_src_codes: torch.Tensor | None = None
    edit_tgt_codes: torch.Tensor | None = None
    edit_src_latents: torch.Tensor | None = None
    edit_tgt_latents: torch.Tensor | None = None
    # filled by build_rows
    gen_ids: torch.Tensor | None = None  # int64 [N, L] left-padded
    gen_mask: torch.Tensor | None = None
    gen_len: np.ndarray | None = None  # unpadded length of each row (host memory: no device sync to trim)
    edit_ids: torch.Tensor | None = None
    edit_mask: torch.Tensor | None = None
    edit_len: np.ndarray | None = None
    # the same rows with an empty prompt (the AR's unconditional branch for classifier-free guidance),
    # left-padded to the width of the rows above so a batch can swap rows in place
    gen_uncond_ids: torch.Tensor | None = None
    gen_uncond_mask: torch.Tensor | None = None
    edit_uncond_ids: torch.Tensor | None = None
    edit_uncond_mask: torch.Tensor | None = None


def build_pool(n_scenes: int, n_edits: int, seed: int, device: str, log=print) -> Pool:
    t = time.time()
    workers = min(16, os.cpu_count() or 1)
    scenes = make_scenes(n_scenes, seed=seed, split="train", workers=workers)
    edits = make_edits(n_edits, seed=seed, split="train", workers=workers)
    dt = time.time() - t
    log(f"data pool: {n_scenes} scenes + {n_edits} edit pairs rendered in {dt:.1f}s "
        f"({(n_scenes + 2 * n_edits) / max(dt, 1e-9):.0f} images/s, {workers} processes)")
    to = lambda a: torch.from_numpy(a).to(device)
    return Pool(to(scenes.images), scenes.captions, to(edits.sources), to(edits.targets), edits.instructions, edits.kinds,
                signs=scenes.signs)


def weight_signs(pool: Pool, share: float) -> None:
    """Draw text-to-image rows so that `share` of them show a sign, the rest keeping their own mix.

    The pool itself stays as rendered (a resumed run rebuilds it from the seed); only the draw changes.
    Made for a short continuation that gives sign text, where the AR's codes lose it, more practice
    without a new layout mix in the data engine."""
    if not 0.0 < share < 1.0:
        raise ValueError(f"sign share must be between 0 and 1 (exclusive), got {share}")
    signs = pool.signs
    if signs is None or not signs.any() or signs.all():
        raise ValueError("the pool needs scenes with and without a sign to weight them")
    w = np.where(signs, share / signs.sum(), (1.0 - share) / (~signs).sum())
    # kept cumulative: a draw is then a binary search per row (0.25 ms for 1,024 rows of 500,000 here, against
    # 4 ms for np.random.choice with p, which rebuilds the sums every step)
    cdf = np.cumsum(w)
    pool.gen_cdf = cdf / cdf[-1]


def to_float(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 [B, H, W, 3] -> float32 [B, 3, H, W] in [-1, 1]."""
    return images_u8.permute(0, 3, 1, 2).float() / 127.5 - 1.0


@torch.no_grad()
def encode_images(model, images_u8: torch.Tensor, batch: int = 1024):
    """FSQ codes and scaled VAE latents, in fp32 like the exported graphs (bf16 could flip FSQ roundings)."""
    codes, lats = [], []
    for i in range(0, len(images_u8), batch):
        x = to_float(images_u8[i:i + batch])
        codes.append(model.image_tokenizer.encode(x))
        lats.append(model.vae.scale(model.vae.encode(x)[0]).float())
    return torch.cat(codes), torch.cat(lats)


def encode_pool(model, pool: Pool) -> None:
    model.eval()
    pool.codes, pool.latents = encode_images(model, pool.images)
    pool.edit_src_codes, pool.edit_src_latents = encode_images(model, pool.edit_src)
    pool.edit_tgt_codes, pool.edit_tgt_latents = encode_images(model, pool.edit_tgt)


def _left_pad_to(ids: np.ndarray, mask: np.ndarray, width: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    extra = width - ids.shape[1]
    if extra < 0:
        raise ValueError(f"rows of width {ids.shape[1]} do not fit in {width}")
    return (np.pad(ids, ((0, 0), (extra, 0)), constant_values=pad), np.pad(mask, ((0, 0), (extra, 0))))


def build_rows(pool: Pool, builder: PromptBuilder, device: str) -> None:
    """Token rows for every pool item (prompt ids are computed once; codes come from encode_pool), and the
    same rows with an empty prompt. An empty prompt is never longer than a real one, so those fit the width."""
    def put(ids, mask):
        return torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device)

    codes = pool.codes.cpu().numpy()
    ids, mask = builder.rows("generate", builder.prompt_ids_batch(pool.captions), codes)
    pool.gen_ids, pool.gen_mask = put(ids, mask)
    pool.gen_len = mask.sum(1)
    pool.gen_uncond_ids, pool.gen_uncond_mask = put(*_left_pad_to(
        *builder.rows("generate", [[]] * len(codes), codes), ids.shape[1], builder.pad))
    tgt, src = pool.edit_tgt_codes.cpu().numpy(), pool.edit_src_codes.cpu().numpy()
    ids, mask = builder.rows("edit", builder.prompt_ids_batch(pool.instructions), tgt, src)
    pool.edit_ids, pool.edit_mask = put(ids, mask)
    pool.edit_len = mask.sum(1)
    pool.edit_uncond_ids, pool.edit_uncond_mask = put(*_left_pad_to(
        *builder.rows("edit", [[]] * len(tgt), tgt, src), ids.shape[1], builder.pad))


def batch_rows(ids: torch.Tensor, mask: torch.Tensor, lengths: np.ndarray, batch: int, device: str,
               uncond: tuple[torch.Tensor, torch.Tensor] | None = None, prompt_drop: float = 0.0,
               cdf: np.ndarray | None = None):
    """A random batch of rows without the leading columns that are padding in all of them.

    With `uncond` (the same rows with an empty prompt), a `prompt_drop` share of the batch takes its
    unconditional row: the AR learns p(codes | empty prompt) next to p(codes | prompt), which classifier-free
    guidance on the AR logits needs (`sampling.cfg_scale`). The indices and the drop draw are made on the
    host, so neither the trim nor the swap needs a device round trip. `cdf`: the rows' cumulative probabilities
    of being drawn (weight_signs); uniform without."""
    if cdf is None:
        idx = np.random.randint(0, len(lengths), batch)
    else:
        idx = np.minimum(np.searchsorted(cdf, np.random.rand(batch), side="right"), len(lengths) - 1)
    keep = int(lengths[idx].max())
    idx_t = torch.from_numpy(idx).to(device, non_blocking=True)
    rows, row_mask = ids[idx_t, -keep:], mask[idx_t, -keep:]
    if uncond is not None and prompt_drop > 0:
        drop = np.random.rand(batch) < prompt_drop
        if drop.any():
            d = torch.from_numpy(drop).to(device, non_blocking=True)[:, None]
            rows = torch.where(d, uncond[0][idx_t, -keep:], rows)
            row_mask = torch.where(d, uncond[1][idx_t, -keep:], row_mask)
    return idx_t, rows, row_mask
