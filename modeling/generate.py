"""The reference generation pipeline (docs/bundle-spec.md, "The generation algorithm").

    python -m modeling.generate --bundle DIR | --checkpoint CKPT  --prompt "…" [--seed 0] [--batch 1]
        [--edit REF.png [--no-keep-unchanged] | --inpaint IMAGE.png --mask MASK.png] [--steps N --cfg S --shift F]
        [--temperature T --top-k K --top-p P] [--draws RECORD.json] [--record OUT.json] --out OUT.png

--bundle runs the ONNX graphs with onnxruntime; --checkpoint runs the PyTorch modules. Randomness comes
from Rng(seed + b, stream) (stream 0: AR uniforms, stream 1: latent noise), or, with --draws, from the
`uniforms` and noise of a record written by --record (or by modeling.make_fixtures).

The same functions drive tests and the TypeScript engine's reference fixtures:
    result = text_to_image(backend, tokenizer, prompts, Draws.seeded(seed, …), params)
    result = edit(backend, tokenizer, prompt, reference_uint8, draws, params)
    result = inpaint(backend, tokenizer, prompt, image_uint8, mask, draws, params)
`result` is a dict of everything recorded along the way (ids, uniforms, codes, hidden, cond, noise,
per-step latents, final latents, decoded image float and uint8).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .config import ModelConfig
from .prompting import build_prompt_ids, quote_sign_words
from .sampling import Rng, latent_noise, sample_token
from .scheduler import cfg_combine, euler_step, sigmas


@dataclass
class Params:
    temperature: float
    top_k: int
    top_p: float
    steps: int
    shift: float
    cfg_scale: float  # the DiT's classifier-free guidance
    ar_cfg_scale: float = 1.0  # the AR's (on its logits, against the empty prompt)
    edit_ar_cfg_scale: float = 1.0  # the AR's for the edit template
    edit_keep_unchanged: bool = False  # edits: cells whose code the AR kept come from the reference
    edit_temperature: float | None = None  # the AR's temperature for the edit template (None: `temperature`)

    @staticmethod
    def defaults(cfg: ModelConfig, **overrides) -> "Params":
        p = Params(cfg.sampling.temperature, cfg.sampling.top_k, cfg.sampling.top_p, cfg.scheduler.steps,
                   cfg.scheduler.shift, cfg.scheduler.cfg_scale, cfg.sampling.cfg_scale,
                   cfg.sampling.edit_cfg_scale, cfg.sampling.edit_keep_unchanged, cfg.sampling.edit_temperature)
        for k, v in overrides.items():
            if v is not None:
                setattr(p, k, v)
        return p


class Draws:
    """Where the random numbers come from: a seed (the spec's Rng streams) or a recording."""

    def __init__(self, uniform_fns, noise: np.ndarray):
        self._uniform_fns = uniform_fns
        self.noise = noise

    def uniform(self, b: int) -> float:
        return self._uniform_fns[b]()

    @staticmethod
    def seeded(seed: int, batch: int, latent_shape: tuple[int, int, int]) -> "Draws":
        rngs = [Rng(seed + b, 0) for b in range(batch)]
        return Draws([r.uniform for r in rngs], latent_noise(seed, batch, latent_shape))

    @staticmethod
    def recorded(uniforms: list[list[float]], noise: np.ndarray) -> "Draws":
        its = [iter(u) for u in uniforms]
        return Draws([lambda it=it: next(it) for it in its], np.asarray(noise, dtype=np.float32))


def to_model_image(pixels_uint8: np.ndarray) -> np.ndarray:
    """uint8 [.., 3, H, W] -> float32 in [-1, 1]: p / 127.5 - 1."""
    return (pixels_uint8.astype(np.float32) / np.float32(127.5) - np.float32(1.0)).astype(np.float32)


def to_pixels(y: np.ndarray) -> np.ndarray:
    """Decoder output -> uint8: round(clamp((y + 1) / 2, 0, 1) * 255), rounding halves up (JS Math.round)."""
    v = np.clip((y.astype(np.float64) + 1.0) / 2.0, 0.0, 1.0) * 255.0
    return np.floor(v + 0.5).astype(np.uint8)


def left_pad(seqs: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    n = max(len(s) for s in seqs)
    ids = np.full((len(seqs), n), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), n), dtype=np.int64)
    for b, s in enumerate(seqs):
        ids[b, n - len(s):] = s
        mask[b, n - len(s):] = 1
    return ids, mask


