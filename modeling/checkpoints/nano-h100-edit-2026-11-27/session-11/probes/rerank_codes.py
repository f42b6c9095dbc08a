"""Probe (session 11, not project code): best of N AR code sequences per prompt by the AR's own score
(pmi = sum log p_cond - log p_uncond; cond = sum log p_cond; guided = sum log p under the guided logits); the DiT
runs once on the winner. Candidate 0 uses the usual draws, so N=1 reproduces the evaluation exactly.
    PYTHONPATH=. .venv/bin/python <this> N SCORE SEED OUT_DIR [EDITS]
Result (rerank_codes.log, text-to-image only, four seeds): guided 0.860, cond 0.859, pmi lower (0.83 on
seeds 0-1; it picks unlikely signs), against 0.856 for N=1: no gain beyond one seed's noise."""
"""Experiment: best-of-N AR code sequences by the AR's own score; the DiT runs once on the winner."""
import sys, json, numpy as np
from pathlib import Path
import modeling.eval.run as R
import modeling.generate as G
from modeling.sampling import Rng
N = int(sys.argv[1]); SCORE = sys.argv[2]; seed = int(sys.argv[3]); out = Path(sys.argv[4])
EDITS = int(sys.argv[5]) if len(sys.argv) > 5 else 0
calls = [0]

def lsm(x):
    x = x.astype(np.float64); m = x.max(); return x - m - np.log(np.exp(x - m).sum())

def sc(backend, cfg, prompt_ids, draws, params, pad_id, uncond_ids=None):
    B = len(prompt_ids); guided = params.ar_cfg_scale != 1.0
    calls[0] += 1
    fns = [draws.uniform_fn(b) for b in range(B)]
    for j in range(1, N):
        fns += [Rng(10**7 * j + 1000 * calls[0] + b, 0).uniform for b in range(B)]
    big = G.Draws(fns, draws.noise)
    seqs = prompt_ids * N; un = (uncond_ids * N) if guided else None
    # the reference sampler, with per-step scores recorded through a wrapped sample_token
    off, V = cfg.image_code_offset, cfg.codebook_size
    rec = ORIG(backend, cfg, seqs, big, params, pad_id, un) if N == 1 else _sample(backend, cfg, seqs, big, params, pad_id, un)
    if N == 1:
        return rec
    s = rec["scores"][SCORE]  # [B*N]
    pick = [max(range(N), key=lambda j: s[j * B + b]) * B + b for b in range(B)]
    return {"prompt_ids": rec["prompt_ids"][pick], "attention_mask": rec["attention_mask"][pick],
            "uniforms": [rec["uniforms"][i] for i in pick], "codes": rec["codes"][pick], "hidden": rec["hidden"][pick]}

def _sample(backend, cfg, prompt_ids, draws, params, pad_id, uncond_ids):
    batch, count = len(prompt_ids), cfg.code_count
    guided = params.ar_cfg_scale != 1.0
    ids, mask = G.left_pad(prompt_ids + (uncond_ids if guided else []), pad_id)
    rows = ids.shape[0]
    pos = np.maximum(np.cumsum(mask, axis=1) - 1, 0).astype(np.int64)
    a = cfg.ar; past = {}
    for i in range(a.layers):
        past[f"past_key_{i}"] = np.zeros((rows, a.kv_heads, 0, a.head_dim), np.float32)
        past[f"past_value_{i}"] = np.zeros((rows, a.kv_heads, 0, a.head_dim), np.float32)
    out = backend.run("ar", input_ids=ids, attention_mask=mask, position_ids=pos, **past)
    hiddens = [out["hidden"][:batch, -1]]; last_pos = pos[:, -1]
    codes = np.zeros((batch, count), np.int64); uniforms = [[] for _ in range(batch)]; full_mask = mask
    off, V = cfg.image_code_offset, cfg.codebook_size
    sc = {k: np.zeros(batch) for k in ("pmi", "cond", "guided")}
    for step in range(count):
        tokens = np.zeros((rows, 1), np.int64)
        for b in range(batch):
            u = draws.uniform(b); uniforms[b].append(u)
            lc = out["logits"][b, -1].astype(np.float64); logits = lc
            if guided:
                un = out["logits"][batch + b, -1].astype(np.float64)
                logits = un + params.ar_cfg_scale * (lc - un)
            t = G.sample_token(logits, u, off, V, params.temperature, params.top_k, params.top_p)
            tokens[b, 0] = t; k = t - off
            c = lsm(lc[off:off + V]); g = lsm(logits[off:off + V])
            sc["cond"][b] += c[k]; sc["guided"][b] += g[k]
            if guided:
                sc["pmi"][b] += c[k] - lsm(un[off:off + V])[k]
        if guided:
            tokens[batch:] = tokens[:batch]
        codes[:, step] = tokens[:batch, 0] - off
        past = {k.replace("present", "past"): v for k, v in out.items() if k.startswith("present_")}
        full_mask = np.concatenate([full_mask, np.ones((rows, 1), np.int64)], axis=1); last_pos = last_pos + 1
        out = backend.run("ar", input_ids=tokens, attention_mask=full_mask, position_ids=last_pos[:, None], **past)
        hiddens.append(out["hidden"][:batch, -1])
    return {"prompt_ids": ids[:batch], "attention_mask": mask[:batch], "uniforms": uniforms, "codes": codes,
            "hidden": np.stack(hiddens, axis=1).astype(np.float32), "scores": sc}

# Draws exposes uniform(b) only: keep the functions
G.Draws.uniform_fn = lambda self, b: self._uniform_fns[b]
ORIG = G.sample_codes
G.sample_codes = sc
import time; t0 = time.time()
rep = R.evaluate(Path("resources/models/atelier-nano"), out, n_edits=EDITS, seed=seed, log=lambda *a: None)
c = rep["categories"]
print(N, SCORE, seed, round(rep["overall"], 4), {k: round(v, 3) for k, v in c.items()}, "sim", round(rep["text_detail"]["text_similarity"], 3),
      "edits", rep["edits"]["done"] if EDITS else None, rep["edits"]["done_and_ge_30db"] if EDITS else None, f"{time.time()-t0:.0f}s", flush=True)
