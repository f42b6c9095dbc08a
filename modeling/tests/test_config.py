"""Presets: sizes the brief asks for, JSON round trip, and clear errors for bad configs."""

import json

import pytest

from modeling.config import ModelConfig, blip3o_next_like, fixture, load_config, nano
from modeling.model import AtelierModel, count_parameters


def test_blip3o_next_like_has_the_published_shapes():
    cfg = blip3o_next_like()  # never instantiated: 3B+ parameters
    assert cfg.code_grid == (27, 27) and cfg.code_count == 729 and cfg.cond_length == 730
    assert cfg.codebook_size == 65_536
    assert cfg.sampling.top_k == 1200 and cfg.sampling.top_p == 0.95
    assert cfg.scheduler.steps == 30 and cfg.scheduler.cfg_scale == 2.0


def test_nano_fits_the_size_budget():
    cfg = nano()
    assert cfg.code_grid == (8, 8) and 900 <= cfg.codebook_size <= 1100 and cfg.latent_shape == (4, 16, 16)
    params = count_parameters(AtelierModel(cfg))
    assert params * 4 + 600_000 <= 36_000_000, f"nano fp32 bundle would be about {params * 4 / 1e6:.1f} MB"


def test_fixture_is_tiny():
    assert count_parameters(AtelierModel(fixture())) * 4 < 1_500_000


def test_json_round_trip_and_load_config(tmp_path):
    cfg = nano()
    p = tmp_path / "c.json"
    p.write_text(cfg.to_json())
    assert load_config(str(p)) == cfg
    assert ModelConfig.from_dict(json.loads(cfg.to_json())) == cfg


def test_bad_configs_are_clear_errors(tmp_path):
    d = fixture().to_dict()
    d["ar"]["heads"] = 3
    with pytest.raises(ValueError, match="kv_heads"):
        ModelConfig.from_dict(d)
    d = fixture().to_dict()
    d["dit"]["wdth"] = 3
    with pytest.raises(ValueError, match="wdth"):
        ModelConfig.from_dict(d)
    with pytest.raises(FileNotFoundError, match="neither a preset"):
        load_config("no-such-config")
