"""After training: export the bundle with H3's exporter, check it with onnxruntime, pack the results.

    python -m modeling.train.ship --run RUN_DIR --bundle BUNDLE_DIR --out OUT_DIR [--trained-on "..."]

1. export: model.safetensors (modeling.checkpoint format), rounded to the fp16 copy the run folder commits
   (model-fp16.safetensors), -> bundle folder (modeling.export.export_bundle), provenance filled in (data +
   licences, recipe, commit, where it was trained).
2. verify: the bundle loads (hashes, graph I/O) and runs through onnxruntime (modeling.generate with
   OnnxBackend) on held-out prompts and one edit; the same seeded draws through the PyTorch modules
   (TorchBackend) must give the same codes and nearly the same pixels. Written as verify.png + numbers.
3. pack: OUT gets at most 8 files of at most 15 MB: report.json, grid.png, and results.tar split into
   15 MB parts (results.tar.part-aa, -ab, …) holding the bundle, an fp16 copy of the checkpoint, the loss
   curve, the grids and the training summary. Join here with: cat results.tar.part-* > results.tar
"""
from __future__ import annotations

import argparse
import json
import shutil
import tarfile
import time
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.torch import save_file

PART_BYTES = 15 * 1000 * 1000
MAX_FILES = 8
MAX_TOTAL = 60 * 1000 * 1000


def export(run: Path, bundle: Path, trained_on: str, ar_cfg_scale: float | None = None,
           edit_ar_cfg_scale: float | None = None, edit_keep_unchanged: bool | None = None,
           edit_temperature: float | None = None) -> dict:
    """ar_cfg_scale / edit_ar_cfg_scale: the bundle's default AR guidance (sampling.cfg_scale / edit_cfg_scale),
    edit_keep_unchanged its sampling.edit_keep_unchanged, edit_temperature its sampling.edit_temperature, else
    the checkpoint's config's. A run continued from an older checkpoint keeps that checkpoint's sampling
    settings, so these set them."""
    from ..checkpoint import load_checkpoint
    from ..export import export_bundle
    from ..text_tokenizer import spells_capitals
    model, tokenizer = load_checkpoint(committed_checkpoint(run))
    if ar_cfg_scale is not None:
        model.cfg.sampling.cfg_scale = float(ar_cfg_scale)
    if edit_ar_cfg_scale is not None:
        model.cfg.sampling.edit_cfg_scale = float(edit_ar_cfg_scale)
    if edit_keep_unchanged is not None:
        model.cfg.sampling.edit_keep_unchanged = bool(edit_keep_unchanged)
    if edit_temperature is not None:
        model.cfg.sampling.edit_temperature = float(edit_temperature)
    summary = json.loads((run / "summary.json").read_text()) if (run / "summary.json").exists() else {}
    prov = {
        "data": [
            {"name": "Noto Emoji via emoji-datasource-google (64 px PNG)", "license": "Apache-2.0"},
            {"name": "emojibase-data (English labels)", "license": "MIT"},
            {"name": "DejaVu Sans Bold (rendered sign text)", "license": "Bitstream-Vera"},
            {"name": "procedural scenes and captions: modeling/data (this repository)", "license": "Apache-2.0"},
        ],
        "recipe": "modeling/train (stages: BPE; VAE + FSQ tokenizer; AR CE + DiT flow matching on AR hidden "
                  f"states; edit post-training), preset {summary.get('preset')}, stages {json.dumps(summary.get('stages'))}"
                  + (f", continued from {summary['init']}" if summary.get("init") else "")
                  + (", tokenizer spells capitals" if spells_capitals(tokenizer) else "")
                  + (f", {' and '.join(summary['frozen'])} frozen" if summary.get("frozen") else "")
                  + "".join(f"; then GRPO (modeling/rl) {r.get('steps')} steps in {r.get('seconds')} s"
                            + (" with edit steps" if r.get("edit_eval_before") else "")
                            for r in summary.get("rl_earlier", []) + ([summary["rl"]] if summary.get("rl") else []))
                  + (f"; then blended weight by weight with {summary['merge']['base']}, alpha {summary['merge']['alpha']} "
                     f"({', '.join(summary['merge']['parts'])}; modeling/train/merge.py)" if summary.get("merge") else ""),
        "trained_on": trained_on,
        # how the training signs were drawn (extra room for I and J, modeling/data/assets.py): the evaluation
        # draws its signs the same way (modeling/eval/run.py use_sign_style)
        "sign_narrow_pad": float(summary.get("sign_narrow_pad") or 0.0),
        "eval": None,
        # the last GRPO stage's own before/after check (earlier stages are named in the recipe)
        "rl": ({k: summary["rl"][k] for k in ("steps", "seconds", "eval_before", "eval_after", "edit_eval_before",
                                             "edit_eval_after") if summary["rl"].get(k) is not None}
               if summary.get("rl") else None),
    }
    if bundle.exists():
        shutil.rmtree(bundle)
    t = time.time()
    meta = export_bundle(model, tokenizer, bundle, provenance=prov, log=lambda m: print(m, flush=True))
    size = sum(f["bytes"] for f in meta["files"])
    return {"seconds": round(time.time() - t, 1), "bytes": size, "files": len(meta["files"])}


