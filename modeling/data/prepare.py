"""Build step: collect the emoji images and the font into one compact folder, and write a caption corpus.

    .venv/bin/python -m modeling.data.prepare --out modeling/.cache/atelier-data

Reads node_modules/emoji-datasource-google (Noto emoji, 64 px PNG, Apache-2.0), node_modules/emojibase-data
(English labels, MIT) and /usr/share/fonts/truetype/dejavu (DejaVu fonts licence). Writes objects.json,
emoji.npz, DejaVuSans-Bold.ttf, captions.txt (training-split captions and edit instructions, the BPE
corpus), LICENSES.md. The folder is a few MB, so it can travel to a machine without network or npm.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .assets import ASSET_FORMAT, FONT_FILE, REPO_ROOT, Assets
from .objects import OBJECTS

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
MAX_BYTES = 20 * 1024 * 1024


def _resolve_emoji(node_modules: Path) -> list[dict]:
    labels = {x["label"]: x for x in json.loads((node_modules / "emojibase-data/en/data.json").read_text())}
    source = json.loads((node_modules / "emoji-datasource-google/emoji.json").read_text())
    by_hex = {x["unified"].replace("-FE0F", ""): x for x in source}
    out = []
    for name, label, category, synonyms in OBJECTS:
        if label not in labels:
            raise SystemExit(f"emojibase has no emoji labelled {label!r} (object {name!r})")
        hexcode = labels[label]["hexcode"]
        entry = by_hex.get(hexcode.replace("-FE0F", ""))
        if entry is None or not entry.get("has_img_google"):
            raise SystemExit(f"emoji-datasource-google has no image for {label!r} ({hexcode})")
        png = node_modules / "emoji-datasource-google/img/google/64" / entry["image"]
        out.append({"name": name, "label": label, "category": category, "synonyms": list(synonyms),
                    "hexcode": hexcode, "png": png})
    return out


def _write_corpus(folder: Path, n_captions: int, n_edits: int, seed: int = 1234) -> int:
    from .captions import caption
    from .edits import sample_edit
    from .scene import sample_scene, scene_rng
    assets = Assets(folder)
    names = assets.names()
    syn = {o.name: o.synonyms for o in assets.objects}
    lines = []
    for i in range(n_captions):
        rng = scene_rng(seed, "train", i, "corpus")
        lines.append(caption(sample_scene(rng, names, "train"), rng, syn))
    for i in range(n_edits):
        rng = scene_rng(seed, "train", i, "corpus-edit")
        lines.append(sample_edit(rng, names, "train", synonyms=syn).instruction)
    (folder / "captions.txt").write_text("\n".join(lines) + "\n")
    return len(lines)


def prepare(out: Path, node_modules: Path, n_captions: int = 60000, n_edits: int = 20000) -> dict:
    t0 = time.time()
    out.mkdir(parents=True, exist_ok=True)
    objects = _resolve_emoji(node_modules)
    rgba = np.stack([np.asarray(Image.open(o["png"]).convert("RGBA").resize((64, 64), Image.LANCZOS)) for o in objects])
    np.savez_compressed(out / "emoji.npz", rgba=rgba)
    meta = {"format": ASSET_FORMAT, "objects": [{k: v for k, v in o.items() if k != "png"} for o in objects],
            "sources": {"emoji": "emoji-datasource-google 64 px (Noto Emoji, Apache-2.0)",
                        "labels": "emojibase-data en (MIT)", "font": f"DejaVu {FONT_FILE} (Bitstream Vera / DejaVu licence)"}}
    (out / "objects.json").write_text(json.dumps(meta, indent=1))
    font = next((d / FONT_FILE for d in FONT_DIRS if (d / FONT_FILE).exists()), None)
    if font is None:
        raise SystemExit(f"{FONT_FILE} not found in {FONT_DIRS}; install it with: apt-get install -y fonts-dejavu-core")
    shutil.copyfile(font, out / FONT_FILE)
    (out / "LICENSES.md").write_text(
        "Emoji images: Noto Emoji via emoji-datasource-google, Apache License 2.0.\n"
        "Emoji labels: emojibase-data, MIT License.\n"
        "Font: DejaVu Sans Bold, Bitstream Vera / DejaVu fonts licence (free to use and redistribute).\n")
    lines = _write_corpus(out, n_captions, n_edits)
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    if total > MAX_BYTES:
        raise SystemExit(f"prepared folder {out} is {total / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit")
    return {"objects": len(objects), "corpus_lines": lines, "bytes": total, "seconds": round(time.time() - t0, 2)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--node-modules", type=Path, default=REPO_ROOT / "node_modules")
    ap.add_argument("--captions", type=int, default=60000)
    ap.add_argument("--edits", type=int, default=20000)
    args = ap.parse_args(argv)
    info = prepare(args.out, args.node_modules, args.captions, args.edits)
    json.dump(info, sys.stdout)
    print()


if __name__ == "__main__":
    main()