def sample_codes(backend, cfg: ModelConfig, prompt_ids: list[list[int]], draws: Draws, params: Params,
                 pad_id: int, uncond_ids: list[list[int]] | None = None) -> dict:
    """AR sampling with the KV cache. Returns codes [B, count], hidden [B, count+1, D], uniforms, ids, mask.

    With params.ar_cfg_scale != 1 the unconditional prompts (uncond_ids, one per item) run as rows B…2B−1 of
    the same batch; each step mixes uncond + scale·(cond − uncond) in float64 before the logits processors
    and feeds the sampled token to both rows. The hidden states (the DiT's condition) are the conditional rows'."""
    batch, count = len(prompt_ids), cfg.code_count
    guided = params.ar_cfg_scale != 1.0
    if guided and (uncond_ids is None or len(uncond_ids) != batch):
        raise ValueError("AR guidance needs one unconditional prompt per item")
    ids, mask = left_pad(prompt_ids + (uncond_ids if guided else []), pad_id)
    rows = ids.shape[0]
    pos = np.maximum(np.cumsum(mask, axis=1) - 1, 0).astype(np.int64)
    a = cfg.ar
    past = {}
    for i in range(a.layers):
        past[f"past_key_{i}"] = np.zeros((rows, a.kv_heads, 0, a.head_dim), np.float32)
        past[f"past_value_{i}"] = np.zeros((rows, a.kv_heads, 0, a.head_dim), np.float32)
    out = backend.run("ar", input_ids=ids, attention_mask=mask, position_ids=pos, **past)
    hiddens = [out["hidden"][:batch, -1]]
    last_pos = pos[:, -1]
    codes = np.zeros((batch, count), np.int64)
    uniforms = [[] for _ in range(batch)]
    full_mask = mask
    for step in range(count):
        tokens = np.zeros((rows, 1), np.int64)
        for b in range(batch):
            u = draws.uniform(b)
            uniforms[b].append(u)
            logits = out["logits"][b, -1]
            if guided:
                un = out["logits"][batch + b, -1].astype(np.float64)
                logits = un + params.ar_cfg_scale * (logits.astype(np.float64) - un)
            tokens[b, 0] = sample_token(logits, u, cfg.image_code_offset, cfg.codebook_size,
                                        params.temperature, params.top_k, params.top_p)
        if guided:
            tokens[batch:] = tokens[:batch]
        codes[:, step] = tokens[:batch, 0] - cfg.image_code_offset
        past = {k.replace("present", "past"): v for k, v in out.items() if k.startswith("present_")}
        full_mask = np.concatenate([full_mask, np.ones((rows, 1), np.int64)], axis=1)
        last_pos = last_pos + 1
        out = backend.run("ar", input_ids=tokens, attention_mask=full_mask, position_ids=last_pos[:, None],
                          **past)
        hiddens.append(out["hidden"][:batch, -1])
    return {"prompt_ids": ids[:batch], "attention_mask": mask[:batch], "uniforms": uniforms, "codes": codes,
            "hidden": np.stack(hiddens, axis=1).astype(np.float32)}


