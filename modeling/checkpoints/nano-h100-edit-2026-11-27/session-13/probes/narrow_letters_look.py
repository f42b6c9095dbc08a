import sys, numpy as np
from dataclasses import replace
from pathlib import Path
from PIL import Image
from tokenizers import Tokenizer
from modeling.backends import OnnxBackend
from modeling.data.assets import Assets
from modeling.data.scene import render
from modeling.eval.run import heldout_prompts
from modeling.eval.fidelity import image_from_true_codes
from modeling.generate import Draws, Params, text_to_image
assets = Assets(); b = Path("resources/models/atelier-nano"); be = OnnxBackend(b, threads=2); cfg = be.cfg
tok = Tokenizer.from_file(str(b / "tokenizer.json")); params = Params.defaults(cfg)
items = heldout_prompts(assets, 0, 0, 6, 0, 0)
rows = []
for i, w in enumerate(["GIFT", "JOY", "DRINK", "TOWN", "BAKE", "LAKE"]):
    scene, text, _ = items[i]
    sc = replace(scene, sign=replace(scene.sign, word=w)); p = text.replace(f'"{scene.sign.word}"', f'"{w}"')
    truth = render(sc, assets)
    tc = image_from_true_codes(be, tok, p, truth, Draws.seeded(7, 1, cfg.latent_shape).noise, params)
    gen = text_to_image(be, tok, [p] * 3, Draws.seeded(11, 3, cfg.latent_shape), params)["image"]
    rows.append(np.concatenate([truth, tc] + [g.transpose(1, 2, 0) for g in gen], axis=1))
Image.fromarray(np.concatenate(rows, 0)).resize((5 * 64 * 4, 6 * 64 * 4), Image.NEAREST).save("/tmp/narrow_letters_full.png")
