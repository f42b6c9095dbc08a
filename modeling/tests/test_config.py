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
    d = blip3o_next_like().to_dict()  # 27 x 27 codes vs a 108 x 108 token grid
    d["dit"]["spatial_cond"] = True
    with pytest.raises(ValueError, match="spatial_cond needs the code grid"):
        ModelConfig.from_dict(d)
    with pytest.raises(FileNotFoundError, match="neither a preset"):
        load_config("no-such-config")


def test_spatial_condition_starts_as_a_no_op_and_then_places_each_cell():
    """nano's DiT adds cell k's condition to token k; zero-initialised, it leaves a trained DiT's output as it was."""
    import dataclasses

    import torch

    from modeling.dit import DiT
    cfg = fixture()
    on = dataclasses.replace(cfg.dit, spatial_cond=True)
    dataclasses.replace(cfg, dit=on).validate()  # the fixture's 4 x 4 codes match its 4 x 4 DiT tokens
    c, h, _ = cfg.latent_shape
    torch.manual_seed(0)
    plain, spatial = DiT(cfg.dit, c, h, cfg.connector.out_dim), DiT(on, c, h, cfg.connector.out_dim)
    for m in (plain, spatial):  # adaLN-zero and the head start at zero: give them weights so outputs differ
        for p in m.parameters():
            torch.nn.init.normal_(p, std=0.05)
    missing, unexpected = spatial.load_state_dict(plain.state_dict(), strict=False)
    assert set(missing) == {"spatial_cond.weight", "spatial_cond.bias"} and not unexpected
    torch.nn.init.zeros_(spatial.spatial_cond.weight)
    torch.nn.init.zeros_(spatial.spatial_cond.bias)
    x, ref = torch.randn(2, c, h, h), torch.randn(2, c, h, h)
    t, cond = torch.rand(2), torch.randn(2, cfg.cond_length, cfg.connector.out_dim)
    with torch.no_grad():
        assert torch.equal(plain(x, t, cond, ref), spatial(x, t, cond, ref))
        torch.nn.init.normal_(spatial.spatial_cond.weight, std=0.1)
        # now a change in one cell's condition reaches the output most strongly at that cell's patch
        cond2 = cond.clone()
        cond2[:, 1 + 5] += 3.0  # cell 5 = row 1, column 1 of the 4 x 4 grid
        diff = (spatial(x, t, cond2, ref) - spatial(x, t, cond, ref)).abs().sum(dim=(0, 1))  # [h, w]
        p = cfg.dit.patch_size
        cells = diff.reshape(h // p, p, h // p, p).sum(dim=(1, 3))
        assert int(cells.argmax()) == 5
