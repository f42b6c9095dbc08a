"""Bundle verification: the committed fixture verifies; damaged copies are refused with the file named."""

import hashlib
import json
import shutil

import pytest

from modeling.bundle import BundleError, load_bundle

from .conftest import FIXTURES, assert_same_onnx

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
            assert_same_onnx(root / "dit.onnx", COMMITTED / "dit.onnx")
            continue
        assert hashlib.sha256((root / f["path"]).read_bytes()).hexdigest() == f["sha256"], f["path"]


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
