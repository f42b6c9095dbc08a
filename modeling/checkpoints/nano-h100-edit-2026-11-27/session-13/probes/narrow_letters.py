"""Probe: does the AR lose sign text on words with narrow letters (I, J)?

The eval's held-out sign prompts, with the word swapped for random 4-letter capital strings (the kind half of
the training signs show): group "wide" has no I or J, group "narrow" has exactly one I or J. Same scenes, seeds
and sampling; OCR exact match from the sampled codes and from the true codes (the DiT's share).
    PYTHONPATH=. .venv/bin/python modeling/checkpoints/nano-h100-edit-2026-11-27/session-13/probes/narrow_letters.py BUNDLE N
"""
import json, random, sys
from dataclasses import replace
from pathlib import Path
import numpy as np
from tokenizers import Tokenizer
from modeling.backends import OnnxBackend
from modeling.data.assets import Assets
from modeling.data.scene import render
from modeling.data import split as S
from modeling.eval.run import heldout_prompts
from modeling.eval.fidelity import image_from_true_codes
from modeling.eval.score import score_scene
from modeling.generate import Draws, Params, text_to_image
from modeling.rl.ocr import OcrReward

bundle, n = Path(sys.argv[1]), int(sys.argv[2])
assets = Assets(); ocr = OcrReward(None, threads=2)
backend = OnnxBackend(bundle, threads=2); cfg = backend.cfg
tok = Tokenizer.from_file(str(bundle / backend.bundle.meta["tokenizer"]["file"]))
params = Params.defaults(cfg)
items = heldout_prompts(assets, 0, 0, n, 0, 0)
rng = random.Random(13)
wide = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "IJ"]
def word(narrow):
    while True:
        w = [rng.choice(wide) for _ in range(4)]
        if narrow:
            w[rng.randrange(4)] = rng.choice("IJ")
        w = "".join(w)
        if w not in S.HELDOUT_WORDS:
            return w
res = {}
for group in ("wide", "narrow"):
    scenes, prompts = [], []
    for scene, text, _ in items:
        w = word(group == "narrow")
        scenes.append(replace(scene, sign=replace(scene.sign, word=w)))
        prompts.append(text.replace(f'"{scene.sign.word}"', f'"{w}"'))
    sampled, true = [], []
    for s in range(0, len(prompts), 8):
        rec = text_to_image(backend, tok, prompts[s:s + 8], Draws.seeded(s, len(prompts[s:s + 8]), cfg.latent_shape), params)
        for k, im in enumerate(rec["image"]):
            sc = scenes[s + k]
            sampled.append(score_scene(im.transpose(1, 2, 0), sc, assets, ocr)["text"])
            img = image_from_true_codes(backend, tok, prompts[s + k], render(sc, assets), Draws.seeded(3000 + s + k, 1, cfg.latent_shape).noise, params)
            true.append(score_scene(img, sc, assets, ocr)["text"])
    res[group] = {"n": len(sampled), "text_exact": float(np.mean(sampled)), "se": float(np.std(sampled, ddof=1) / np.sqrt(len(sampled))),
                  "text_from_true_codes": float(np.mean(true)), "examples": [p.split('"')[1] for p in prompts[:8]]}
    print(group, json.dumps(res[group]), flush=True)
print(json.dumps(res))
