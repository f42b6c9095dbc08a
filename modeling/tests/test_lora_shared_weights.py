"""Adding LoRA graphs stores the DiT weights once: dit.onnx, dit_lora.onnx and dit_train_lora.onnx all read
one external-data file, the plain DiT still gives bit-identical outputs, and bundle verification covers it."""

import json
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
import pytest

from modeling.bundle import BundleError, external_data_files, load_bundle
from modeling.half_storage import exactly_half
from modeling.lora.export import WEIGHTS_FILE, add_lora_graphs

from .conftest import FIXTURES


def _listed_bytes(root) -> int:
    return sum(f["bytes"] for f in json.loads((root / "bundle.json").read_text())["files"])


def _dit_outputs(path) -> np.ndarray:
    meta = json.loads((path.parent / "bundle.json").read_text())
    c, h, w = (meta["latent"][k] for k in ("channels", "height", "width"))
    rng = np.random.default_rng(0)
    feeds = {"latents": rng.standard_normal((2, c, h, w), dtype=np.float32),
             "timestep": np.array([0.25, 0.9], np.float32),
             "cond": rng.standard_normal((2, meta["condition"]["length"], meta["connector"]["out_dim"]), dtype=np.float32),
             "ref_latents": rng.standard_normal((2, c, h, w), dtype=np.float32)}
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]).run(None, feeds)[0]


@pytest.fixture(scope="module")
def lora_bundle(exported_bundle, fixture_model, tmp_path_factory):
    """A freshly exported core bundle, and a copy of it with LoRA graphs added."""
    core, _ = exported_bundle
    root = tmp_path_factory.mktemp("lora") / "bundle"
    shutil.copytree(core, root)
    model, _ = fixture_model
    add_lora_graphs(root, dit=model.dit, batch=1, max_rank=4, log=lambda s: None)
    return core, root


def test_dit_weights_are_stored_once(lora_bundle, fixture_model):
    core, root = lora_bundle
    dit_core = (core / "dit.onnx").stat().st_size
    graphs = sum((root / f).stat().st_size for f in ("dit.onnx", "dit_lora.onnx", "dit_train_lora.onnx"))
    # The LoRA graphs add their structure (nodes, small constants) and bundle.json entries, but not the
    # DiT's weights again: no large tensor stays inside any of the three graphs.
    added = _listed_bytes(root) - _listed_bytes(core)
    for name in ("dit.onnx", "dit_lora.onnx", "dit_train_lora.onnx"):
        inline = [i.name for i in onnx.load(str(root / name), load_external_data=False).graph.initializer
                  if i.data_location != onnx.TensorProto.EXTERNAL and int(np.prod(i.dims)) >= 256]
        assert inline == [], (name, inline[:3])
    weights = (root / WEIGHTS_FILE).stat().st_size
    assert weights < dit_core  # one copy of the large tensors, nothing else
    assert (root / "dit.onnx").stat().st_size < 0.5 * dit_core  # dit.onnx now holds graph structure only
    assert _listed_bytes(root) - _listed_bytes(core) >= weights + graphs - dit_core - 1  # files[] counts them all
    for name in ("dit.onnx", "dit_lora.onnx", "dit_train_lora.onnx"):
        model = onnx.load(str(root / name), load_external_data=False)
        assert external_data_files(model) == {WEIGHTS_FILE}, name
        # the fixture's weights are fp16 values: the shared file holds them as fp16 (modeling/half_storage.py);
        # a float32 constant the exporter computed (the position table) stays float32
        loaded = {i.name: i for i in onnx.load(str(root / name)).graph.initializer}
        stored = [i for i in model.graph.initializer if i.data_location == onnx.TensorProto.EXTERNAL]
        for i in stored:
            values = numpy_helper.to_array(loaded[i.name]).astype(np.float32)
            assert (i.data_type == onnx.TensorProto.FLOAT16) == exactly_half(values), (name, i.name)
        assert sum(i.data_type == onnx.TensorProto.FLOAT16 for i in stored) >= 0.9 * len(stored), name
    model, _ = fixture_model
    dit_params = sum(p.numel() for p in model.dit.parameters() if p.numel() >= 256)
    assert weights < 0.6 * 4 * dit_params  # about 2 bytes a weight where float32 would take 4


def test_plain_dit_outputs_are_unchanged(lora_bundle):
    core, root = lora_bundle
    assert np.array_equal(_dit_outputs(root / "dit.onnx"), _dit_outputs(core / "dit.onnx"))


def test_the_committed_fixture_shares_dit_weights_too():
    bundle = FIXTURES / "bundle-fixture"
    model = onnx.load(str(bundle / "dit.onnx"), load_external_data=False)
    assert external_data_files(model) == {WEIGHTS_FILE}


def test_exporting_again_keeps_the_dit_and_the_sizes(lora_bundle, tmp_path):
    """A bundle that already shares its weights can get its LoRA graphs again (e.g. another max rank)."""
    _, root = lora_bundle
    again = tmp_path / "again"
    shutil.copytree(root, again)
    add_lora_graphs(again, batch=1, max_rank=2, log=lambda s: None)  # the DiT rebuilt from the shared dit.onnx
    assert (again / WEIGHTS_FILE).stat().st_size == (root / WEIGHTS_FILE).stat().st_size
    assert np.array_equal(_dit_outputs(again / "dit.onnx"), _dit_outputs(root / "dit.onnx"))
    assert not list(again.glob("*.partial"))
    load_bundle(again)


def test_verification_covers_the_shared_weights_file(lora_bundle, tmp_path):
    _, root = lora_bundle
    load_bundle(root)
    broken = tmp_path / "corrupt"
    shutil.copytree(root, broken)
    data = bytearray((broken / WEIGHTS_FILE).read_bytes())
    data[len(data) // 2] ^= 1
    (broken / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(BundleError, match="dit_lora.weights: sha256"):
        load_bundle(broken)
    unlisted = tmp_path / "unlisted"
    shutil.copytree(root, unlisted)
    meta = json.loads((unlisted / "bundle.json").read_text())
    meta["files"] = [f for f in meta["files"] if f["path"] != WEIGHTS_FILE]
    (unlisted / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="reads external data from 'dit_lora.weights'.*not listed"):
        load_bundle(unlisted)
