"""Give a bundle a second generator for instruction edits (docs/bundle-spec.md, "Edit generator").

    python -m modeling.train.edit_generator --bundle BUNDLE_DIR --checkpoint CKPT [--notes "..."]

Why: on this project's CPU, a text-to-image stage that gains text and counts costs edits, and an edit stage that
keeps edits costs text (modeling/checkpoints/nano-h100-edit-2026-11-27, sessions 12-15). The reference ships its
generator and its editor as separate checkpoints; a bundle can do the same, because the two share the tokenizer,
the autoencoders and the latent scale and differ only in the AR, connector and DiT. Edits then run on the
checkpoint that edits best (variations too: they use the edit template), text-to-image and inpainting on the
bundle's own weights.

Checks before anything is written (a refusal leaves the bundle as it was): the checkpoint's architecture matches
the bundle's config; its tokenizer is the bundle's, token for token; its autoencoders encode the same test images
to the same image codes and (within fp16 rounding) the same latents as the bundle's ONNX encoders. The sign style
it was trained with goes into provenance.edit_generator so the evaluation draws edit references the same way.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

# latents of the same weights through PyTorch and through the fp16-stored ONNX graph differ by ~1e-3;
# different autoencoders differ by far more than this
LATENT_TOLERANCE = 2e-2


def test_images(size: int, n: int = 4) -> np.ndarray:
    """uint8 [n, 3, size, size]: a held-out scene per image, rendered by the data engine (at its 64 px; cropped
    when the model is smaller, as the fixture is: the encoders only have to agree on them)."""
    from ..data.assets import Assets
    from ..data.scene import render, sample_scene, scene_rng

    assets = Assets()
    names = assets.names()
    out = [render(sample_scene(scene_rng(0, "heldout", i, "edit-generator-check"), names, "heldout"), assets)
           for i in range(n)]
    return np.stack([im.transpose(2, 0, 1) for im in out])[:, :, :size, :size].copy()


def check_compatible(bundle_dir: Path, model, tokenizer) -> dict:
    """Raises ValueError when the checkpoint cannot share the bundle's tokenizer and autoencoders."""
    import torch
    from tokenizers import Tokenizer

    from ..backends import OnnxBackend, TorchBackend
    from ..generate import to_model_image

    meta = json.loads((bundle_dir / "bundle.json").read_text())
    theirs = Tokenizer.from_file(str(bundle_dir / meta["tokenizer"]["file"]))
    if theirs.to_str() != tokenizer.to_str():
        raise ValueError("the checkpoint's tokenizer is not the bundle's: their token ids do not mean the same")
    lat = meta["latent"]
    vae = model.cfg.vae
    if (round(vae.scaling_factor, 6), round(vae.shift_factor, 6)) != (round(lat["scaling_factor"], 6), round(lat["shift_factor"], 6)):
        raise ValueError(f"the checkpoint's latent scale/shift ({vae.scaling_factor:.6f}, {vae.shift_factor:.6f}) is not "
                         f"the bundle's ({lat['scaling_factor']:.6f}, {lat['shift_factor']:.6f})")
    backend = OnnxBackend(bundle_dir)
    images = to_model_image(test_images(model.cfg.image_size))
    codes = backend.run("image_tokenizer_encoder", image=images)["codes"]
    latents = backend.run("vae_encoder", image=images)["latents"]
    mine = TorchBackend(model.float())
    with torch.no_grad():
        my_codes = mine.run("image_tokenizer_encoder", image=images)["codes"]
        my_latents = mine.run("vae_encoder", image=images)["latents"]
    same_codes = float((codes == my_codes).mean())
    latent_diff = float(np.abs(latents - my_latents).max())
    if same_codes < 0.99 or latent_diff > LATENT_TOLERANCE:
        raise ValueError(f"the checkpoint's autoencoders are not the bundle's: {same_codes:.1%} of the image codes "
                         f"agree, latents differ by up to {latent_diff:.3f}")
    return {"image_codes_agree": same_codes, "latent_max_diff": round(latent_diff, 5)}


def add(bundle_dir: Path, checkpoint: Path, notes: str = "", sign_narrow_pad: float | None = None, log=print,
        checkpoint_label: str | None = None) -> dict:
    """checkpoint_label: how provenance names the checkpoint (default: the path as given; keep it relative to the
    repository so a re-export finds it)."""
    from ..checkpoint import load_checkpoint
    from ..export import add_edit_generator, git_commit

    model, tokenizer = load_checkpoint(checkpoint)
    checks = check_compatible(bundle_dir, model, tokenizer)
    summary_path = checkpoint.parent / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    pad = sign_narrow_pad if sign_narrow_pad is not None else float(summary.get("sign_narrow_pad") or 0.0)
    prov = {"checkpoint": checkpoint_label or str(checkpoint), "notes": notes, "commit": git_commit(), "sign_narrow_pad": pad,
            "checks": checks}
    meta = add_edit_generator(bundle_dir, model, prov, log=log)
    return {"provenance": prov, "bytes": sum(f["bytes"] for f in meta["files"])}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, required=True, help="an exported bundle folder (changed in place)")
    ap.add_argument("--checkpoint", type=Path, required=True, help="the checkpoint edits should run on (.safetensors)")
    ap.add_argument("--notes", default="", help="where the checkpoint comes from, for provenance.edit_generator")
    ap.add_argument("--sign-narrow-pad", type=float, default=None,
                    help="the sign style the checkpoint was trained with (default: its run summary's, else 0)")
    args = ap.parse_args(argv)
    if not (args.bundle / "bundle.json").is_file():
        raise SystemExit(f"edit_generator: {args.bundle} is not a bundle folder (no bundle.json)")
    if not args.checkpoint.is_file():
        raise SystemExit(f"edit_generator: {args.checkpoint}: no such checkpoint")
    try:
        out = add(args.bundle, args.checkpoint, args.notes, args.sign_narrow_pad)
    except ValueError as e:
        raise SystemExit(f"edit_generator: {e}")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
