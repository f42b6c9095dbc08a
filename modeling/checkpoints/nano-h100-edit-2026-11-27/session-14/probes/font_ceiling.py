"""Probe: how well could a sign font be read back after the image tokenizer's codes, for each candidate font?

Random 4-letter capital strings (group "wide": no I or J; "narrow": one I or J) on the evaluation's held-out
sign scenes. For each font: OCR exact on the true render, after the VAE round trip, and after the image
tokenizer's round trip (encode to codes, decode to pixels): the last is the ceiling on what the AR's codes can
carry. No AR or DiT runs, so it does not depend on what the model learned about signs.
    PYTHONPATH=. .venv/bin/python modeling/checkpoints/nano-h100-edit-2026-11-27/session-14/probes/font_ceiling.py BUNDLE N
"""
import json, random, sys
from dataclasses import replace
from pathlib import Path
import numpy as np
from modeling.backends import OnnxBackend
from modeling.data.assets import Assets
from modeling.data.scene import render
from modeling.data import split as S
from modeling.eval.run import heldout_prompts
from modeling.eval.score import score_scene
from modeling.generate import encode_reference, decode
from modeling.rl.ocr import OcrReward

FONTS = {"sans-bold (shipped)": "DejaVuSans-Bold.ttf", "sans-mono-bold": "DejaVuSansMono-Bold.ttf"}
assets = Assets(); ocr = OcrReward(None, threads=2)
backend = OnnxBackend(Path(sys.argv[1]), threads=2); cfg = backend.cfg
items = heldout_prompts(assets, 0, 0, int(sys.argv[2]), 0, 0)
wide = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "IJ"]
res = {}
for fname, ffile in FONTS.items():
    held = []
    assets.font_path = Path("/usr/share/fonts/truetype/dejavu") / ffile
    rng = random.Random(13)  # the same strings for every font
    def word(narrow):
        while True:
            w = [rng.choice(wide) for _ in range(4)]
            if narrow: w[rng.randrange(4)] = rng.choice("IJ")
            w = "".join(w)
            if w not in S.HELDOUT_WORDS: return w
    for group in ("wide", "narrow"):
        t, v, tok = [], [], []
        for scene, _, _ in items:
            sc = replace(scene, sign=replace(scene.sign, word=word(group == "narrow")))
            img = render(sc, assets)
            t.append(score_scene(img, sc, assets, ocr)["text"])
            ref = encode_reference(backend, cfg, img.transpose(2, 0, 1)[None].copy())
            vae = decode(backend, cfg, ref["ref_latents"])["image"][0].transpose(1, 2, 0)
            v.append(score_scene(vae, sc, assets, ocr)["text"])
            codes = backend.run("image_tokenizer_decoder", codes=ref["ref_codes"])["image"]
            px = np.clip(np.round((codes[0].transpose(1, 2, 0) + 1) * 127.5), 0, 255).astype(np.uint8)
            tok.append(score_scene(px, sc, assets, ocr)["text"])
        res.setdefault(fname, {})[group] = {"truth": float(np.mean(t)), "vae": float(np.mean(v)), "tokenizer": float(np.mean(tok))}
        print(fname, group, json.dumps(res[fname][group]), flush=True)
    # the held-out words themselves, same scenes, through the image tokenizer
    for scene, _, _ in items:
        img = render(scene, assets)
        ref = encode_reference(backend, cfg, img.transpose(2, 0, 1)[None].copy())
        codes = backend.run("image_tokenizer_decoder", codes=ref["ref_codes"])["image"]
        px = np.clip(np.round((codes[0].transpose(1, 2, 0) + 1) * 127.5), 0, 255).astype(np.uint8)
        held.append(score_scene(px, scene, assets, ocr)["text"])
    res[fname]["held-out words, tokenizer round trip"] = float(np.mean(held))
    print(fname, "held-out words via tokenizer", np.mean(held), flush=True)
print(json.dumps(res, indent=1))