def verify(run: Path, bundle: Path, out_png: Path, n_prompts: int = 4) -> dict:
    """Generate from the bundle with onnxruntime and compare with PyTorch on the same draws."""
    from tokenizers import Tokenizer

    from ..backends import OnnxBackend, TorchBackend
    from ..checkpoint import load_checkpoint
    from ..data.dataset import make_edits, make_scenes
    from ..generate import Draws, Params, edit, text_to_image
    from .preview import grid_png

    ort_b = OnnxBackend(bundle, threads=4)
    tok = Tokenizer.from_file(str(bundle / "tokenizer.json"))
    model, tok_ckpt = load_checkpoint(committed_checkpoint(run))  # the weights export() wrote
    torch_b = TorchBackend(model)
    cfg = ort_b.cfg
    params = Params.defaults(cfg)
    scenes = make_scenes(n_prompts, seed=777, split="heldout", workers=1)
    t = time.time()
    draws = Draws.seeded(5, n_prompts, cfg.latent_shape)
    rec = text_to_image(ort_b, tok, scenes.captions, draws, params)
    t_ort = time.time() - t
    ref = text_to_image(torch_b, tok_ckpt, scenes.captions, Draws.seeded(5, n_prompts, cfg.latent_shape), params)
    codes_equal = float((rec["codes"] == ref["codes"]).mean())
    pixel_diff = float(np.abs(rec["image"].astype(int) - ref["image"].astype(int)).max())
    edits = make_edits(1, seed=777, split="heldout", workers=1)
    src = edits.sources[0].transpose(2, 0, 1).copy()
    erec = edit(ort_b, tok, edits.instructions[0], src, Draws.seeded(9, 1, cfg.latent_shape), params)
    rows = [[scenes.images[i], rec["image"][i].transpose(1, 2, 0), ref["image"][i].transpose(1, 2, 0)] for i in range(n_prompts)]
    labels = list(scenes.captions)
    rows.append([edits.sources[0], edits.targets[0], erec["image"][0].transpose(1, 2, 0)])
    labels.append(f"EDIT ({edits.kinds[0]}): {edits.instructions[0]}  [source | target | onnxruntime]")
    grid_png(rows, labels, out_png, "bundle check: truth | onnxruntime | PyTorch (same seeded draws)")
    return {"prompts": scenes.captions, "ort_seconds_for_batch": round(t_ort, 2),
            "codes_equal_fraction_ort_vs_torch": codes_equal, "max_pixel_diff_ort_vs_torch": pixel_diff,
            "edit_instruction": edits.instructions[0], "ok": bool(codes_equal > 0.9 and np.isfinite(rec["image_float"]).all())}


def fp16_checkpoint(src: Path, dst: Path) -> None:
    with safe_open(str(src), framework="pt") as f:
        meta = f.metadata()
        tensors = {k: (f.get_tensor(k).half() if f.get_tensor(k).is_floating_point() else f.get_tensor(k)) for k in f.keys()}
    meta = dict(meta or {})
    meta["dtype_note"] = "fp16 copy of an fp32 checkpoint; convert with .float() before loading"
    save_file(tensors, str(dst), metadata=meta)


