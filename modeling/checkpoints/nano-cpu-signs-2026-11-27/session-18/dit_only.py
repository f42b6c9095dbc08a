"""Train the text-to-image DiT alone on a frozen AR + connector, with the condition precomputed once.

The AR and connector are frozen, so the condition of each pool row (connector(AR hidden states of the prompt and
the image's true codes, teacher forced)) never changes: computing it once makes each step a DiT step only."""
import sys, time, math, torch, numpy as np
from pathlib import Path
from modeling.checkpoint import load_checkpoint, save_checkpoint
from modeling.data.dataset import make_scenes
from modeling.train.pool import encode_images
from modeling.train.sequences import PromptBuilder
from modeling.train.stages import make_optimizer, COND_DROP
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
    ids, mask = builder.rows("generate", builder.prompt_ids_batch(sc.captions), codes.numpy())
    ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
    n = codes.shape[1]
    conds = []
    for i in range(0, len(ids), 256):
        _, hidden = model.ar.forward_full(ids[i:i+256], mask[i:i+256])
        conds.append(model.connector(hidden[:, -(n + 1):]).half())
    cond = torch.cat(conds)
print(f"condition precomputed {tuple(cond.shape)} in {time.time()-t0:.0f}s", flush=True)
dit = model.dit; dit.train()
for p in model.parameters(): p.requires_grad_(False)
params = list(dit.parameters())
for p in params: p.requires_grad_(True)
opt = make_optimizer(params, lr, "cpu")
B, step, t1, run = 64, 0, time.time(), 0.0
while time.time() - t1 < seconds:
    frac = (time.time() - t1) / seconds
    for g in opt.param_groups: g["lr"] = lr * min(1, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
    idx = torch.randint(0, len(cond), (B,))
    loss = dit.loss(latents[idx], cond[idx].float(), None, cond_drop_prob=COND_DROP)
    opt.zero_grad(set_to_none=True); loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step(); step += 1
    run = 0.98 * run + 0.02 * loss.item() if step > 1 else loss.item()
    if step % 100 == 0:
        print(f"step {step} {time.time()-t1:.0f}s {step/(time.time()-t1):.2f} steps/s flow {run:.4f}", flush=True)
model.eval()
save_checkpoint(out, model, tok)
print(f"saved {out} after {step} steps", flush=True)
