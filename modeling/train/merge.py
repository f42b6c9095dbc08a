"""Blend two checkpoints of one model weight by weight: out = (1 - alpha) * base + alpha * tuned.

    python -m modeling.train.merge --base SHIPPED.safetensors --tuned RUN_DIR --alpha 0.5 --out MERGED_DIR

Why: a continued run on the CPU gains one skill (sign text) and loses another (edits) that the base checkpoint
had. Averaging the weights of a model and its own fine-tune often keeps much of the gain and much of what the
fine-tune forgot, because both lie in one basin of the loss (WiSE-FT, Wortsman et al. 2022). alpha 0 is the
base, 1 the tuned run.

The two must be one model: the same tensors and shapes, the same tokenizer, and the same autoencoders and latent
scale (the AR's codes and the DiT's latents mean the same only then; the tool refuses otherwise). --parts limits the
blend to some generator parts (ar, connector, dit); the others are taken from the tuned run.

MERGED_DIR is written like a run folder (model.safetensors + summary.json, the tuned run's summary with a
"merge" entry), so modeling.train.ship exports it with its provenance: the recipe names the blend.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ..checkpoint import load_checkpoint, save_checkpoint
from .stages import GENERATOR_PARTS as PARTS
AUTOENCODERS = ("vae.", "image_tokenizer.")


def _checkpoint_file(p: Path) -> Path:
    return p / "model.safetensors" if p.is_dir() else p


def merge(base: Path, tuned: Path, alpha: float, out: Path, parts: tuple[str, ...] = PARTS) -> dict:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 (the base) and 1 (the tuned run), got {alpha}")
    unknown = set(parts) - set(PARTS)
    if unknown or not parts:
        raise ValueError(f"--parts: {sorted(unknown) or 'none given'}; the generator parts are {', '.join(PARTS)}")
    base_model, base_tok = load_checkpoint(_checkpoint_file(base))
    model, tok = load_checkpoint(_checkpoint_file(tuned))
    if base_tok.to_str() != tok.to_str():
        raise ValueError("the two checkpoints have different tokenizers: their token ids do not mean the same")
    a, b = base_model.state_dict(), model.state_dict()
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise ValueError("the two checkpoints are different models (tensor names or shapes differ)")
    vae_a, vae_b = base_model.cfg.vae, model.cfg.vae
    changed = [k for k in a if k.startswith(AUTOENCODERS) and not torch.equal(a[k], b[k])]
    if changed or (vae_a.scaling_factor, vae_a.shift_factor) != (vae_b.scaling_factor, vae_b.shift_factor):
        raise ValueError("the two checkpoints have different autoencoders or latent scales "
                         f"({changed[0] if changed else 'latent scale'}): their codes and latents do not mean the same")
    blended = {}
    for k, t in b.items():
        if k.split(".", 1)[0] in parts and t.is_floating_point():
            blended[k] = torch.lerp(a[k].float(), t.float(), alpha).to(t.dtype)
        else:
            blended[k] = t
    model.load_state_dict(blended)
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out / "model.safetensors", model, tok)
    summary_path = (tuned / "summary.json") if tuned.is_dir() else None
    summary = json.loads(summary_path.read_text()) if summary_path and summary_path.exists() else {}
    summary["merge"] = {"base": str(base), "tuned": str(tuned), "alpha": alpha, "parts": list(parts)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary["merge"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=Path, required=True, help="checkpoint file (or run folder) alpha 0 gives")
    ap.add_argument("--tuned", type=Path, required=True, help="run folder (or checkpoint file) alpha 1 gives")
    ap.add_argument("--alpha", type=float, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--parts", default=",".join(PARTS), help="generator parts to blend (default all)")
    args = ap.parse_args(argv)
    try:
        done = merge(args.base, args.tuned, args.alpha, args.out, tuple(p for p in args.parts.split(",") if p))
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"merge: {e}")
    print("merged:", json.dumps(done), "->", args.out / "model.safetensors")


if __name__ == "__main__":
    main()
