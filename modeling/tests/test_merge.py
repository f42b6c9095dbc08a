"""modeling/train/merge.py: weight-by-weight blends of one model and its fine-tune, and what it refuses."""

import copy
import json

import pytest
import torch

from modeling.checkpoint import load_checkpoint, save_checkpoint
from modeling.train.merge import main as merge_main
from modeling.train.merge import merge


def _tuned(fixture_model, tmp_path):
    """The fixture model, then its generator moved (as a continued run would): a run folder with a summary."""
    model, tok = fixture_model
    base = tmp_path / "base.safetensors"
    save_checkpoint(base, model, tok)
    tuned = copy.deepcopy(model)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in tuned.named_parameters():
            if name.startswith(("ar.", "connector.", "dit.")):
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
    run = tmp_path / "run"
    save_checkpoint(run / "model.safetensors", tuned, tok)
    (run / "summary.json").write_text(json.dumps({"preset": "cpu", "sign_narrow_pad": 3.5}))
    return base, run, model, tuned


def test_alpha_walks_from_the_base_to_the_tuned_run(fixture_model, tmp_path):
    base, run, model, tuned = _tuned(fixture_model, tmp_path)
    a, b = model.state_dict(), tuned.state_dict()
    for alpha in (0.0, 1.0, 0.25):
        merge(base, run, alpha, tmp_path / f"m{alpha}")
        m = load_checkpoint(tmp_path / f"m{alpha}" / "model.safetensors")[0].state_dict()
        for k in a:
            if a[k].is_floating_point():
                assert torch.allclose(m[k], (1 - alpha) * a[k] + alpha * b[k], atol=1e-6), (alpha, k)
    summary = json.loads((tmp_path / "m0.25" / "summary.json").read_text())
    assert summary["sign_narrow_pad"] == 3.5  # the tuned run's, kept for the export's provenance
    assert summary["merge"] == {"base": str(base), "tuned": str(run), "alpha": 0.25, "parts": ["ar", "connector", "dit"]}
    # only the AR blended: the connector and the DiT are the tuned run's
    merge(base, run, 0.5, tmp_path / "ar-only", parts=("ar",))
    m = load_checkpoint(tmp_path / "ar-only" / "model.safetensors")[0].state_dict()
    assert all(torch.equal(m[k], b[k]) for k in b if k.startswith(("connector.", "dit.")))
    assert any(not torch.equal(m[k], b[k]) and not torch.equal(m[k], a[k]) for k in b if k.startswith("ar."))


def test_the_export_names_the_blend(fixture_model, tmp_path):
    from modeling.train.ship import export
    base, run, _, _ = _tuned(fixture_model, tmp_path)
    merge(base, run, 0.5, tmp_path / "merged")
    export(tmp_path / "merged", tmp_path / "bundle", "test")
    prov = json.loads((tmp_path / "bundle" / "bundle.json").read_text())["provenance"]
    assert f"then blended weight by weight with {base}, alpha 0.5 (ar, connector, dit" in prov["recipe"]
    assert prov["sign_narrow_pad"] == 3.5


def test_refuses_what_is_not_one_model(fixture_model, tmp_path):
    base, run, model, tuned = _tuned(fixture_model, tmp_path)
    with pytest.raises(ValueError, match="alpha must be between 0"):
        merge(base, run, 1.5, tmp_path / "x")
    with pytest.raises(ValueError, match="generator parts are ar, connector, dit"):
        merge(base, run, 0.5, tmp_path / "x", parts=("vae",))
    other_vae = copy.deepcopy(tuned)
    with torch.no_grad():
        next(other_vae.vae.parameters()).add_(1.0)
    save_checkpoint(tmp_path / "vae.safetensors", other_vae, fixture_model[1])
    with pytest.raises(ValueError, match="different autoencoders"):
        merge(base, tmp_path / "vae.safetensors", 0.5, tmp_path / "x")
    from tokenizers import Tokenizer
    tok = Tokenizer.from_str(fixture_model[1].to_str())
    tok.add_tokens(["<|extra|>"])
    save_checkpoint(tmp_path / "tok.safetensors", tuned, tok)
    with pytest.raises(ValueError, match="different tokenizers"):
        merge(base, tmp_path / "tok.safetensors", 0.5, tmp_path / "x")
    with pytest.raises(SystemExit, match="merge: checkpoint .* does not exist"):
        merge_main(["--base", str(base), "--tuned", str(tmp_path / "nowhere.safetensors"), "--alpha", "0.5",
                    "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()  # nothing half-written
