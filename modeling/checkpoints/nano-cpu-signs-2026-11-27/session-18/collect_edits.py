"""The shipped bundle's edits (source, target, output, the region that must not change) for caps.py.

    PYTHONPATH=. python collect_edits.py heldout 0,1,2,3,4,5,6,7 heldout.pkl   # the evaluation's 192 edits
    PYTHONPATH=. python collect_edits.py train 100,101,...,107 train.pkl       # edits of the training split

The same pairs and noise draws as `modeling.eval.run` (its edit loop without the fidelity probes)."""
import pickle, sys
from pathlib import Path

from tokenizers import Tokenizer

from modeling.backends import OnnxBackend
from modeling.data.assets import Assets
from modeling.data.edits import edit_mask, sample_edit
from modeling.data.scene import render, scene_rng
from modeling.eval.run import use_sign_style
from modeling.generate import Draws, Params, edit

split, seeds, out = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3]
bundle = Path("resources/models/atelier-nano")
assets = Assets()
names, syn = assets.names(), {o.name: o.synonyms for o in assets.objects}
backend = OnnxBackend(bundle, threads=2)
use_sign_style(backend.bundle.meta, edits=True)
tok = Tokenizer.from_file(str(bundle / backend.bundle.meta["tokenizer"]["file"]))
cfg, params = backend.cfg, Params.defaults(backend.cfg)
rows = []
for seed in seeds:
    for k in range(24):
        pair = sample_edit(scene_rng(seed, split, k, "eval-edit"), names, split, synonyms=syn)
        src, tgt = render(pair.source, assets), render(pair.target, assets)
        rec = edit(backend, tok, pair.instruction, src.transpose(2, 0, 1).copy(),
                   Draws.seeded(seed + 1000 + k, 1, cfg.latent_shape), params)
        rows.append(dict(seed=seed, k=k, pair=pair, src=src, tgt=tgt, img=rec["image"][0].transpose(1, 2, 0),
                         keep=~edit_mask(pair, assets)))
    print("seed", seed, flush=True)
pickle.dump(rows, open(out, "wb"))