def diffuse(backend, cfg: ModelConfig, cond: np.ndarray, ref_latents: np.ndarray, noise: np.ndarray,
            params: Params, inpaint: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Euler flow matching with CFG (zero cond for the unconditional branch, batched as [cond; uncond]).

    inpaint = (latent_mask [B or 1, 1, h, w], known scaled latents [B, C, h, w]) re-imposes the known region.
    """
    sig = sigmas(params.steps, params.shift)
    x = noise.astype(np.float32)
    steps = [x]
    batch = x.shape[0]
    use_cfg = params.cfg_scale != 1.0
    for i in range(params.steps):
        t = np.full((batch,), sig[i], dtype=np.float32)
        if use_cfg:
            v2 = backend.run("dit", latents=np.concatenate([x, x]), timestep=np.concatenate([t, t]),
                             cond=np.concatenate([cond, np.zeros_like(cond)]),
                             ref_latents=np.concatenate([ref_latents, ref_latents]))["velocity"]
            v = cfg_combine(v2[:batch], v2[batch:], params.cfg_scale)
        else:
            v = backend.run("dit", latents=x, timestep=t, cond=cond, ref_latents=ref_latents)["velocity"]
        x = euler_step(x, v, sig[i], sig[i + 1])
        if inpaint is not None:
            m, known = inpaint
            s = float(sig[i + 1])
            m64 = m.astype(np.float64)
            target = (1.0 - s) * known.astype(np.float64) + s * noise.astype(np.float64)
            x = (m64 * x + (1.0 - m64) * target).astype(np.float32)
        steps.append(x)
    return {"sigmas": sig, "latents_steps": np.stack(steps), "latents_final": x}


def decode(backend, cfg: ModelConfig, x: np.ndarray) -> dict:
    raw = (x.astype(np.float64) / cfg.vae.scaling_factor + cfg.vae.shift_factor).astype(np.float32)
    y = backend.run("vae_decoder", latents=raw)["image"]
    return {"image_float": y, "image": to_pixels(y)}


def encode_reference(backend, cfg: ModelConfig, pixels_uint8: np.ndarray) -> dict:
    """uint8 [B, 3, H, W] (already at the model's size) -> codes and scaled VAE latents."""
    img = to_model_image(pixels_uint8)
    codes = backend.run("image_tokenizer_encoder", image=img)["codes"]
    raw = backend.run("vae_encoder", image=img)["latents"]
    scaled = ((raw.astype(np.float64) - cfg.vae.shift_factor) * cfg.vae.scaling_factor).astype(np.float32)
    return {"ref_codes": codes, "ref_latents": scaled}


def cells_to_grid(cells: np.ndarray, grid: tuple[int, int], height: int, width: int) -> np.ndarray:
    """Per-cell values [B, gh·gw] (row-major code grid) -> [B, height, width]: element (y, x) takes cell
    (⌊y·gh/height⌋, ⌊x·gw/width⌋), for the latent grid and the pixel grid alike."""
    gh, gw = grid
    rows = (np.arange(height) * gh) // height
    cols = (np.arange(width) * gw) // width
    return cells.reshape(-1, gh, gw)[:, rows][:, :, cols]


def regenerate_cells(codes: np.ndarray, ref_codes: np.ndarray) -> np.ndarray:
    """[B, count] uint8: 1 where the AR's code differs from the reference's (the DiT repaints the cell),
    0 where it kept it (the edit keeps the reference there)."""
    return (np.asarray(codes) != np.asarray(ref_codes)).astype(np.uint8)


def keep_unchanged_blend(cfg: ModelConfig, regenerate: np.ndarray, ref_latents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inpaint argument of `diffuse` for edit_keep_unchanged: the AR's choice is the mask, the reference's
    latents are the known image."""
    lh, lw = cfg.latent_shape[1:]
    return cells_to_grid(regenerate, cfg.code_grid, lh, lw).astype(np.float32)[:, None], ref_latents


def paste_kept(image: np.ndarray, reference: np.ndarray, regenerate: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """uint8 [B, 3, H, W] with the reference's pixels (uint8 [3, H, W] or [B, 3, H, W]), exactly, in the cells
    the AR kept."""
    keep = cells_to_grid(regenerate, grid, *image.shape[2:])[:, None] == 0
    return np.where(keep, reference if reference.ndim == 4 else reference[None], image).astype(np.uint8)


def _generate(backend, tokenizer, cfg, prompts, draws, params, ref=None, inpaint=None) -> dict:
    from .text_tokenizer import special_token_ids, spells_capitals

    pad = special_token_ids(tokenizer)["pad"]
    if ref is not None:  # the edit template has its own AR guidance and temperature
        params = replace(params, ar_cfg_scale=params.edit_ar_cfg_scale,
                         temperature=params.temperature if params.edit_temperature is None else params.edit_temperature)
    guided = params.ar_cfg_scale != 1.0
    quote = spells_capitals(tokenizer)  # what a bundle records as tokenizer.quote_sign_words (modeling/prompting.py)
    seqs, uncond, truncated = [], [], []
    for b, p in enumerate(prompts):
        ref_codes = None if ref is None else ref["ref_codes"][b].tolist()
        ids, t = build_prompt_ids(tokenizer, cfg, quote_sign_words(p) if quote else p, ref_codes)
        seqs.append(ids)
        if guided:  # the twin: the same template with an empty prompt (an edit's keeps the reference codes)
            uncond.append(build_prompt_ids(tokenizer, cfg, "", ref_codes)[0])
        truncated.append(t)
    rec = sample_codes(backend, cfg, seqs, draws, params, pad, uncond if guided else None)
    rec["cond"] = backend.run("connector", hidden=rec["hidden"])["cond"]
    ref_latents = ref["ref_latents"] if ref is not None else np.zeros_like(draws.noise)
    if ref is not None and params.edit_keep_unchanged:
        rec["regenerate_cells"] = regenerate_cells(rec["codes"], ref["ref_codes"])
        inpaint = keep_unchanged_blend(cfg, rec["regenerate_cells"], ref_latents)
    rec["noise"] = draws.noise
    rec.update(diffuse(backend, cfg, rec["cond"], ref_latents, draws.noise, params, inpaint))
    rec.update(decode(backend, cfg, rec["latents_final"]))
    rec["truncated"] = truncated
    rec["code_preview"] = backend.run("image_tokenizer_decoder", codes=rec["codes"])["image"]
    if ref is not None:
        rec.update(ref)
    return rec


def text_to_image(backend, tokenizer, prompts: list[str], draws: Draws, params: Params) -> dict:
    return _generate(backend, tokenizer, backend.cfg, prompts, draws, params)


def edit_backend(backend):
    """The backend instruction edits run on: the bundle's edit generator when it has one (backends.py for_edits)."""
    return backend.for_edits() if hasattr(backend, "for_edits") else backend


def edit(backend, tokenizer, prompt: str, reference_uint8: np.ndarray, draws: Draws, params: Params) -> dict:
    """reference_uint8 [3, H, W]; every item of the batch (draws.noise.shape[0]) edits the same reference."""
    batch = draws.noise.shape[0]
    backend = edit_backend(backend)
    ref = encode_reference(backend, backend.cfg, np.repeat(reference_uint8[None], batch, axis=0))
    rec = _generate(backend, tokenizer, backend.cfg, [prompt] * batch, draws, params, ref=ref)
    rec["reference_image"] = reference_uint8
    if "regenerate_cells" in rec:  # kept cells: the reference's pixels, exactly
        rec["image"] = paste_kept(rec["image"], reference_uint8, rec["regenerate_cells"], backend.cfg.code_grid)
    return rec


def latent_mask(mask_hw: np.ndarray, factor: int = 4) -> np.ndarray:
    """Pixel mask [H, W] (nonzero = regenerate) -> [1, 1, h, w] float32: 1 where any covered pixel is masked."""
    h, w = mask_hw.shape
    m = (mask_hw != 0).reshape(h // factor, factor, w // factor, factor).any(axis=(1, 3))
    return m.astype(np.float32)[None, None]


def inpaint(backend, tokenizer, prompt: str, image_uint8: np.ndarray, mask_hw: np.ndarray, draws: Draws,
            params: Params) -> dict:
    cfg = backend.cfg
    batch = draws.noise.shape[0]
    known = encode_reference(backend, cfg, np.repeat(image_uint8[None], batch, axis=0))["ref_latents"]
    m = latent_mask(mask_hw)
    rec = _generate(backend, tokenizer, cfg, [prompt] * batch, draws, params, inpaint=(m, known))
    keep = (mask_hw == 0)[None, None]
    rec["image"] = np.where(keep, image_uint8[None], rec["image"]).astype(np.uint8)
    rec.update({"input_image": image_uint8, "mask": (mask_hw != 0).astype(np.uint8), "latent_mask": m,
                "known_latents": known})
    return rec


def _load_png(path: str, size: int) -> np.ndarray:
    from PIL import Image

    im = Image.open(path).convert("RGB")
    if im.size != (size, size):
        im = im.resize((size, size), Image.BICUBIC)
    return np.asarray(im, dtype=np.uint8).transpose(2, 0, 1).copy()


def _save_png(pixels: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(pixels.transpose(1, 2, 0)).save(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Reference generation (PyTorch or the ONNX bundle)")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--bundle", help="bundle folder (runs with onnxruntime)")
    src.add_argument("--checkpoint", help="checkpoint .safetensors (runs with PyTorch)")
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--edit", help="reference image for an edit")
    ap.add_argument("--inpaint", help="input image for inpainting (needs --mask)")
    ap.add_argument("--mask", help="mask image: non-black pixels are regenerated")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--cfg", type=float, dest="cfg_scale")
    ap.add_argument("--ar-cfg", type=float, dest="ar_cfg_scale", help="AR classifier-free guidance (1 = off)")
    ap.add_argument("--edit-ar-cfg", type=float, dest="edit_ar_cfg_scale", help="the same for --edit")
    ap.add_argument("--keep-unchanged", action=argparse.BooleanOptionalAction, dest="edit_keep_unchanged",
                    help="--edit: cells whose code the AR kept come from the reference (default: the bundle's)")
    ap.add_argument("--shift", type=float)
    ap.add_argument("--temperature", type=float)
    ap.add_argument("--edit-temperature", type=float, dest="edit_temperature", help="the same for --edit (default: the bundle's)")
    ap.add_argument("--top-k", type=int, dest="top_k")
    ap.add_argument("--top-p", type=float, dest="top_p")
    ap.add_argument("--draws", help="record JSON (+ .safetensors next to it) whose uniforms/noise to replay")
    ap.add_argument("--record", help="write the run's record here (JSON + .safetensors)")
    ap.add_argument("--out", required=True, help="output PNG (batch > 1: OUT-0.png, OUT-1.png, …)")
    args = ap.parse_args(argv)

    if args.bundle:
        from tokenizers import Tokenizer

        from .backends import OnnxBackend

        backend = OnnxBackend(args.bundle)
        tokenizer = Tokenizer.from_file(str(Path(args.bundle) / backend.bundle.meta["tokenizer"]["file"]))
    else:
        from .backends import TorchBackend
        from .checkpoint import load_checkpoint

        model, tokenizer = load_checkpoint(args.checkpoint)
        backend = TorchBackend(model)
    cfg = backend.cfg
    params = Params.defaults(cfg, steps=args.steps, cfg_scale=args.cfg_scale, shift=args.shift,
                             temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                             ar_cfg_scale=args.ar_cfg_scale, edit_ar_cfg_scale=args.edit_ar_cfg_scale,
                             edit_keep_unchanged=args.edit_keep_unchanged, edit_temperature=args.edit_temperature)
    if args.draws:
        from .make_fixtures import read_record

        meta, tensors = read_record(args.draws)
        draws = Draws.recorded(meta["uniforms"], tensors["noise"])
    else:
        draws = Draws.seeded(args.seed, args.batch, cfg.latent_shape)
    if args.edit:
        rec = edit(backend, tokenizer, args.prompt, _load_png(args.edit, cfg.image_size), draws, params)
    elif args.inpaint:
        if not args.mask:
            raise SystemExit("--inpaint needs --mask")
        mask = _load_png(args.mask, cfg.image_size).max(axis=0)
        rec = inpaint(backend, tokenizer, args.prompt, _load_png(args.inpaint, cfg.image_size), mask, draws, params)
    else:
        rec = text_to_image(backend, tokenizer, [args.prompt] * draws.noise.shape[0], draws, params)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    images = rec["image"]
    for b in range(images.shape[0]):
        path = out if images.shape[0] == 1 else out.with_name(f"{out.stem}-{b}{out.suffix}")
        _save_png(images[b], path)
        print(f"wrote {path}")
    if any(rec["truncated"]):
        print(f"warning: the prompt was truncated to {cfg.text.max_prompt_tokens} tokens")
    if args.record:
        from .make_fixtures import write_record

        write_record(args.record, {"prompt": args.prompt, "seed": args.seed, "params": asdict(params)}, rec)
        print(f"wrote {args.record}")


if __name__ == "__main__":
    main()
