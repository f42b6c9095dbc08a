"""How well an AR predicts the image codes under signs, under objects and elsewhere, teacher forced on unseen
training scenes (pool seed 99): cross-entropy and top-1 of its conditional logits, and of the guided logits the bundle
samples from (guidance 2; the unconditional branch is the empty prompt, as the engine's).

    PYTHONPATH=. python modeling/checkpoints/nano-cpu-ar-signs-2026-11-28/code_accuracy.py CHECKPOINT [SCENES]
"""
import sys, torch
import torch.nn.functional as F
from modeling.checkpoint import load_checkpoint
from modeling.data.dataset import make_scenes
from modeling.train import dit_alone
from modeling.train.pool import encode_images
from modeling.train.sequences import PromptBuilder
import modeling.data.assets as A

torch.set_num_threads(2)
model, tok = load_checkpoint(sys.argv[1]); model.eval()
n, seed, guidance = int(sys.argv[2]) if len(sys.argv) > 2 else 1024, 99, 2.0
A.SIGN_NARROW_PAD = 3.5; A._render_sign.cache_clear()  # signs drawn as this generator was trained
sc = make_scenes(n, seed=seed, split="train", workers=2)
# 8×8 code cells under a sign / under an object (not a sign): the latent cell masks pooled 2×2
sign_cell = (F.max_pool2d(dit_alone.cell_weights(n, seed, sc.signs, 4.0, 0.0), 2) > 1).reshape(n, -1)
obj_cell = (F.max_pool2d(dit_alone.cell_weights(n, seed, sc.signs, 0.0, 1.0), 2) > 1).reshape(n, -1) & ~sign_cell
builder = PromptBuilder(model.cfg, tok)
off, V = model.cfg.image_code_offset, model.cfg.codebook_size
ce, hit = {"plain": [], "guided": []}, {"plain": [], "guided": []}
with torch.no_grad():
    codes, _ = encode_images(model, torch.from_numpy(sc.images), batch=512)
    prompts = builder.prompt_ids_batch(sc.captions)
    for i in range(0, n, 256):
        c, p = codes[i:i + 256].numpy(), prompts[i:i + 256]
        cond = dit_alone.teacher_forced(model, builder, p, c)[0][..., off:off + V].float()
        uncond = dit_alone.teacher_forced(model, builder, [[]] * len(c), c)[0][..., off:off + V].float()
        t = torch.from_numpy(c).long()
        for kind, lg in (("plain", cond), ("guided", uncond + guidance * (cond - uncond))):
            ce[kind].append(F.cross_entropy(lg.reshape(-1, V), t.reshape(-1), reduction="none").reshape(t.shape))
            hit[kind].append((lg.argmax(-1) == t).float())
for kind in ("plain", "guided"):
    c, h = torch.cat(ce[kind]), torch.cat(hit[kind])
    print(kind.ljust(7) + "  ".join(f"{name} CE {c[m].mean():.3f} top-1 {h[m].mean():.3f}" for name, m in
                                    (("sign", sign_cell), ("object", obj_cell), ("rest", ~sign_cell & ~obj_cell))))
