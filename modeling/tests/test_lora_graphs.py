"""The LoRA graphs in the committed fixture bundle: gradients equal autograd's, the inference graph equals
PyTorch for zero, one and several LoRAs, and the DiT rebuilt from dit.onnx is the fixture's DiT."""

import copy
import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from modeling.lora.export import example_batch, example_pairs
from modeling.lora.network import LoraDiT, freeze
from modeling.lora.weights import dit_from_onnx

from .conftest import FIXTURES

BUNDLE = FIXTURES / "bundle-fixture"


def session(name):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(BUNDLE / name), opts, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def meta():
    return json.loads((BUNDLE / "bundle.json").read_text())


@pytest.fixture(scope="module")
def lora_dit(fixture_model):
    model, _ = fixture_model
    return LoraDiT(freeze(copy.deepcopy(model.dit)))


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


def autograd(lora_dit, pairs, scale, batch):
    leaves = [p.clone().requires_grad_(True) for p in pairs]
    loss = lora_dit.loss([(leaves[i], leaves[i + 1]) for i in range(0, len(leaves), 2)], scale, *batch)
    loss.backward()
    return float(loss.detach()), [p.grad.numpy() for p in leaves]


@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_graph_matches_autograd(lora_dit, meta, seed):
    rank = meta["lora"]["train"]["max_rank"]
    pairs = example_pairs(lora_dit.targets, rank, seed=seed)
    scale = torch.tensor([0.5 + seed])
    batch = example_batch(_cfg(meta), meta["lora"]["train"]["batch"], seed=10 + seed)
    want_loss, want = autograd(lora_dit, pairs, scale, batch)
    s = session("dit_train_lora.onnx")
    feeds = dict(zip([i.name for i in s.get_inputs()], [p.numpy() for p in pairs] + [scale.numpy()] +
                     [b.numpy() for b in batch]))
    loss, *grads = s.run(None, feeds)
    assert abs(float(loss) - want_loss) <= 1e-5 * abs(want_loss)
    got_all = np.concatenate([g.ravel() for g in grads])
    want_all = np.concatenate([g.ravel() for g in want])
    assert relative_error(got_all, want_all) <= 1e-4
    for g, w in zip(grads, want):  # every tensor on its own, too
        assert relative_error(g, w) <= 1e-4


def _cfg(meta):
    from modeling.config import ModelConfig

    return ModelConfig.from_dict(meta["config"])


def test_zero_padded_rank_gets_zero_gradient(lora_dit, meta):
    """A rank-2 LoRA padded to the graph's max rank: the padding's gradients are exactly zero."""
    rank = meta["lora"]["train"]["max_rank"]
    pairs = example_pairs(lora_dit.targets, 2, seed=3)
    padded = []
    for i, p in enumerate(pairs):
        z = torch.zeros(rank, p.shape[1]) if i % 2 == 0 else torch.zeros(p.shape[0], rank)
        if i % 2 == 0:
            z[:2] = p
        else:
            z[:, :2] = p
        padded.append(z)
    batch = example_batch(_cfg(meta), meta["lora"]["train"]["batch"], seed=4)
    s = session("dit_train_lora.onnx")
    feeds = dict(zip([i.name for i in s.get_inputs()], [p.numpy() for p in padded] + [np.array([1.0], np.float32)] +
                     [b.numpy() for b in batch]))
    _, *grads = s.run(None, feeds)
    for i, g in enumerate(grads):
        pad = g[2:] if i % 2 == 0 else g[:, 2:]
        assert np.all(pad == 0)
    assert any(np.abs(g).max() > 0 for g in grads)


