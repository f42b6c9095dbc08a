"""Compare evaluations of two bundles over the same seeds: mean ± standard error over seeds, and paired differences
over the same edits (done and >= 30 dB outside the edit) and the same sign prompts (text exact).
    python compare.py BASE_GLOB NEW_GLOB     (e.g. '…/session-11/fp16-bundle-s*.json' '…/eval-s*.json')
Evaluations without edits (--edits 0) compare their text-to-image scores only.
"""
import glob, json, math, sys


def load(pattern):
    return {json.load(open(f))["seed"]: json.load(open(f)) for f in sorted(glob.glob(pattern))}


def mse(xs):
    xs = [x for x in xs if x is not None]  # an evaluation run with --edits 0 has no edit scores
    if not xs:
        return "–"
    m = sum(xs) / len(xs)
    se = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1) / len(xs)) if len(xs) > 1 else float("nan")
    return f"{m:.3f} ± {se:.3f}"


def row(d):
    e = d["edits"]
    return {"overall": d["overall"], "without text": d["overall_without_text"], **d["categories"],
            "OCR sim.": d["text_detail"]["text_similarity"], "edits done": e["done"],
            "done & >=30 dB": e["done_and_ge_30db"], "PSNR outside": e["psnr_outside_edit_mean_db"],
            "cells kept": e["cells_kept"]}


def both(item):
    return float(item["done"] >= 1.0 and item["psnr_outside_edit"] >= 30.0)


base, new = load(sys.argv[1]), load(sys.argv[2])
seeds = sorted(set(base) & set(new))
print(f"seeds {seeds}")
for name, runs in (("base", base), ("new", new)):
    rows = [row(runs[s]) for s in seeds]
    print(name.ljust(5), "  ".join(f"{k} {mse([r[k] for r in rows])}" for k in rows[0]))
diffs = {"done & >=30 dB (edits)": [], "text exact (signs)": []}
for s in seeds:
    for a, b in zip(base[s]["edit_items"], new[s]["edit_items"]):
        assert a["instruction"] == b["instruction"]
        diffs["done & >=30 dB (edits)"].append(both(b) - both(a))
    for a, b in zip(base[s]["items"], new[s]["items"]):
        assert a["prompt"] == b["prompt"]
        if "text" in a["scores"]:
            diffs["text exact (signs)"].append(b["scores"]["text"] - a["scores"]["text"])
for k, v in diffs.items():
    print(f"paired {k}: {mse(v)} over {len(v)}")
