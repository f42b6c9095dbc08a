"""Average two checkpoints of one lineage: (1 - t)·A + t·B for the generator (AR, connector, DiT), A's autoencoders.
    PYTHONPATH=. python soup.py A.safetensors B.safetensors T OUT.safetensors"""
import sys, torch
from safetensors import safe_open
from safetensors.torch import save_file
a_path, b_path, t, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
a, b = safe_open(a_path, "pt"), safe_open(b_path, "pt")
res = {}
n_avg = 0
for k in a.keys():
    x, y = a.get_tensor(k).float(), b.get_tensor(k).float()
    if k.startswith(("vae.", "image_tokenizer.")) or not x.is_floating_point():
        res[k] = x.contiguous()
        if not torch.equal(x, y.to(x.dtype)) and x.is_floating_point() and (x - y).abs().max() > 1e-3:
            print("autoencoder differs", k, float((x - y).abs().max()))
    else:
        res[k] = ((1 - t) * x + t * y).contiguous(); n_avg += 1
meta = {k: v for k, v in a.metadata().items() if k != "dtype_note"}
save_file(res, out, metadata=meta)
print("averaged", n_avg, "tensors of", len(res))
