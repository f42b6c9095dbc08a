"""Checkpoint round trip, and a config/checkpoint mismatch is an error naming the tensor."""

import dataclasses

import pytest
import torch

from modeling import export
from modeling.checkpoint import CheckpointMismatch, load_checkpoint, save_checkpoint
from modeling.config import fixture


def test_round_trip_keeps_weights_config_and_tokenizer(fixture_model, tmp_path):
    model, tok = fixture_model
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, tok)
    loaded, tok2 = load_checkpoint(path)
    assert loaded.cfg == model.cfg
    assert tok2.to_str() == tok.to_str()
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k


def test_mismatched_config_names_the_tensor(fixture_model, tmp_path):
    model, tok = fixture_model
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, tok)
    cfg = fixture()
    cfg.dit = dataclasses.replace(cfg.dit, width=32)
    with pytest.raises(CheckpointMismatch, match=r"tensor 'dit\.[\w.]+' has shape"):
        load_checkpoint(path, cfg)
    cfg = fixture()
    cfg.ar = dataclasses.replace(cfg.ar, layers=3)
    with pytest.raises(CheckpointMismatch, match=r"tensor 'ar\.blocks\.2\.[\w.]+' is missing"):
        load_checkpoint(path, cfg)


def test_export_cli_reports_the_mismatch_and_refuses_random_nano(fixture_model, tmp_path, capsys):
    model, tok = fixture_model
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, tok)
    with pytest.raises(CheckpointMismatch, match=r"tensor '\w+\.[\w.]+'"):
        export.main(["--config", "nano", "--checkpoint", str(path), "--out", str(tmp_path / "b")])
    with pytest.raises(SystemExit, match="--checkpoint is required"):
        export.main(["--config", "nano", "--out", str(tmp_path / "b")])
    assert not (tmp_path / "b" / "bundle.json").exists()


def test_export_cli_from_checkpoint_writes_a_loadable_bundle(fixture_model, tmp_path):
    from modeling.bundle import load_bundle

    model, tok = fixture_model
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, tok)
    export.main(["--config", "fixture", "--checkpoint", str(path), "--out", str(tmp_path / "b")])
    assert load_bundle(tmp_path / "b").meta["name"] == "atelier-fixture"
