"""Train the text-to-image DiT alone on a frozen AR + connector, with the condition precomputed once.

The AR and connector are frozen, so the condition of each pool row (connector(AR hidden states of the prompt and
the image's true codes, teacher forced)) never changes: computing it once makes each step a DiT step only
(modeling.train.dit_alone, which took this loop over in session 21)."""
import sys, time, torch
from modeling.checkpoint import load_checkpoint, save_checkpoint
from modeling.data.dataset import make_scenes
from modeling.train import dit_alone
from modeling.train.pool import encode_images
from modeling.train.sequences import PromptBuilder
import modeling.data.assets as A
# PYTHONPATH=. python dit_only.py CHECKPOINT OUT.safetensors SECONDS PEAK_LR SCENES   (session 18: ../model-fp16.safetensors, 2400, 8e-5, 24000)
ckpt, out, seconds, lr, n_scenes = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
torch.manual_seed(18); torch.set_num_threads(2)
model, tok = load_checkpoint(ckpt); model.eval()
A.SIGN_NARROW_PAD = 3.5; A._render_sign.cache_clear()
t0 = time.time()
sc = make_scenes(n_scenes, seed=18, split="train", workers=2)
print(f"{n_scenes} scenes in {time.time()-t0:.0f}s, signs {sc.signs.mean():.2f}", flush=True)
builder = PromptBuilder(model.cfg, tok)
with torch.no_grad():
    codes, latents = encode_images(model, torch.from_numpy(sc.images), batch=512)
    cond = dit_alone.conditions(model, builder, builder.prompt_ids_batch(sc.captions), codes.numpy())
print(f"condition precomputed {tuple(cond.shape)} in {time.time()-t0:.0f}s", flush=True)
step = dit_alone.train(model, latents, lambda: torch.randint(0, len(cond), (64,)), lambda idx: cond[idx].float(),
                       seconds, lr, log=lambda line: print(line, flush=True))
save_checkpoint(out, model, tok)
print(f"saved {out} after {step} steps", flush=True)
