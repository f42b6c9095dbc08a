"""Train the text-to-image DiT alone, conditioned half the time on the AR's own resampled codes, not the true ones.

    PYTHONPATH=. python dit_robust.py CHECKPOINT OUT.safetensors SECONDS PEAK_LR SCENES RESAMPLED_SHARE \
        [SIGN_SHARE LETTER_WEIGHT SEED]
    from the repository root (session 21's runs: this folder's README).

Why: drawn from the *true* image codes the shipped generator reads its held-out signs right 0.95 of the time, from the
codes its AR samples 0.80 (object 0.81 against 0.73). The DiT has only ever been trained on the condition computed
from true codes (teacher forced), and at generation it meets the hidden states of sampled codes, with the AR's
mistakes in them. Here each scene's codes are also resampled position by position from the AR's own guided
distribution given the true prefix (guidance, temperature, top-k and top-p as the bundle samples), so the mistakes are
the AR's (an O's code where a U is likely) while the layout stays the scene's; for RESAMPLED_SHARE of each batch the
DiT is conditioned on those and still asked for the true latent, so it learns to draw what the prompt and the
neighbouring codes say where one code is off. As dit_signs.py otherwise (half of each batch signs, the cells under a
sign counting 1 + LETTER_WEIGHT times); both conditions are computed once, so each step is a DiT step only (modeling.train.dit_alone). Its train.log was
written before that module took the loop over, and its "flow" is the unweighted mean of the flow loss (the module
logs the weighted loss it trains on)."""
import sys, time, json, torch, numpy as np
from modeling.checkpoint import load_checkpoint, save_checkpoint
from modeling.data.dataset import make_scenes
from modeling.train import dit_alone
from modeling.train.pool import encode_images
from modeling.train.sequences import PromptBuilder
import modeling.data.assets as A

ckpt, out, seconds, lr, n_scenes = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
resampled_share = float(sys.argv[6])
sign_share = float(sys.argv[7]) if len(sys.argv) > 7 else 0.5
letter_weight = float(sys.argv[8]) if len(sys.argv) > 8 else 4.0
SEED = int(sys.argv[9]) if len(sys.argv) > 9 else 22
torch.manual_seed(SEED); torch.set_num_threads(2)
gen = torch.Generator().manual_seed(SEED)
model, tok = load_checkpoint(ckpt); model.eval()
A.SIGN_NARROW_PAD = 3.5; A._render_sign.cache_clear()  # signs drawn as this generator was trained (room for I and J)
sampling = json.load(open("resources/models/atelier-nano/bundle.json"))["sampling"]  # as the shipped bundle samples
t0 = time.time()
sc = make_scenes(n_scenes, seed=SEED, split="train", workers=2)
weight = dit_alone.cell_weights(n_scenes, SEED, sc.signs, letter_weight)
print(f"{n_scenes} scenes in {time.time()-t0:.0f}s, signs {sc.signs.mean():.2f}", flush=True)
builder = PromptBuilder(model.cfg, tok)
changed, changed_sign = [], []
with torch.no_grad():
    codes, latents = encode_images(model, torch.from_numpy(sc.images), batch=512)
    prompts = builder.prompt_ids_batch(sc.captions)
    conds, conds_rs = [], []
    for i in range(0, n_scenes, 256):
        c, p = codes[i:i+256].numpy(), prompts[i:i+256]
        logits, cond = dit_alone.teacher_forced(model, builder, p, c)
        conds.append(cond.half())
        rs = dit_alone.resample_codes(model, builder, p, c, sampling, gen, logits)
        diff = rs != c
        changed.append(diff.mean(1))
        s = sc.signs[i:i+256]
        if s.any():
            # code cells (8×8) under the sign: the latent weight mask pooled 2×2
            cell = (torch.nn.functional.max_pool2d(weight[i:i+256], 2) > 1).reshape(len(c), -1).numpy()
            changed_sign.append((diff & cell)[s].sum() / max(1, cell[s].sum()))
        conds_rs.append(dit_alone.teacher_forced(model, builder, p, rs)[1].half())
    cond, cond_rs = torch.cat(conds), torch.cat(conds_rs)
print(f"conditions precomputed {tuple(cond.shape)} x2 in {time.time()-t0:.0f}s; resampled codes differ from the true "
      f"ones at {np.concatenate(changed).mean():.3f} of positions, {np.mean(changed_sign):.3f} of those under a sign",
      flush=True)
sign_rows = torch.from_numpy(np.flatnonzero(sc.signs)); other_rows = torch.from_numpy(np.flatnonzero(~sc.signs))
B = 64
n_sign = int(round(B * sign_share))
batch_rows = lambda: torch.cat([sign_rows[torch.randint(0, len(sign_rows), (n_sign,))],
                                other_rows[torch.randint(0, len(other_rows), (B - n_sign,))]])
condition_of = lambda idx: torch.where((torch.rand(len(idx)) < resampled_share)[:, None, None],
                                       cond_rs[idx], cond[idx]).float()
step = dit_alone.train(model, latents, batch_rows, condition_of, seconds, lr, weight,
                       log=lambda line: print(line, flush=True))
save_checkpoint(out, model, tok)
print(f"saved {out} after {step} steps", flush=True)
