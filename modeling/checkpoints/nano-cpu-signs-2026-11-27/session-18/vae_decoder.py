"""Fine-tune the VAE decoder alone (the encoder frozen, so latents, codes and the generators stay valid).
    PYTHONPATH=. python vae_decoder.py CHECKPOINT OUT.safetensors SECONDS LR     (session 18: ../model-fp16.safetensors, 900 s, 1e-3)
Held-out PSNR of the round trip is printed before, every 200 steps and after."""
import sys, time, math, torch, numpy as np
import torch.nn.functional as F
from pathlib import Path
from modeling.checkpoint import load_checkpoint, save_checkpoint
from modeling.data.dataset import make_scenes, make_edits
from modeling.train.pool import to_float
import modeling.data.assets as A
ckpt, out, seconds, lr = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
torch.manual_seed(0); torch.set_num_threads(2)
model, tok = load_checkpoint(ckpt)
vae = model.vae
imgs = []
for pad, seed in ((3.5, 21), (0.0, 22)):
    A.SIGN_NARROW_PAD = pad; A._render_sign.cache_clear()
    s = make_scenes(12000, seed=seed, split="train", workers=2); imgs.append(s.images)
    e = make_edits(3000, seed=seed, split="train", workers=2); imgs += [e.sources, e.targets]
train = torch.from_numpy(np.concatenate(imgs))
A.SIGN_NARROW_PAD = 3.5; A._render_sign.cache_clear()
held = torch.from_numpy(make_scenes(512, seed=99, split="heldout", workers=2).images)
print("train images", train.shape, flush=True)
with torch.no_grad():  # latents once: the encoder is frozen (posterior mean, as the graphs use)
    lat = torch.cat([vae.encode(to_float(train[i:i+512]))[0] for i in range(0, len(train), 512)])
    lat_h = torch.cat([vae.encode(to_float(held[i:i+512]))[0] for i in range(0, len(held), 512)])
def psnr_held():
    with torch.no_grad():
        r = torch.cat([vae.decode(lat_h[i:i+256]) for i in range(0, len(lat_h), 256)]).clamp(-1, 1)
        x = to_float(held)
        mse = ((r - x) / 2).pow(2).flatten(1).mean(1)
        return float((10 * torch.log10(1 / mse)).mean()), float(F.l1_loss(r, x))
print("before: held-out PSNR %.2f dB, L1 %.4f" % psnr_held(), flush=True)
for p in model.parameters(): p.requires_grad_(False)
params = list(vae.decoder.parameters())
for p in params: p.requires_grad_(True)
opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
t0 = time.time(); step = 0; B = 64
while time.time() - t0 < seconds:
    frac = (time.time() - t0) / seconds
    for g in opt.param_groups: g["lr"] = lr * min(1, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
    idx = torch.randint(0, len(train), (B,))
    x = to_float(train[idx]); z = lat[idx]
    r = vae.decode(z)
    loss = F.mse_loss(r, x) + 0.5 * F.l1_loss(r, x)
    opt.zero_grad(); loss.backward(); opt.step(); step += 1
    if step % 200 == 0:
        print(f"step {step} {time.time()-t0:.0f}s loss {loss.item():.5f} held PSNR %.2f L1 %.4f" % psnr_held(), flush=True)
print("after %d steps: held-out PSNR %.2f dB, L1 %.4f" % ((step,) + psnr_held()), flush=True)
model.eval()
save_checkpoint(out, model, tok)