def committed_checkpoint(run: Path) -> Path:
    """The run's fp16 checkpoint (written from model.safetensors when missing or older): what a run folder commits.

    The bundle is exported from it, not from the float32 training weights, so that re-exporting the committed
    file (modeling/train/reexport.py) gives the shipped bundle again, and so that every weight is an exact fp16
    value the exporter stores as fp16 (modeling/half_storage.py): half the bytes. A 12-layer AR's bundle is
    43 MB in float32, over both the 40 MB limit for resources/models and what a device call brings back beside
    the checkpoint; 22.9 MB this way. Rounding to fp16 changes sampled images by chance only (session 11:
    four seeds, overall 0.856 -> 0.851, text exact 0.71 -> 0.71)."""
    src, dst = run / "model.safetensors", run / "model-fp16.safetensors"
    if not src.exists():
        if dst.exists():
            return dst
        raise FileNotFoundError(f"{run}: no model.safetensors to export")
    if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
        fp16_checkpoint(src, dst)
    return dst


def pack(run: Path, bundle: Path, out: Path, report: dict) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    written = ["report.json"]
    if (run / "grid.png").exists():
        shutil.copyfile(run / "grid.png", out / "grid.png")
        written.append("grid.png")
    members = [(p, f"run/{p.name}") for p in sorted(run.iterdir())
               if p.suffix in (".png", ".json", ".log", ".txt") and p.is_file()]
    if (run / "model.safetensors").exists():
        members.append((committed_checkpoint(run), "run/model-fp16.safetensors"))
    bundle_files = [(p, f"bundle/{p.name}") for p in sorted(bundle.iterdir())] if bundle.exists() else []
    size = lambda ms: sum(p.stat().st_size for p, _ in ms)
    budget = min(MAX_TOTAL, (MAX_FILES - len(written)) * PART_BYTES)
    if size(members) + size(bundle_files) <= budget:
        members += bundle_files
    else:
        report["packing_note"] = "bundle left out (too large to bring back); re-export it from run/model-fp16.safetensors"
        (out / "report.json").write_text(json.dumps(report, indent=1))
    tar_path = run.parent / "results.tar"
    with tarfile.open(tar_path, "w") as tar:
        for p, name in members:
            tar.add(p, arcname=name)
    data = tar_path.read_bytes()
    for k in range(0, len(data), PART_BYTES):
        name = f"results.tar.part-{chr(97 + k // PART_BYTES // 26)}{chr(97 + k // PART_BYTES % 26)}"
        (out / name).write_bytes(data[k:k + PART_BYTES])
        written.append(name)
    if len(written) > MAX_FILES:
        raise SystemExit(f"packing produced {len(written)} files, more than {MAX_FILES}")
    return written


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--trained-on", default="unknown")
    ap.add_argument("--skip-export", action="store_true", help="only pack what the run wrote")
    ap.add_argument("--ar-cfg-scale", type=float, help="the bundle's default AR guidance (sampling.cfg_scale)")
    ap.add_argument("--edit-ar-cfg-scale", type=float, help="the same for edits (sampling.edit_cfg_scale)")
    ap.add_argument("--edit-keep-unchanged", action=argparse.BooleanOptionalAction,
                    help="the bundle's sampling.edit_keep_unchanged (edits keep the cells the AR kept)")
    ap.add_argument("--edit-temperature", type=float, help="the bundle's AR temperature for edits (sampling.edit_temperature)")
    args = ap.parse_args(argv)
    report: dict = {"trained_on": args.trained_on}
    if (args.run / "summary.json").exists():
        report["training"] = json.loads((args.run / "summary.json").read_text())
    if not args.skip_export:
        try:
            report["export"] = export(args.run, args.bundle, args.trained_on, args.ar_cfg_scale,
                                      args.edit_ar_cfg_scale, args.edit_keep_unchanged, args.edit_temperature)
            print("export:", json.dumps(report["export"]), flush=True)
            report["verify"] = verify(args.run, args.bundle, args.run / "verify.png")
            print("verify:", json.dumps(report["verify"]), flush=True)
        except Exception as e:  # still bring back what the run produced
            import traceback
            traceback.print_exc()
            report["error"] = f"{type(e).__name__}: {e}"
    files = pack(args.run, args.bundle, args.out, report)
    print("wrote to", args.out, ":", ", ".join(f"{f} ({(args.out / f).stat().st_size / 1e6:.1f} MB)" for f in files), flush=True)
    if "error" in report:
        raise SystemExit(f"ship failed: {report['error']}")


if __name__ == "__main__":
    main()
