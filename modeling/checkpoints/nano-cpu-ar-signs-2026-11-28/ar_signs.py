"""Fine-tune the text-to-image AR alone with its code cross-entropy weighted toward sign and object cells, the DiT's
condition anchored to the frozen AR's.

    PYTHONPATH=. python modeling/checkpoints/nano-cpu-ar-signs-2026-11-28/ar_signs.py CHECKPOINT OUT.safetensors SECONDS PEAK_LR SCENES \
        [LETTER_WEIGHT OBJECT_WEIGHT ANCHOR SIGN_SHARE SEED]
    from the repository root (session 22's run: this folder's README).

Why: teacher forced on unseen training scenes, the shipped AR predicts the code under a sign right 0.41 of the time
and under an object 0.35, against 0.75 elsewhere (background); from true codes the DiT reads 0.93 of the held-out
signs, from sampled ones 0.81. The AR's code loss counts every one of its 64 cells alike, so the few cells that carry
letters and object shapes get little of it. Here each cell's CE counts 1 + LETTER_WEIGHT under a sign and
1 + OBJECT_WEIGHT under an object; ANCHOR × the mean squared change of the connector's output (what the DiT reads, at
<|img_start|> and the code positions, teacher forced) keeps the condition near the one the DiT was trained on. Empty
prompts 10 % of the rows, as the generator stage, so guidance keeps its unconditional branch."""
import copy, math, sys, time, torch, numpy as np
import torch.nn.functional as F
from modeling.checkpoint import load_checkpoint, save_checkpoint
from modeling.data.dataset import make_scenes
from modeling.train import dit_alone
from modeling.train.pool import encode_images
from modeling.train.sequences import PromptBuilder
from modeling.train.stages import PROMPT_DROP, make_optimizer
import modeling.data.assets as A

ckpt, out, seconds, lr, n_scenes = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
letter_weight = float(sys.argv[6]) if len(sys.argv) > 6 else 4.0
object_weight = float(sys.argv[7]) if len(sys.argv) > 7 else 1.0
anchor = float(sys.argv[8]) if len(sys.argv) > 8 else 1.0
sign_share = float(sys.argv[9]) if len(sys.argv) > 9 else 0.5
SEED = int(sys.argv[10]) if len(sys.argv) > 10 else 23
torch.manual_seed(SEED); torch.set_num_threads(2)
model, tok = load_checkpoint(ckpt); model.eval()
A.SIGN_NARROW_PAD = 3.5; A._render_sign.cache_clear()  # signs drawn as this generator was trained (room for I and J)
t0 = time.time()
sc = make_scenes(n_scenes, seed=SEED, split="train", workers=2)
w = dit_alone.cell_weights(n_scenes, SEED, sc.signs, letter_weight, object_weight)
code_w = F.max_pool2d(w, 2).reshape(n_scenes, -1)  # the 8×8 code cells: the heaviest latent cell under each
builder = PromptBuilder(model.cfg, tok)
with torch.no_grad():
    codes, _ = encode_images(model, torch.from_numpy(sc.images), batch=512)
codes = codes.numpy()
prompts = builder.prompt_ids_batch(sc.captions)
print(f"{n_scenes} scenes in {time.time()-t0:.0f}s, signs {sc.signs.mean():.2f}, mean cell weight {code_w.mean():.2f}",
      flush=True)
frozen_ar, frozen_conn = copy.deepcopy(model.ar), model.connector
for p in model.parameters():
    p.requires_grad_(False)
params = list(model.ar.parameters())
for p in params:
    p.requires_grad_(True)
opt = make_optimizer(params, lr, "cpu")
sign_rows, other_rows = np.flatnonzero(sc.signs), np.flatnonzero(~sc.signs)
B, n = 64, codes.shape[1]
n_sign = int(round(B * sign_share))
rng = np.random.default_rng(SEED)
off = model.cfg.image_code_offset
model.ar.train()
step, run = 0, {}
while time.time() - t0 < seconds:
    frac = (time.time() - t0) / seconds
    for g in opt.param_groups:
        g["lr"] = lr * min(1, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
    idx = np.concatenate([rng.choice(sign_rows, n_sign), rng.choice(other_rows, B - n_sign)])
    p = [[] if rng.random() < PROMPT_DROP else prompts[i] for i in idx]
    ids, mask = (torch.from_numpy(a) for a in builder.rows("generate", p, codes[idx]))
    logits, hidden = model.ar.forward_full(ids, mask)
    target = torch.from_numpy(codes[idx]).long() + off
    ce = F.cross_entropy(logits[:, -(n + 1):-1].reshape(-1, logits.shape[-1]), target.reshape(-1),
                         reduction="none").reshape(B, n)
    wt = code_w[idx]
    loss_ce = (ce * wt).sum() / wt.sum()
    losses = {"ce": loss_ce, "plain_ce": ce.mean().detach()}
    loss = loss_ce
    if anchor > 0:
        with torch.no_grad():
            ref = frozen_conn(frozen_ar.forward_full(ids, mask)[1][:, -(n + 1):])
        drift = (frozen_conn(hidden[:, -(n + 1):]) - ref).pow(2).mean()
        losses["drift"] = drift.detach()
        loss = loss + anchor * drift
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    step += 1
    for k, v in losses.items():
        run[k] = 0.98 * run[k] + 0.02 * v.item() if k in run else v.item()
    if step % 50 == 0:
        print(f"step {step} {time.time()-t0:.0f}s " + " ".join(f"{k} {v:.4f}" for k, v in run.items()), flush=True)
model.ar.eval()
save_checkpoint(out, model, tok)
print(f"saved {out} after {step} steps", flush=True)
