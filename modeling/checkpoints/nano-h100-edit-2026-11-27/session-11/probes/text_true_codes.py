"""Probe (session 11): the sign prompts of one evaluation seed, drawn from the sampled codes and from the true
image's codes; text_true_codes-s3.png shows truth | true codes through the tokenizer's decoder | DiT from the
true codes | sampled codes through the decoder | sampled output. The eval now reports the DiT-from-true-codes
reading itself (diagnostics.text_from_true_codes).
    PYTHONPATH=. .venv/bin/python <this> SEED"""
import sys, numpy as np
from pathlib import Path
from PIL import Image
from tokenizers import Tokenizer
from modeling.backends import OnnxBackend
from modeling.data.assets import Assets
from modeling.data.scene import render
from modeling.eval.run import heldout_prompts
from modeling.eval.fidelity import image_from_true_codes, _true_codes
from modeling.eval.score import score_scene
from modeling.generate import Draws, Params, text_to_image
from modeling.rl.ocr import OcrReward
seed = int(sys.argv[1])
b = Path("resources/models/atelier-nano"); be = OnnxBackend(b, threads=2)
tok = Tokenizer.from_file(str(b / be.bundle.meta["tokenizer"]["file"])); cfg = be.cfg; P = Params.defaults(cfg)
assets = Assets(); ocr = OcrReward(None, threads=2)
items = heldout_prompts(assets, 48, 16, 24, 8, seed)
rows = []; stats = []
for s in range(0, len(items), 8):
    chunk = items[s:s+8]
    if not any(sc.sign is not None for sc, _, _ in chunk): continue
    rec = text_to_image(be, tok, [c for _, c, _ in chunk], Draws.seeded(seed + s, len(chunk), cfg.latent_shape), P)
    for j, (sc, text, kind) in enumerate(chunk):
        if sc.sign is None: continue
        img = rec["image"][j].transpose(1, 2, 0); truth = render(sc, assets)
        prev = rec["code_preview"][j]
        prev = np.clip((prev.transpose(1, 2, 0) + 1) * 127.5, 0, 255).astype(np.uint8) if prev.dtype != np.uint8 else prev.transpose(1,2,0)
        tc = image_from_true_codes(be, tok, text, truth, Draws.seeded(seed + s, len(chunk), cfg.latent_shape).noise[j:j+1], P)
        # the tokenizer's own decode of the true codes
        tcodes = _true_codes(be, truth)
        tprev = be.run("image_tokenizer_decoder", codes=tcodes[None].astype(np.int64))["image"][0]
        tprev = np.clip((tprev.transpose(1, 2, 0) + 1) * 127.5, 0, 255).astype(np.uint8)
        a = score_scene(img, sc, assets, ocr).get("text"); t = score_scene(tc, sc, assets, ocr).get("text")
        pv = score_scene(prev, sc, assets, ocr).get("text"); tp = score_scene(tprev, sc, assets, ocr).get("text")
        codes_match = float((rec["codes"][j] == tcodes).mean())
        stats.append((a, t, pv, tp)); print(f"{sc.sign.word:8s} sampled {a} truecodes {t} codepreview {pv} truepreview {tp} codes= {codes_match:.2f}", flush=True)
        rows.append(np.concatenate([truth, tprev, tc, prev, img], 1))
st = np.array(stats, float); print("means sampled/truecodes/codepreview/truecodepreview", st.mean(0))
g = np.concatenate(rows[:12], 0); Image.fromarray(g).resize((g.shape[1]*3, g.shape[0]*3), Image.NEAREST).save(f"/tmp/probe/text-s{seed}.png")
