"""The reference pipeline: the ONNX bundle reproduces the committed PyTorch fixtures, and they are current."""

import json

import numpy as np
import pytest
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from modeling.backends import OnnxBackend, TorchBackend
from modeling.bundle import sha256_file
from modeling.generate import Draws, Params, edit, inpaint, latent_mask, main as generate_main, text_to_image
from modeling.make_fixtures import main as make_fixtures_main, read_record

from .conftest import FIXTURES, assert_same_onnx

REF = FIXTURES / "reference"


@pytest.fixture(scope="module")
def onnx_backend():
    return OnnxBackend(FIXTURES / "bundle-fixture", threads=1)


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer.from_file(str(FIXTURES / "bundle-fixture" / "tokenizer.json"))


def replay(backend, tok, case):
    meta, t = read_record(REF / f"{case}.json")
    params = Params(**meta["params"])
    draws = Draws.recorded(meta["uniforms"], t["noise"])
    if case.startswith("t2i"):
        rec = text_to_image(backend, tok, [meta["prompt"]] * meta["batch"], draws, params)
    elif case.startswith("edit"):
        rec = edit(backend, tok, meta["prompt"], t["reference_image"], draws, params)
    else:
        rec = inpaint(backend, tok, meta["prompt"], t["input_image"], t["mask"], draws, params)
    return meta, t, rec


@pytest.mark.parametrize("case", ["t2i", "t2i-ar-cfg", "edit", "edit-ar-cfg", "edit-keep", "inpaint"])
def test_onnx_bundle_reproduces_the_reference_generation(case, onnx_backend, tokenizer):
    meta, t, rec = replay(onnx_backend, tokenizer, case)
    assert rec["prompt_ids"].tolist() == meta["prompt_ids"]
    assert rec["codes"].tolist() == meta["codes"] == t["codes"].tolist()
    for key in ("hidden", "cond", "latents_steps", "latents_final", "image_float", "code_preview"):
        err = float(np.abs(rec[key] - t[key]).max())
        assert err <= 1e-4, f"{case}.{key}: {err:.2e}"
    assert np.abs(rec["image"].astype(int) - t["image"].astype(int)).max() <= 1
    # The sampling was not degenerate: several distinct codes, and top-k/top-p actually cut the distribution.
    assert len(set(np.asarray(meta["codes"]).ravel().tolist())) > 4


def test_ar_guidance_changes_the_codes_and_needs_an_unconditional_prompt_per_item(onnx_backend, tokenizer):
    from modeling.generate import sample_codes
    plain, _ = read_record(REF / "t2i.json")
    guided, _ = read_record(REF / "t2i-ar-cfg.json")
    assert guided["params"]["ar_cfg_scale"] != 1 and plain["params"]["ar_cfg_scale"] == 1
    assert guided["codes"] != plain["codes"] and guided["uniforms"] == plain["uniforms"]
    plain_edit, _ = read_record(REF / "edit.json")
    guided_edit, _ = read_record(REF / "edit-ar-cfg.json")
    assert guided_edit["params"]["edit_ar_cfg_scale"] != 1 == guided_edit["params"]["ar_cfg_scale"]
    assert guided_edit["codes"] != plain_edit["codes"]
    params = Params(**guided["params"])
    with pytest.raises(ValueError, match="one unconditional prompt per item"):
        sample_codes(onnx_backend, onnx_backend.cfg, [[1, 2, 3]], Draws.recorded([[0.5] * 64], np.zeros(1)),
                     params, pad_id=0, uncond_ids=None)


def test_a_spelled_tokenizer_reads_a_bare_sign_word_as_the_quoted_one(onnx_backend, tokenizer):
    from modeling.text_tokenizer import spell_capitals
    meta, t = read_record(REF / "t2i.json")
    params = Params(**meta["params"])
    run = lambda tok, p: text_to_image(onnx_backend, tok, [p], Draws.recorded(meta["uniforms"][:1], t["noise"][:1]), params)
    spelled = spell_capitals(tokenizer)
    bare, quoted = run(spelled, "sign OPEN"), run(spelled, 'sign "OPEN"')
    assert bare["prompt_ids"].tolist() == quoted["prompt_ids"].tolist()
    assert bare["codes"].tolist() == quoted["codes"].tolist()
    # the fixture's own tokenizer does not spell capitals: its prompts are read as typed
    assert run(tokenizer, "sign OPEN")["prompt_ids"].tolist() != run(tokenizer, 'sign "OPEN"')["prompt_ids"].tolist()


