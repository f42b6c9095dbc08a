"""modeling/train/edit_generator.py: a bundle's second generator for edits — what runs on it, what it refuses."""

import copy
import json

import numpy as np
import pytest
import torch

from modeling.backends import OnnxBackend, TorchBackend
from modeling.bundle import load_bundle
from modeling.checkpoint import save_checkpoint
from modeling.export import export_bundle
from modeling.generate import Draws, Params, edit, text_to_image
from modeling.train.edit_generator import add
from modeling.train.edit_generator import main as edit_generator_main


def _editor(model, seed=1, scale=0.2):
    """The model with its AR, connector and DiT moved (as another training run would): same autoencoders."""
    editor = copy.deepcopy(model)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in editor.named_parameters():
            if name.startswith(("ar.", "connector.", "dit.")):
                p.add_(torch.randn(p.shape, generator=g) * scale)
    return editor


@pytest.fixture
def bundle_and_editor(fixture_model, tmp_path):
    model, tok = fixture_model
    bundle = tmp_path / "bundle"
    export_bundle(model, tok, bundle, log=lambda s: None)
    editor = _editor(model)
    ckpt = tmp_path / "editor" / "model.safetensors"
    save_checkpoint(ckpt, editor, tok)
    (ckpt.parent / "summary.json").write_text(json.dumps({"sign_narrow_pad": 2.0}))
    return bundle, ckpt, model, editor, tok


def test_edits_run_on_the_edit_generator_and_text_to_image_on_the_bundles_own(bundle_and_editor):
    bundle, ckpt, model, editor, tok = bundle_and_editor
    out = add(bundle, ckpt, notes="test", log=lambda s: None)
    meta = load_bundle(bundle).meta  # hashes and graph I/O of the three new graphs check out
    assert {"edit_ar", "edit_connector", "edit_dit"} <= set(meta["graphs"])
    prov = meta["provenance"]["edit_generator"]
    assert prov["sign_narrow_pad"] == 2.0 and prov["notes"] == "test" and prov["checks"]["image_codes_agree"] == 1.0
    assert out["bytes"] == sum(f["bytes"] for f in meta["files"])
    onnx = OnnxBackend(bundle)
    assert onnx.has_edit_generator
    cfg = model.cfg
    params = Params.defaults(cfg)
    img = (np.arange(3 * cfg.image_size ** 2) % 251).astype(np.uint8).reshape(3, cfg.image_size, cfg.image_size)
    got = edit(onnx, tok, "remove the cat", img, Draws.seeded(7, 2, cfg.latent_shape), params)
    want = edit(TorchBackend(model, edit_model=editor), tok, "remove the cat", img, Draws.seeded(7, 2, cfg.latent_shape), params)
    own = edit(TorchBackend(model), tok, "remove the cat", img, Draws.seeded(7, 2, cfg.latent_shape), params)
    assert (got["codes"] == want["codes"]).all()
    assert not (got["codes"] == own["codes"]).all()  # the test can tell the two generators apart
    assert np.abs(got["image_float"] - want["image_float"]).max() < 1e-3
    prompts = ["a cat at the top", "a sign that says OPEN"]
    t2i = text_to_image(onnx, tok, prompts, Draws.seeded(3, 2, cfg.latent_shape), params)
    t2i_own = text_to_image(TorchBackend(model), tok, prompts, Draws.seeded(3, 2, cfg.latent_shape), params)
    assert (t2i["codes"] == t2i_own["codes"]).all()


def test_the_evaluation_draws_edit_references_as_the_edit_generator_was_trained(bundle_and_editor):
    from modeling.data import assets as assets_module
    from modeling.eval.run import use_sign_style

    bundle, ckpt, *_ = bundle_and_editor
    add(bundle, ckpt, log=lambda s: None)
    meta = json.loads((bundle / "bundle.json").read_text())
    meta["provenance"]["sign_narrow_pad"] = 3.5
    before = assets_module.SIGN_NARROW_PAD
    try:
        assert use_sign_style(meta) == 3.5
        assert use_sign_style(meta, edits=True) == 2.0 and assets_module.SIGN_NARROW_PAD == 2.0
        del meta["provenance"]["edit_generator"]
        assert use_sign_style(meta, edits=True) == 3.5  # no edit generator: edits run on the bundle's own weights
    finally:
        use_sign_style({"provenance": {"sign_narrow_pad": before}})


def test_refuses_a_checkpoint_that_does_not_share_the_bundles_tokenizer_autoencoders_or_shape(bundle_and_editor, tmp_path):
    from modeling.export import random_fixture_model
    from modeling.text_tokenizer import FIXTURE_CAPTIONS, train_tokenizer

    bundle, _, model, editor, tok = bundle_and_editor
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    other_vae = copy.deepcopy(editor)
    other_vae.vae.load_state_dict(random_fixture_model(model.cfg, seed=5)[0].vae.state_dict())
    save_checkpoint(tmp_path / "vae.safetensors", other_vae, tok)
    with pytest.raises(ValueError, match="autoencoders are not the bundle's"):
        add(bundle, tmp_path / "vae.safetensors", log=lambda s: None)
    other_tok = train_tokenizer(["zebra quokka platypus wombat"] * 50 + FIXTURE_CAPTIONS[:3], model.cfg.text.vocab_size)
    assert other_tok.to_str() != tok.to_str()
    save_checkpoint(tmp_path / "tok.safetensors", editor, other_tok)
    with pytest.raises(ValueError, match="tokenizer is not the bundle's"):
        add(bundle, tmp_path / "tok.safetensors", log=lambda s: None)
    cfg = copy.deepcopy(model.cfg)
    cfg.ar.layers += 1
    from modeling.model import AtelierModel
    deeper = AtelierModel(cfg)
    deeper.vae.load_state_dict(model.vae.state_dict())
    deeper.image_tokenizer.load_state_dict(model.image_tokenizer.state_dict())
    save_checkpoint(tmp_path / "deep.safetensors", deeper, tok)
    with pytest.raises(ValueError, match="config differs from the bundle's in ar"):
        add(bundle, tmp_path / "deep.safetensors", log=lambda s: None)
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before  # nothing written
    with pytest.raises(SystemExit, match="no such checkpoint"):
        edit_generator_main(["--bundle", str(bundle), "--checkpoint", str(tmp_path / "missing.safetensors")])
    with pytest.raises(SystemExit, match="autoencoders"):
        edit_generator_main(["--bundle", str(bundle), "--checkpoint", str(tmp_path / "vae.safetensors")])


def test_a_reexport_rebuilds_the_edit_generator_from_the_checkpoint_provenance_names(bundle_and_editor, tmp_path):
    from modeling.train.reexport import reexport

    bundle, ckpt, model, _, tok = bundle_and_editor
    add(bundle, ckpt, notes="edits", log=lambda s: None)
    save_checkpoint(tmp_path / "main.safetensors", model, tok)
    again = reexport(tmp_path / "main.safetensors", bundle, tmp_path / "again", log=lambda s: None)
    before = json.loads((bundle / "bundle.json").read_text())
    assert {f["path"]: f["sha256"] for f in again["files"]} == {f["path"]: f["sha256"] for f in before["files"]}
    mine, theirs = again["provenance"]["edit_generator"], before["provenance"]["edit_generator"]
    assert {k: mine[k] for k in ("checkpoint", "notes", "sign_narrow_pad")} == {k: theirs[k] for k in ("checkpoint", "notes", "sign_narrow_pad")}
    assert OnnxBackend(tmp_path / "again").has_edit_generator
