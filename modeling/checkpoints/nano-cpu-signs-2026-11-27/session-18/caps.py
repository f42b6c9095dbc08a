"""What the shipped bundle's autoencoder allows, and whether pasting back near-unchanged pixels helps edits.

    PYTHONPATH=. python caps.py t2i                 # held-out prompts (seeds 0, 1): scores of the VAE round trip of the truth
    PYTHONPATH=. python caps.py edits EDITS.pkl     # per edit kind: PSNR outside the edit of the source's own VAE round trip
    PYTHONPATH=. python caps.py snap EDITS.pkl      # pixel snapping of edit outputs (collect_edits.py makes EDITS.pkl)

snap: where an output pixel is within `tol` (max over channels, of 255) of the source (or of the source's VAE round
trip), the source's pixel is pasted; `grow` dilates the changed area first. Scored as the evaluation scores edits.
"""
import collections, sys
from pathlib import Path

import numpy as np

from modeling.backends import OnnxBackend
from modeling.data import assets as A
from modeling.data.assets import Assets
from modeling.data.scene import render
from modeling.eval.run import _mean, heldout_prompts, use_sign_style
from modeling.eval.score import edit_done, psnr, score_scene
from modeling.generate import decode, encode_reference
from modeling.rl.ocr import OcrReward

BUNDLE = Path("resources/models/atelier-nano")


def round_trip(backend, images_hwc: np.ndarray) -> np.ndarray:
    x = images_hwc.transpose(0, 3, 1, 2).copy()
    return decode(backend, backend.cfg, encode_reference(backend, backend.cfg, x)["ref_latents"])["image"].transpose(0, 2, 3, 1)


def dilate(m: np.ndarray, k: int) -> np.ndarray:
    for _ in range(k):
        p = np.pad(m, 1)
        m = p[1:-1, 1:-1] | p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]
    return m


def main(mode: str, path: str | None = None) -> None:
    backend, assets = OnnxBackend(BUNDLE, threads=2), Assets()
    ocr = OcrReward(None, threads=2)
    if mode == "t2i":
        use_sign_style(backend.bundle.meta)
        for seed in (0, 1):
            items = heldout_prompts(assets, 48, 16, 24, 8, seed)
            truth = np.stack([render(s, assets) for s, _, _ in items])
            rt = np.concatenate([round_trip(backend, truth[i:i + 16]) for i in range(0, len(truth), 16)])
            got = [score_scene(r, s, assets, ocr) for r, (s, _, _) in zip(rt, items)]
            ref = [score_scene(t, s, assets, ocr) for t, (s, _, _) in zip(truth, items)]
            for c in ("object", "count", "position", "text"):
                print(f"seed {seed} {c}: VAE round trip {_mean([g.get(c) for g in got]):.3f}, truth {_mean([r.get(c) for r in ref]):.3f}")
        return
    import pickle
    rows = pickle.load(open(path, "rb"))
    A.SIGN_NARROW_PAD = 0.0  # the edit generator's signs (its provenance: no extra room for I and J)
    A._render_sign.cache_clear()
    rts = round_trip(backend, np.stack([r["src"] for r in rows]))
    if mode == "edits":
        res = collections.defaultdict(list)
        for r, rt in zip(rows, rts):
            p = psnr(rt, r["src"], r["keep"])
            res[r["pair"].kind].append(p)
            res["ALL"].append(p)
        for k, v in sorted(res.items()):
            v = np.array(v)
            print(f"{k:10s} n={len(v):3d} round trip outside the edit: >= 30 dB {np.mean(v >= 30):.2f}, median {np.median(v):.1f} dB")
        return
    variants = [("source", None, 0)] + [(a, t, g) for a in ("source", "roundtrip") for t in (0.04, 0.08, 0.12, 0.16, 0.24) for g in (0, 1, 2)]
    for against, tol, grow in variants:
        res = collections.defaultdict(list)
        for r, rt in zip(rows, rts):
            img = r["img"]
            if tol is not None:
                base = r["src"] if against == "source" else rt
                d = np.abs(img.astype(np.int16) - base.astype(np.int16)).max(-1) / 255.0
                img = np.where(dilate(d > tol, grow)[..., None], img, r["src"]).astype(np.uint8)
            p, done = psnr(img, r["src"], r["keep"]), edit_done(img, r["pair"], assets, ocr)
            for k in (r["pair"].kind, "ALL"):
                res[k].append((done, p >= 30, done == 1.0 and p >= 30))
        print(f"{against} tol={tol} grow={grow} (done / >=30 dB / both): "
              + " ".join(f"{k} {np.mean([x[0] for x in v]):.2f}/{np.mean([x[1] for x in v]):.2f}/{np.mean([x[2] for x in v]):.2f}"
                         for k, v in sorted(res.items())), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
