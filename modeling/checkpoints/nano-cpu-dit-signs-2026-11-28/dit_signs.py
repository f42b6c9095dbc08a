"""Train the text-to-image DiT alone on a frozen AR + connector, with more weight on signs and on the letters.

    PYTHONPATH=. python dit_signs.py CHECKPOINT OUT.safetensors SECONDS PEAK_LR SCENES SIGN_SHARE LETTER_WEIGHT \
        [OBJECT_WEIGHT [SEED]]
    from the repository root. Session 20 (2 CPU cores):
    run 1, shipped: modeling/checkpoints/nano-cpu-signs-2026-11-27/model-fp16.safetensors /tmp/s20/dit-signs.safetensors
        2400 8e-5 24000 0.5 4, then rounded to this folder's model-fp16.safetensors (modeling.train.ship.fp16_checkpoint);
    run 2, objects-weighted/ (not shipped): /tmp/s20/dit-signs.safetensors (run 1, float32)
        /tmp/s20/dit-signs-objects.safetensors 1200 5e-5 24000 0.5 4 2 21

Why: the held-out signs this generator misses are lost in the DiT as much as in the AR — drawn from the *true*
codes, "JOY" reads right 1 time in 4 and "GIFT" 3 in 4, while the autoencoder's round trip of the same scenes reads
them (this folder's README). The flow loss is a mean over the 16×16 latent, where a sign's letters cover
a few cells, so the letters get little of the gradient. Here rows with a sign make up SIGN_SHARE of each batch
(0.31 of the pool), and the latent cells under the sign's box count 1 + LETTER_WEIGHT times in the loss; with
OBJECT_WEIGHT the cells under each object's box count 1 + OBJECT_WEIGHT times (object is the other category this
DiT loses: 0.81 from the true codes against 0.93 for the autoencoder's round trip).
As session 18's dit_only.py otherwise: the condition (connector(AR hidden states of the prompt and the image's
true codes, teacher forced)) is computed once, so each step is a DiT step only (modeling.train.dit_alone, which took
the loop over in session 21; this folder's train.log was written before, and its "flow" is the unweighted mean of the
flow loss, where the module logs the weighted loss it trains on)."""
import sys, time, torch, numpy as np
from modeling.checkpoint import load_checkpoint, save_checkpoint
from modeling.data.dataset import make_scenes
from modeling.train import dit_alone
from modeling.train.pool import encode_images
from modeling.train.sequences import PromptBuilder
import modeling.data.assets as A

ckpt, out, seconds, lr, n_scenes = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
sign_share, letter_weight = float(sys.argv[6]), float(sys.argv[7])
object_weight = float(sys.argv[8]) if len(sys.argv) > 8 else 0.0
SEED = int(sys.argv[9]) if len(sys.argv) > 9 else 20
torch.manual_seed(SEED); torch.set_num_threads(2)
model, tok = load_checkpoint(ckpt); model.eval()
A.SIGN_NARROW_PAD = 3.5; A._render_sign.cache_clear()  # signs drawn as this generator was trained (room for I and J)
t0 = time.time()
sc = make_scenes(n_scenes, seed=SEED, split="train", workers=2)
weight = dit_alone.cell_weights(n_scenes, SEED, sc.signs, letter_weight, object_weight)
print(f"{n_scenes} scenes in {time.time()-t0:.0f}s, signs {sc.signs.mean():.2f}, "
      f"sign cells per sign row {(weight[torch.from_numpy(sc.signs)] > 1).float().sum((1, 2, 3)).mean():.1f}", flush=True)
builder = PromptBuilder(model.cfg, tok)
with torch.no_grad():
    codes, latents = encode_images(model, torch.from_numpy(sc.images), batch=512)
    cond = dit_alone.conditions(model, builder, builder.prompt_ids_batch(sc.captions), codes.numpy())
assert latents.shape[-2:] == weight.shape[-2:]
print(f"condition precomputed {tuple(cond.shape)} in {time.time()-t0:.0f}s", flush=True)
sign_rows = torch.from_numpy(np.flatnonzero(sc.signs)); other_rows = torch.from_numpy(np.flatnonzero(~sc.signs))
B = 64
n_sign = int(round(B * sign_share))
batch_rows = lambda: torch.cat([sign_rows[torch.randint(0, len(sign_rows), (n_sign,))],
                                other_rows[torch.randint(0, len(other_rows), (B - n_sign,))]])
step = dit_alone.train(model, latents, batch_rows, lambda idx: cond[idx].float(), seconds, lr, weight,
                       log=lambda line: print(line, flush=True))
save_checkpoint(out, model, tok)
print(f"saved {out} after {step} steps", flush=True)
