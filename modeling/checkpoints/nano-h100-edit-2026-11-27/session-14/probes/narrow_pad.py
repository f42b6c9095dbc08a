"""Probe: do narrow capitals drawn with extra room (SIGN_NARROW_PAD) survive the model better, before any training?

Session 13's "narrow" group (random 4-letter capitals with one I or J, same strings and scenes), drawn with
pad 0 (shipped) and each pad given. OCR exact on the true render, after the VAE round trip, from the true codes
(AR teacher-forced on the render's codes, then the DiT: the DiT's share) and from sampled codes (the shipped AR,
which never saw padded signs).
    PYTHONPATH=. .venv/bin/python modeling/checkpoints/nano-h100-edit-2026-11-27/session-14/probes/narrow_pad.py BUNDLE N PAD...
"""
import json, random, sys
from dataclasses import replace
from pathlib import Path
import numpy as np
from tokenizers import Tokenizer
from modeling.backends import OnnxBackend
from modeling.data import assets as A
from modeling.data.scene import render
from modeling.data import split as S
from modeling.eval.run import heldout_prompts
from modeling.eval.fidelity import image_from_true_codes
from modeling.eval.score import score_scene
from modeling.generate import Draws, Params, text_to_image, encode_reference, decode
from modeling.rl.ocr import OcrReward

bundle, n, pads = Path(sys.argv[1]), int(sys.argv[2]), [float(p) for p in sys.argv[3:]]
assets = A.Assets(); ocr = OcrReward(None, threads=2)
backend = OnnxBackend(bundle, threads=2); cfg = backend.cfg
tok = Tokenizer.from_file(str(bundle / backend.bundle.meta["tokenizer"]["file"]))
params = Params.defaults(cfg)
items = heldout_prompts(assets, 0, 0, n, 0, 0)
wide = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "IJ"]
res = {}
for pad in pads:
    A.SIGN_NARROW_PAD = pad
    A._render_sign.cache_clear()
    rng = random.Random(13)
    def word(narrow):
        while True:
            w = [rng.choice(wide) for _ in range(4)]
            if narrow:
                w[rng.randrange(4)] = rng.choice("IJ")
            w = "".join(w)
            if w not in S.HELDOUT_WORDS:
                return w
    [word(False) for _ in items]  # session 13 drew the wide group's strings first
    scenes, prompts = [], []
    for scene, text, _ in items:
        w = word(True)
        scenes.append(replace(scene, sign=replace(scene.sign, word=w)))
        prompts.append(text.replace(f'"{scene.sign.word}"', f'"{w}"'))
    truth, vae, true, sampled = [], [], [], []
    for s in range(0, len(prompts), 8):
        rec = text_to_image(backend, tok, prompts[s:s + 8], Draws.seeded(s, len(prompts[s:s + 8]), cfg.latent_shape), params)
        for k, im in enumerate(rec["image"]):
            sc = scenes[s + k]
            img = render(sc, assets)
            truth.append(score_scene(img, sc, assets, ocr)["text"])
            ref = encode_reference(backend, cfg, img.transpose(2, 0, 1)[None].copy())
            vae.append(score_scene(decode(backend, cfg, ref["ref_latents"])["image"][0].transpose(1, 2, 0), sc, assets, ocr)["text"])
            sampled.append(score_scene(im.transpose(1, 2, 0), sc, assets, ocr)["text"])
            t = image_from_true_codes(backend, tok, prompts[s + k], img, Draws.seeded(3000 + s + k, 1, cfg.latent_shape).noise, params)
            true.append(score_scene(t, sc, assets, ocr)["text"])
    res[pad] = {"n": len(truth), "truth": float(np.mean(truth)), "vae": float(np.mean(vae)),
                "from_true_codes": float(np.mean(true)), "sampled": float(np.mean(sampled)), "examples": [p.split('"')[1] for p in prompts[:8]]}
    print(pad, json.dumps(res[pad]), flush=True)
print(json.dumps(res))