def test_edit_keeps_the_reference_where_the_ar_kept_its_code(onnx_backend, tokenizer):
    from dataclasses import replace

    from modeling.generate import cells_to_grid
    meta, t, rec = replay(onnx_backend, tokenizer, "edit-keep")
    assert meta["params"]["edit_keep_unchanged"] and meta["batch"] == 2
    regen = rec["regenerate_cells"]
    assert np.array_equal(regen, (rec["codes"] != t["ref_codes"]).astype(np.uint8))
    assert regen[0].min() == 0 and regen[1].min() == 1  # item 0 kept some cells, item 1 none
    params = Params(**meta["params"])
    plain = edit(onnx_backend, tokenizer, meta["prompt"], t["reference_image"],
                 Draws.recorded(meta["uniforms"], t["noise"]), replace(params, edit_keep_unchanged=False))
    assert "regenerate_cells" not in plain
    assert np.array_equal(plain["codes"], rec["codes"])  # the mask comes after the AR; it changes no code
    # Nothing kept: exactly the plain edit. Something kept: those pixels are the reference's, exactly.
    assert np.array_equal(rec["image"][1], plain["image"][1])
    size = onnx_backend.cfg.image_size
    keep = cells_to_grid(regen, onnx_backend.cfg.code_grid, size, size)[0] == 0
    assert 0 < keep.sum() < keep.size
    assert np.array_equal(rec["image"][0][:, keep], t["reference_image"][:, keep])
    assert not np.array_equal(plain["image"][0][:, keep], t["reference_image"][:, keep])
    # Cells map onto any grid by ⌊y·gh/H⌋: 2×2 cells on 3×5 → rows 0,0,1; columns 0,0,0,1,1.
    grid = cells_to_grid(np.array([[1, 2, 3, 4]]), (2, 2), 3, 5)[0]
    assert grid.tolist() == [[1, 1, 1, 2, 2], [1, 1, 1, 2, 2], [3, 3, 3, 4, 4]]


def test_edits_sample_at_the_edit_temperature_and_text_to_image_does_not(onnx_backend, tokenizer):
    from dataclasses import replace
    meta, t = read_record(REF / "edit.json")
    params = Params(**meta["params"])
    assert params.edit_temperature is None and params.temperature == 1.0

    def run_edit(p):
        return edit(onnx_backend, tokenizer, meta["prompt"], t["reference_image"], Draws.recorded(meta["uniforms"], t["noise"]), p)
    # edit_temperature set: the edit samples exactly as with that temperature, whatever `temperature` says.
    by_edit_t = run_edit(replace(params, edit_temperature=0.0))
    by_t = run_edit(replace(params, temperature=0.0))
    assert np.array_equal(by_edit_t["codes"], by_t["codes"])
    assert not np.array_equal(by_edit_t["codes"], np.asarray(meta["codes"]))  # and it is not the fixture's temperature
    # Text-to-image ignores it.
    t2i, tt = read_record(REF / "t2i.json")
    p2 = replace(Params(**t2i["params"]), edit_temperature=0.0)
    rec = text_to_image(onnx_backend, tokenizer, [t2i["prompt"]] * t2i["batch"], Draws.recorded(t2i["uniforms"], tt["noise"]), p2)
    assert rec["codes"].tolist() == t2i["codes"]


def test_seeded_and_recorded_draws_agree(fixture_model, tokenizer):
    model, _ = fixture_model
    backend = TorchBackend(model)
    cfg = model.cfg
    params = Params.defaults(cfg)
    a = text_to_image(backend, tokenizer, ["a dog", "a red apple at the top left"], Draws.seeded(11, 2, cfg.latent_shape),
                      params)
    b = text_to_image(backend, tokenizer, ["a dog", "a red apple at the top left"],
                      Draws.recorded(a["uniforms"], a["noise"]), params)
    assert np.array_equal(a["codes"], b["codes"]) and np.array_equal(a["image"], b["image"])
    assert a["attention_mask"][0].sum() < a["attention_mask"][1].sum()  # the short prompt was left-padded


