"""Per-letter accuracy of a bundle's signs on the training split (random capitals and training words, no held-out word).

    PYTHONPATH=. python letters.py BUNDLE N [SPLIT]     (session 20: resources/models/atelier-nano 400)

Exact match by PaddleOCR as the evaluation reads signs; a letter counts as right when the word is read exactly, or
when a read of the same length has that letter in its place."""
import sys, json, collections
from pathlib import Path
import numpy as np
from tokenizers import Tokenizer
from modeling.backends import OnnxBackend
from modeling.data.assets import Assets
from modeling.data.captions import caption
from modeling.data.scene import sample_scene, scene_rng
from modeling.eval.run import use_sign_style
from modeling.eval.score import read_text_ocr
from modeling.generate import Draws, Params, text_to_image
from modeling.rl.ocr import OcrReward
bundle = Path(sys.argv[1]); n = int(sys.argv[2]); split = sys.argv[3] if len(sys.argv) > 3 else "train"
be = OnnxBackend(bundle, threads=2); use_sign_style(be.bundle.meta)
tok = Tokenizer.from_file(str(bundle / "tokenizer.json")); ocr = OcrReward(None, threads=2)
assets = Assets(); names = assets.names(); syn = {o.name: o.synonyms for o in assets.objects}
items = []; i = 0
while len(items) < n:
    rng = scene_rng(777, split, i, "probe"); sc = sample_scene(rng, names, split); i += 1
    if sc.sign is not None: items.append((sc, caption(sc, rng, syn)))
params = Params.defaults(be.cfg)
per_letter = collections.defaultdict(list); exact = []; rows = []
for s in range(0, n, 8):
    ch = items[s:s+8]
    rec = text_to_image(be, tok, [c for _, c in ch], Draws.seeded(s, len(ch), be.cfg.latent_shape), params)
    for (sc, c), im in zip(ch, rec["image"]):
        img = im.transpose(1, 2, 0); w = sc.sign.word
        ex, sim, reads = read_text_ocr(img, w, ocr)
        exact.append(ex)
        best = max(reads, key=lambda r: sum(a == b for a, b in zip(r, w)) if len(r) == len(w) else -1, default="")
        for k, ch_ in enumerate(w):
            per_letter[ch_].append(float(ex) if ex else (1.0 if len(best) == len(w) and best[k] == ch_ else 0.0))
        rows.append((w, ex, reads))
print("exact", np.mean(exact), "n", len(exact))
print(sorted((round(float(np.mean(v)), 2), k, len(v)) for k, v in per_letter.items()))
json.dump(rows, open(f"letters-{split}.json", "w"))
