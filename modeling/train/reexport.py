"""Export a shipped bundle again from its committed checkpoint, keeping its settings and provenance.

    python -m modeling.train.reexport --checkpoint modeling/checkpoints/<run>/model-fp16.safetensors \
        --like resources/models/atelier-nano --out /tmp/bundle

The weights are the checkpoint's (the fp16 copy every run folder commits); the config — sampling and
scheduler defaults included — and the provenance (data, recipe, training commit, where it was trained) are the
`--like` bundle's (with its edit generator, rebuilt from the checkpoint its provenance.edit_generator names), so
the new bundle differs from it only in what the export itself does (modeling/export.py,
e.g. storing fp16 weights as fp16). Evaluate and install it as any other: `python -m modeling.train.install
--bundle OUT …` (install adds the LoRA graphs).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..checkpoint import load_checkpoint
from ..config import ModelConfig
from ..export import export_bundle, git_commit


def reexport(checkpoint: Path, like: Path, out: Path, log=print) -> dict:
    old = json.loads((like / "bundle.json").read_text())
    cfg = ModelConfig.from_dict(old["config"])
    model, tokenizer = load_checkpoint(checkpoint, cfg=cfg)  # raises when the weights do not fit that config
    prov = {k: v for k, v in old["provenance"].items() if k not in ("created", "eval", "edit_generator")}
    prov["exported"] = {"checkpoint": str(checkpoint), "commit": git_commit(), "like": old.get("name")}
    meta = export_bundle(model, tokenizer, out, license=old.get("license", "Apache-2.0"), provenance=prov, log=log)
    editor = old["provenance"].get("edit_generator")
    if editor:  # the --like bundle's edit generator, from the checkpoint its provenance names
        from ..data.assets import REPO_ROOT
        from .edit_generator import add
        ckpt = Path(editor["checkpoint"])
        add(out, ckpt if ckpt.is_absolute() else REPO_ROOT / ckpt, editor.get("notes", ""), editor.get("sign_narrow_pad"),
            log=log, checkpoint_label=editor["checkpoint"])
        meta = json.loads((out / "bundle.json").read_text())
    return meta


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--like", type=Path, required=True, help="the bundle whose config and provenance to keep")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        raise SystemExit(f"{args.out}: not empty; give a new folder")
    meta = reexport(args.checkpoint, args.like, args.out)
    print(f"exported {args.out}: {sum(f['bytes'] for f in meta['files']) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