def test_inpaint_keeps_unmasked_pixels(onnx_backend, tokenizer):
    meta, t, rec = replay(onnx_backend, tokenizer, "inpaint")
    keep = t["mask"] == 0
    assert np.array_equal(rec["image"][0][:, keep], t["input_image"][:, keep])
    assert not np.array_equal(rec["image"][0], t["input_image"])
    m = latent_mask(t["mask"])
    assert m.shape == (1, 1, 8, 8) and m[0, 0, :, 4].all() and not m[0, 0, :, 3].any()


def test_graph_fixtures_match_the_onnx_bundle(onnx_backend):
    index = json.loads((REF / "graphs.json").read_text())
    for case, entry in index.items():
        t = load_file(str(REF / entry["file"]))
        inputs = {k[len("input."):]: v for k, v in t.items() if k.startswith("input.")}
        out = onnx_backend.run(entry["role"], **inputs)
        for name, v in out.items():
            want = t[f"output.{name}"]
            if v.dtype == np.int64:
                assert (v != want).mean() <= 0.01, f"{case}.{name}"
            else:
                assert float(np.abs(v - want).max()) <= 1e-4, f"{case}.{name}"


def _without_hashes(x):
    """bundle.json with the files' sha256 left out (they hash ONNX files whose constants differ in the last bit)."""
    if isinstance(x, dict):
        return {k: _without_hashes(v) for k, v in x.items() if k != "sha256"}
    return [_without_hashes(v) for v in x] if isinstance(x, list) else x


def _same_arrays(a: dict, b: dict, rel) -> None:
    assert sorted(a) == sorted(b), rel
    for k in a:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        assert (x.shape, x.dtype) == (y.shape, y.dtype), f"{rel}:{k}"
        if np.issubdtype(x.dtype, np.floating):
            assert np.allclose(x, y, rtol=1e-3, atol=1e-4), f"{rel}:{k}"
        else:  # sampled codes: a near-tie may fall the other way after a last-bit difference
            assert (x != y).mean() <= 0.01, f"{rel}:{k}"


def test_committed_fixtures_are_what_make_fixtures_writes(tmp_path):
    """Byte for byte, except where the float rounding of this CPU shows: the export's computed constants and the
    recorded reference outputs may differ in the last bits from the machine that made the commit's fixtures (an
    AVX-512 and an AVX2 machine do), so those compare as numbers (ONNX graphs: conftest.assert_same_onnx)."""
    make_fixtures_main(["--out", str(tmp_path)])
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(FIXTURES) for p in FIXTURES.rglob("*") if p.is_file())
    assert fresh == committed
    stale = "is stale: run python -m modeling.make_fixtures"
    for rel in fresh:
        a, b = tmp_path / rel, FIXTURES / rel
        if a.read_bytes() == b.read_bytes():
            continue
        if rel.suffix == ".safetensors":
            _same_arrays(load_file(str(a)), load_file(str(b)), f"tests/fixtures/{rel} {stale}")
        elif rel.suffix == ".onnx":
            assert_same_onnx(a, b)  # a stale graph fails here
        elif rel.name in ("bundle.json", "bundle-patch.json"):
            # The manifests hash the ONNX files above, so their sha256 follow those files' last bits: compare the
            # rest, and check that each manifest's hashes are those of the files it sits beside.
            assert _without_hashes(json.loads(a.read_text())) == _without_hashes(json.loads(b.read_text())), f"tests/fixtures/{rel} {stale}"
            for manifest in (a, b):
                for f in json.loads(manifest.read_text())["files"]:
                    assert sha256_file(manifest.parent / f["path"]) == f["sha256"], f"{manifest}: {f['path']} does not hash to its recorded sha256"
        else:
            raise AssertionError(f"tests/fixtures/{rel} {stale}")


def test_generate_cli_writes_pngs_and_replays_its_record(tmp_path):
    from PIL import Image

    bundle = str(FIXTURES / "bundle-fixture")
    generate_main(["--bundle", bundle, "--prompt", "a fish", "--seed", "5", "--batch", "2", "--out",
                   str(tmp_path / "x.png"), "--record", str(tmp_path / "rec.json")])
    first = np.asarray(Image.open(tmp_path / "x-1.png"))
    assert first.shape == (32, 32, 3)
    generate_main(["--bundle", bundle, "--prompt", "a fish", "--draws", str(tmp_path / "rec.json"), "--out",
                   str(tmp_path / "y.png")])
    assert np.array_equal(np.asarray(Image.open(tmp_path / "y-1.png")), first)
