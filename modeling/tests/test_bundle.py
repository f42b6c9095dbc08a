"""Bundle verification: the committed fixture verifies; damaged copies are refused with the file named."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from modeling.bundle import BundleError, load_bundle

from .conftest import FIXTURES

COMMITTED = FIXTURES / "bundle-fixture"


@pytest.fixture
def bundle_copy(tmp_path):
    dst = tmp_path / "bundle"
    shutil.copytree(COMMITTED, dst)
    return dst


def test_committed_fixture_bundle_verifies():
    b = load_bundle(COMMITTED)
    assert b.meta["variant"] == "fixture"
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total <= 3_000_000, f"tests/fixtures is {total} bytes (budget 3 MB)"


def test_freshly_exported_bundle_verifies_and_matches_committed_graph_io(exported_bundle):
    root, meta = exported_bundle
    b = load_bundle(root)
    committed = json.loads((COMMITTED / "bundle.json").read_text())
    # The committed fixture also carries the optional LoRA graphs (make_fixtures adds them): compare the rest.
    assert b.meta["graphs"] == {role: g for role, g in committed["graphs"].items() if role in b.meta["graphs"]}
    # The same seed gives the same weights: the graphs are byte-identical to the committed ones, except
    # dit.onnx, whose weights the LoRA export moved into dit_lora.weights: there the nodes and every
    # initializer (read back from the external data) must be the same, its computed constants to the last bit
    # or two.
    fresh = {f["path"] for f in b.meta["files"]}
    for f in committed["files"]:
        if f["path"] not in fresh:
            continue
        if f["path"] == "dit.onnx":
            _assert_same_graph(root / "dit.onnx", COMMITTED / "dit.onnx")
            continue
        assert hashlib.sha256((root / f["path"]).read_bytes()).hexdigest() == f["sha256"], f["path"]


def _assert_same_graph(fresh_path: Path, shared_path: Path) -> None:
    import numpy as np
    import onnx
    from onnx import numpy_helper

    fresh, shared = onnx.load(str(fresh_path)), onnx.load(str(shared_path))

    def split(graph):
        """Nodes with their tensor constants taken out (serialised), and those constants as arrays: a constant the
        exporter computed with torch (the timestep table) may differ in the last bit between CPUs (AVX-512 or not)."""
        nodes, consts = [], []
        for n in graph.node:
            n = onnx.NodeProto.FromString(n.SerializeToString())
            for at in n.attribute:
                if at.type == onnx.AttributeProto.TENSOR:
                    consts.append(numpy_helper.to_array(at.t))
                    at.t.Clear()
            nodes.append(n.SerializeToString())
        return nodes, consts

    (nodes_a, consts_a), (nodes_b, consts_b) = split(fresh.graph), split(shared.graph)
    assert nodes_a == nodes_b
    assert len(consts_a) == len(consts_b)
    for x, y in zip(consts_a, consts_b):
        assert x.shape == y.shape and x.dtype == y.dtype and np.allclose(x, y, rtol=1e-6, atol=1e-7)
    want = {i.name: numpy_helper.to_array(i) for i in fresh.graph.initializer}
    got = {i.name: numpy_helper.to_array(i) for i in shared.graph.initializer}
    assert want.keys() == got.keys()
    for name, arr in want.items():
        assert np.array_equal(arr, got[name]), name


def test_flipped_byte_is_refused_naming_the_file(bundle_copy):
    p = bundle_copy / "dit.onnx"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"dit\.onnx.*sha256"):
        load_bundle(bundle_copy)


def test_truncated_file_is_refused_naming_the_file(bundle_copy):
    p = bundle_copy / "tokenizer.json"
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(BundleError, match=r"tokenizer\.json.*size"):
        load_bundle(bundle_copy)


def test_missing_file_is_refused_naming_the_file(bundle_copy):
    (bundle_copy / "vae_decoder.onnx").unlink()
    with pytest.raises(BundleError, match=r"vae_decoder\.onnx.*missing"):
        load_bundle(bundle_copy)


def test_newer_format_version_is_refused(bundle_copy):
    meta_path = bundle_copy / "bundle.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = 2
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(BundleError, match=r"bundle\.json.*format_version 2"):
        load_bundle(bundle_copy)


def test_graph_with_wrong_io_names_is_refused(bundle_copy):
    # Swap two graph files and fix up the hashes: sizes and hashes verify, the I/O names do not.
    meta_path = bundle_copy / "bundle.json"
    meta = json.loads(meta_path.read_text())
    a, b = bundle_copy / "vae_encoder.onnx", bundle_copy / "connector.onnx"
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    for f in meta["files"]:
        data = (bundle_copy / f["path"]).read_bytes()
        f["sha256"], f["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(BundleError, match=r"(vae_encoder|connector)\.onnx.*I/O"):
        load_bundle(bundle_copy)


def test_not_a_bundle_folder(tmp_path):
    with pytest.raises(BundleError, match=r"bundle\.json.*missing"):
        load_bundle(tmp_path)