def test_inference_graph_zero_one_and_two_loras(lora_dit, meta, fixture_model):
    cfg = _cfg(meta)
    x, _, t, cond, _ = example_batch(cfg, 2, seed=5)
    ref = torch.randn(x.shape, generator=torch.Generator().manual_seed(6))
    s = session("dit_lora.onnx")
    plain = session("dit.onnx")
    base = {"latents": x.numpy(), "timestep": t.numpy(), "cond": cond.numpy(), "ref_latents": ref.numpy()}
    targets = lora_dit.targets

    def run(pairs):
        feeds = dict(base)
        for tg in targets:
            feeds[f"lora_down_{tg.index}"] = pairs[2 * tg.index].numpy()
            feeds[f"lora_up_{tg.index}"] = pairs[2 * tg.index + 1].numpy()
        return s.run(None, feeds)[0]

    # Rank 0 (no LoRA): empty tensors work in onnxruntime and give the plain DiT.
    empty = []
    for tg in targets:
        empty += [torch.zeros(0, tg.in_features), torch.zeros(tg.out_features, 0)]
    np.testing.assert_allclose(run(empty), plain.run(None, base)[0], atol=2e-5)
    # Two LoRAs (ranks 2 and 3) with weights 0.8 and -0.5, concatenated along the rank.
    a, b = example_pairs(targets, 2, seed=7), example_pairs(targets, 3, seed=8)
    combined = []
    for i in range(0, len(a), 2):
        combined += [torch.cat([a[i], b[i]], 0), torch.cat([a[i + 1] * 0.8, b[i + 1] * -0.5], 1)]
    with torch.no_grad():  # PyTorch reference: the two updates added separately
        want = _two_lora_reference(lora_dit, a, b, 0.8, -0.5, x, t, cond, ref)
    got = run(combined)
    assert np.abs(got - want).max() <= 1e-4
    assert np.abs(got - run(empty)).max() > 1e-3  # the LoRAs do change the output


def _two_lora_reference(lora_dit, a, b, wa, wb, x, t, cond, ref):
    """Run the PyTorch DiT with each target's update = wa·up_a(down_a x) + wb·up_b(down_b x), by hand."""
    import torch.nn.functional as F

    from modeling.lora.network import _LoraLinear

    orig = {}
    for tg in lora_dit.targets:
        mod = lora_dit.dit.get_submodule(tg.module)
        assert isinstance(mod, _LoraLinear)
        i = tg.index
        da, ua, db, ub = a[2 * i], a[2 * i + 1], b[2 * i], b[2 * i + 1]

        def fwd(inp, base=mod.base, da=da, ua=ua, db=db, ub=ub):
            return F.linear(inp, base.weight, base.bias) + wa * (inp @ da.t() @ ua.t()) + wb * (inp @ db.t() @ ub.t())

        orig[tg.module] = mod.forward
        mod.forward = fwd
    try:
        return lora_dit.dit(x, t, cond, ref).numpy()
    finally:
        for tg in lora_dit.targets:
            del lora_dit.dit.get_submodule(tg.module).forward


def test_dit_rebuilt_from_onnx_is_the_fixture_dit(fixture_model, meta):
    model, _ = fixture_model
    dit = dit_from_onnx(BUNDLE / "dit.onnx", _cfg(meta))
    want = model.dit.state_dict()
    got = dit.state_dict()
    assert set(got) == set(want)
    for k in want:
        assert torch.equal(got[k], want[k]), k


def test_lora_graphs_are_listed_with_their_shared_weights(meta):
    listed = {f["path"] for f in meta["files"]}
    assert {"dit_lora.onnx", "dit_train_lora.onnx", "dit_lora.weights"} <= listed
    assert meta["graphs"]["dit_lora"]["file"] == "dit_lora.onnx"
    n = len(meta["lora"]["targets"])
    assert n == 7 * meta["config"]["dit"]["depth"]
    ins = [i["name"] for i in meta["graphs"]["dit_train_lora"]["inputs"]]
    assert ins[: 2 * n : 2] == [f"lora_down_{i}" for i in range(n)]
    outs = [o["name"] for o in meta["graphs"]["dit_train_lora"]["outputs"]]
    assert outs[0] == "loss" and len(outs) == 1 + 2 * n
