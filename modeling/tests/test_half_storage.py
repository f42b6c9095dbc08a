"""Weights that are exactly fp16 values are stored as fp16 behind a Cast (modeling/half_storage.py): the graph
computes the same numbers bit for bit from a file about half the size; any other tensor is left as it was."""

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto

from modeling.half_storage import SUFFIX, exactly_half, resolved_initializers, store_half


def _export(module: torch.nn.Module, path) -> onnx.ModelProto:
    torch.onnx.export(module, (torch.zeros(1, 32),), str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "b"}, "y": {0: "b"}}, opset_version=17, dynamo=False)
    return onnx.load(str(path))


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def _mlp(round_to_half: bool) -> torch.nn.Module:
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.GELU(), torch.nn.Linear(64, 8)).eval()
    if round_to_half:
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(p.half().float())
    return m


def test_exactly_half():
    assert exactly_half(np.array([0.0, -0.0, 1.0, 0.5, -65504.0, 2.0 ** -24], np.float32))  # 2^-24: fp16's smallest
    assert not exactly_half(np.array([0.1], np.float32))  # not a binary fraction fp16 can hold
    assert not exactly_half(np.array([1.0 + 2.0 ** -11], np.float32))  # one bit past fp16's mantissa
    assert not exactly_half(np.array([70000.0], np.float32))  # overflows to inf
    assert not exactly_half(np.array([np.inf], np.float32)) and not exactly_half(np.array([np.nan], np.float32))
    assert not exactly_half(np.array([1.0], np.float64))  # only float32 tensors are rewritten


def test_fp16_weights_are_stored_half_and_compute_the_same(tmp_path):
    model = _export(_mlp(round_to_half=True), tmp_path / "mlp.onnx")
    before = model.SerializeToString()
    x = np.random.default_rng(0).standard_normal((3, 32), dtype=np.float32)
    want = _run(model, x)
    weights = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    stats = store_half(model)
    # the two weight matrices (2,048 and 512 elements); the biases (64, 8) are under MIN_ELEMENTS
    assert stats["tensors"] == 2 and stats["bytes_saved"] == (2048 + 512) * 2
    halves = [i for i in model.graph.initializer if i.data_type == TensorProto.FLOAT16]
    assert len(halves) == 2 and all(i.name.endswith(SUFFIX) for i in halves)
    assert [n.op_type for n in model.graph.node[:2]] == ["Cast", "Cast"]  # before anything that reads them
    onnx.checker.check_model(model)
    assert np.array_equal(_run(model, x), want)  # bit for bit
    assert len(model.SerializeToString()) < len(before) - 4500  # 5,120 bytes of weights saved, some names added
    # the tensors read back by their own names, as the DiT rebuild (modeling/lora/weights.py) reads them
    back = resolved_initializers(model)
    for name, arr in weights.items():
        assert back[name].dtype == np.float32 and np.array_equal(back[name], arr), name


def test_other_weights_are_left_alone(tmp_path):
    model = _export(_mlp(round_to_half=False), tmp_path / "mlp.onnx")
    before = model.SerializeToString()
    assert store_half(model) == {"tensors": 0, "bytes_saved": 0}
    assert model.SerializeToString() == before


def test_the_exported_bundle_stores_the_fixture_weights_half(exported_bundle):
    """The fixture's weights are fp16 values, as a shipped checkpoint's: every graph stores its weights half."""
    root, meta = exported_bundle
    for role in ("ar", "dit", "vae_decoder", "image_tokenizer_decoder"):
        model = onnx.load(str(root / f"{role}.onnx"))
        large = [i for i in model.graph.initializer if int(np.prod(i.dims)) >= 256]
        half = [i for i in large if i.data_type == TensorProto.FLOAT16]
        assert half and len(half) >= 0.8 * len(large), (role, len(half), len(large))
