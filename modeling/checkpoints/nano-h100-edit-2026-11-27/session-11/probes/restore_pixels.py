"""Probe (session 11, not project code): after an edit, pixels within TAU levels of the reference (max over
channels) become the reference's, blended linearly up to 2·TAU. Monkeypatches the eval's edit(); edits only.
    PYTHONPATH=. .venv/bin/python <this> TAU SEED OUT_DIR      (run on the fp32 bundle shipped until session 11)
Result (restore_pixels.log: TAU, seed, done, >= 30 dB, both, mean PSNR): the counts do not move; the misses are
background edits (the object redrawn blurry, 45 levels off) and moved or replaced objects, far past any TAU."""
import sys, json, numpy as np
from pathlib import Path
import modeling.eval.run as R
from modeling.generate import edit as _edit
TAU = float(sys.argv[1]); seed = int(sys.argv[2]); out = Path(sys.argv[3])
def restore(img, ref, tau):
    d = np.abs(img.astype(np.int16) - ref[None].astype(np.int16)).max(axis=1, keepdims=True).astype(np.float32)
    w = np.clip((2 * tau - d) / tau, 0, 1)
    return np.rint(w * ref[None] + (1 - w) * img).astype(np.uint8)
def edit2(*a, **k):
    rec = _edit(*a, **k)
    if TAU > 0:
        rec["image"] = restore(rec["image"], rec["reference_image"], TAU)
    return rec
R.edit = edit2
rep = R.evaluate(Path("resources/models/atelier-nano"), out, n_single=0, n_count=0, n_sign=0, n_pair=0, n_novel=0, n_edits=24, seed=seed, log=lambda *a: None)
e = rep["edits"]; print(TAU, seed, e["done"], e["psnr_outside_edit_ge_30db"], e["done_and_ge_30db"], e["psnr_outside_edit_mean_db"])
