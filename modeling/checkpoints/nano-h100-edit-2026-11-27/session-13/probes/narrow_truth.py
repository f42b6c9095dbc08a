"""The OCR on the true renders of the probe's words (is the scorer itself the limit?), and the VAE round trip."""
import random, sys
from dataclasses import replace
import numpy as np
from pathlib import Path
from modeling.backends import OnnxBackend
from modeling.data.assets import Assets
from modeling.data.scene import render
from modeling.data import split as S
from modeling.eval.run import heldout_prompts
from modeling.eval.score import score_scene
from modeling.generate import encode_reference, decode
from modeling.rl.ocr import OcrReward
assets = Assets(); ocr = OcrReward(None, threads=2)
backend = OnnxBackend(Path(sys.argv[1]), threads=2); cfg = backend.cfg
items = heldout_prompts(assets, 0, 0, 96, 0, 0)
rng = random.Random(13)
wide = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "IJ"]
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
    print(group, "truth", np.mean(t), "vae round trip", np.mean(v), "image-tokenizer round trip", np.mean(tok), flush=True)
