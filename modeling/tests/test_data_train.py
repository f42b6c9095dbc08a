"""The training recipe on real parts: sequences match the bundle spec's prompt building, a tiny run of every
stage trains, writes its outputs, and resumes from its checkpoint."""
import json

import numpy as np
import pytest
import torch

from modeling.checkpoint import load_checkpoint
from modeling.data.testing import NODE_MODULES, prepared_folder
from modeling.prompting import build_prompt_ids
from modeling.train.presets import cpu_model
from modeling.train.sequences import PromptBuilder

pytestmark = pytest.mark.skipif(not (NODE_MODULES / "emoji-datasource-google").exists(), reason="npm devDependencies not installed")


@pytest.fixture(scope="module")
def tokenizer():
    from modeling.train.stages import train_text_tokenizer
    return train_text_tokenizer(prepared_folder(), cpu_model().text.vocab_size)


def test_rows_match_the_spec_prompt_builder(tokenizer):
    cfg = cpu_model()
    b = PromptBuilder(cfg, tokenizer)
    rng = np.random.default_rng(0)
    prompts = ["a cat in the top left on a blue background", 'a sign that says "OPEN" at the top on red',
               "make the background pink " * 10]  # the last one is truncated
    codes = rng.integers(0, cfg.codebook_size, (3, cfg.code_count))
    refs = rng.integers(0, cfg.codebook_size, (3, cfg.code_count))
    for kind, ref in (("generate", None), ("edit", refs)):
        assert b.prompt_ids_batch(prompts) == [b.prompt_ids(p) for p in prompts]
        ids, mask = b.rows(kind, b.prompt_ids_batch(prompts), codes, ref)
        for i, p in enumerate(prompts):
            expect, _ = build_prompt_ids(tokenizer, cfg, p, None if ref is None else ref[i].tolist())
            row = ids[i][mask[i] == 1].tolist()
            assert row == expect + [cfg.image_code_offset + int(c) for c in codes[i]]
            assert (mask[i][: len(mask[i]) - len(row)] == 0).all()  # left padding only
        # the last count+1 positions are <|img_start|> and the codes, in every row
        assert (ids[:, -cfg.code_count - 1] == tokenizer.token_to_id("<|img_start|>")).all()
        if kind == "edit":  # nano template: reference code i sits code_count + 2 positions before code i
            n = cfg.code_count
            assert (np.asarray(ids[:, -2 * n - 2:-n - 2]) == ref + cfg.image_code_offset).all()
            assert (ids[:, -n - 2] == tokenizer.token_to_id("<|ref_end|>")).all()


def test_prompt_drop_swaps_in_the_empty_prompt_row_of_the_same_item(tokenizer):
    from types import SimpleNamespace

    from modeling.train.pool import batch_rows, build_rows
    cfg = cpu_model()
    b = PromptBuilder(cfg, tokenizer)
    rng = np.random.default_rng(1)
    n = 6
    captions = [f"{k} red apples in the top left on a blue background" for k in range(n)]
    pool = SimpleNamespace(captions=captions, instructions=["make the background pink"] * n,
                           codes=torch.from_numpy(rng.integers(0, cfg.codebook_size, (n, cfg.code_count))),
                           edit_tgt_codes=torch.from_numpy(rng.integers(0, cfg.codebook_size, (n, cfg.code_count))),
                           edit_src_codes=torch.from_numpy(rng.integers(0, cfg.codebook_size, (n, cfg.code_count))))
    build_rows(pool, b, "cpu")
    for kind, ids, mask, lens, unc, codes, refs in (
            ("generate", pool.gen_ids, pool.gen_mask, pool.gen_len, (pool.gen_uncond_ids, pool.gen_uncond_mask),
             pool.codes, None),
            ("edit", pool.edit_ids, pool.edit_mask, pool.edit_len, (pool.edit_uncond_ids, pool.edit_uncond_mask),
             pool.edit_tgt_codes, pool.edit_src_codes)):
        np.random.seed(0)
        idx, rows, row_mask = batch_rows(ids, mask, lens, 8, "cpu", unc, prompt_drop=1.0)
        for r, i in enumerate(idx.tolist()):
            expect = b.prefix(kind, [], None if refs is None else refs[i].tolist()) + \
                [cfg.image_code_offset + int(c) for c in codes[i]]
            assert rows[r][row_mask[r] == 1].tolist() == expect
            assert (rows[r][row_mask[r] == 0] == b.pad).all()
        np.random.seed(0)
        idx0, rows0, mask0 = batch_rows(ids, mask, lens, 8, "cpu", unc, prompt_drop=0.0)
        assert torch.equal(idx0, idx) and torch.equal(rows0, ids[idx0, -rows0.shape[1]:])
        assert all(rows0[r][mask0[r] == 1].shape[0] > rows[r][row_mask[r] == 1].shape[0] for r in range(8))
        np.random.seed(3)
        _, mixed, _ = batch_rows(ids, mask, lens, 400, "cpu", unc, prompt_drop=0.25)
        emptied = (mixed[:, -cfg.code_count - 2] == rows[0][-cfg.code_count - 2]).float().mean().item() \
            if kind == "generate" else None
        if emptied is not None:  # the token before <|img_start|> is the template's, not the prompt's
            assert 0.15 < emptied < 0.35


def test_sign_share_changes_which_rows_are_drawn_not_the_pool():
    from types import SimpleNamespace

    from modeling.train.pool import batch_rows, weight_signs
    n = 1000
    signs = np.zeros(n, dtype=bool)
    signs[:100] = True  # a pool with a tenth sign scenes
    pool = SimpleNamespace(signs=signs, gen_cdf=None)
    weight_signs(pool, 0.6)
    assert pool.gen_cdf.shape == (n,) and (np.diff(pool.gen_cdf) > 0).all() and pool.gen_cdf[-1] == 1.0
    ids = torch.arange(n)[:, None].repeat(1, 4)
    mask = torch.ones_like(ids)
    lens = np.full(n, 4)
    np.random.seed(0)
    idx, rows, _ = batch_rows(ids, mask, lens, 20000, "cpu", cdf=pool.gen_cdf)
    drawn = signs[idx.numpy()]
    assert abs(drawn.mean() - 0.6) < 0.02
    assert torch.equal(rows[:, 0], idx)  # the rows are the drawn items'
    # inside each group every row stays equally likely: a sign row is drawn 120 times on average, another 8.9
    counts = np.bincount(idx.numpy(), minlength=n)
    assert counts[:100].min() > 0.5 * counts[:100].mean()
    assert abs(counts[:100].mean() / counts[100:].mean() - (0.6 / 100) / (0.4 / 900)) < 1.0
    np.random.seed(0)
    plain, _, _ = batch_rows(ids, mask, lens, 20000, "cpu")
    assert abs(signs[plain.numpy()].mean() - 0.1) < 0.02
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            weight_signs(pool, bad)
    with pytest.raises(ValueError, match="with and without a sign"):
        weight_signs(SimpleNamespace(signs=np.zeros(5, dtype=bool), gen_cdf=None), 0.5)


def test_tiny_run_trains_every_stage_and_resumes(tmp_path, monkeypatch):
    from modeling.train import run as R
    monkeypatch.setenv("ATELIER_DATA", str(prepared_folder()))
    torch.set_num_threads(2)
    out = tmp_path / "run"
    args = ["--preset", "cpu", "--out", str(out), "--seconds", "600", "--max-steps", "2", "--scenes", "96",
            "--edits", "48", "--data", str(prepared_folder()), "--grid-steps", "1", "--batch", "4"]
    R.main(args)
    summary = json.loads((out / "summary.json").read_text())
    assert {n: s["steps"] for n, s in summary["stages"].items()} == {"autoencoders": 2, "generator": 2, "edit": 2}
    assert summary["seed"] == 0  # the preset's
    for f in ("state.pt", "model.safetensors", "loss.png", "grid.png", "history.json"):
        assert (out / f).stat().st_size > 0, f
    model, tok = load_checkpoint(out / "model.safetensors")
    assert model.cfg.vae.scaling_factor != 1.0  # fitted after stage 1, saved with the weights
    hist = json.loads((out / "history.json").read_text())
    assert {h["stage"] for h in hist} == {"autoencoders", "generator", "edit"}
    edit_keys = {k for h in hist if h["stage"] == "edit" for k in h}
    assert {"edit_ar_ce", "edit_flow", "t2i_ar_ce", "t2i_flow"} <= edit_keys
    assert all(np.isfinite(v) for h in hist for k, v in h.items() if k not in ("stage",))
    # Resume with a higher step cap: each stage continues from its saved step instead of restarting.
    state = torch.load(out / "state.pt", weights_only=False)
    for p in state["progress"]:
        p["done"] = p["stage"] == "autoencoders"
    torch.save(state, out / "state.pt")
    R.main(args[:7] + ["3"] + args[8:])
    summary = json.loads((out / "summary.json").read_text())
    assert {n: s["steps"] for n, s in summary["stages"].items()} == {"autoencoders": 2, "generator": 3, "edit": 3}
    # Continue from the trained checkpoint in a new folder: stage 1 skipped (autoencoders and latent scale kept),
    # only the asked stage runs, and --spell-capitals converts the tokenizer without changing other ids.
    from tokenizers import Tokenizer, pre_tokenizers

    from modeling.checkpoint import save_checkpoint
    from modeling.text_tokenizer import encode_plain, spells_capitals
    base, base_tok = load_checkpoint(out / "model.safetensors")
    assert spells_capitals(base_tok)  # a fresh run's tokenizer spells capitals
    base_tok = Tokenizer.from_str(base_tok.to_str())
    base_tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)  # as checkpoints before it
    from modeling.config import EDIT_TEMPLATE_PROMPT_FIRST, TextTokenizerConfig
    from modeling.model import AtelierModel
    # as checkpoints before the nano template and the DiT's spatial condition
    base.cfg.text.template_edit = TextTokenizerConfig().template_edit
    base.cfg.dit.spatial_cond = False
    old = AtelierModel(base.cfg)
    old.load_state_dict({k: v for k, v in base.state_dict().items() if "spatial_cond" not in k})
    save_checkpoint(tmp_path / "plain.safetensors", old, base_tok)
    base = old
    cont = tmp_path / "continued"
    pool_seeds = []  # a new --seed renders a pool the checkpoint has not trained on
    build_pool = R.build_pool
    monkeypatch.setattr(R, "build_pool", lambda n, e, seed, *a: pool_seeds.append(seed) or build_pool(n, e, seed, *a))
    R.main(["--preset", "cpu", "--out", str(cont), "--seconds", "600", "--max-steps", "2", "--scenes", "96",
            "--edits", "48", "--data", str(prepared_folder()), "--grid-steps", "1", "--batch", "4",
            "--init", str(tmp_path / "plain.safetensors"), "--stages", "generator", "--spell-capitals", "--upgrade", "--lr", "1e-4",
            "--seed", "3"])
    summary = json.loads((cont / "summary.json").read_text())
    assert pool_seeds == [3] and summary["seed"] == 3
    assert {n: s["steps"] for n, s in summary["stages"].items()} == {"autoencoders": 0, "generator": 2, "edit": 0}
    assert summary["init"] == str(tmp_path / "plain.safetensors")
    model2, tok2 = load_checkpoint(cont / "model.safetensors")
    assert model2.cfg.vae.scaling_factor == base.cfg.vae.scaling_factor
    assert model2.cfg.vae.shift_factor == base.cfg.vae.shift_factor
    a, b = base.state_dict(), model2.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith(("vae.", "image_tokenizer.")))
    assert any(not torch.equal(a[k], b[k]) for k in a if k.startswith("ar."))
    assert spells_capitals(tok2) and not spells_capitals(base_tok)
    assert model2.cfg.text.template_edit == EDIT_TEMPLATE_PROMPT_FIRST != base.cfg.text.template_edit
    assert model2.cfg.dit.spatial_cond and model2.dit.spatial_cond is not None and base.dit.spatial_cond is None
    assert model2.dit.spatial_cond.weight.abs().sum() > 0  # zero-initialised, then trained
    caption = "a cat at the top left on a blue background"
    assert encode_plain(tok2, caption) == encode_plain(base_tok, caption)
    with pytest.raises(SystemExit, match="needs --init"):
        R.main(["--preset", "cpu", "--out", str(tmp_path / "x"), "--stages", "generator"])
    with pytest.raises(SystemExit, match="--sign-narrow-pad must be between 0 and 8"):
        R.main(["--preset", "cpu", "--out", str(tmp_path / "x"), "--sign-narrow-pad", "9"])
    # --grow-ar-layers: the checkpoint's AR made deeper (modeling/train/grow.py), then trained on
    from modeling.train.grow import new_block_count
    with pytest.raises(SystemExit, match="--grow-ar-layers needs --init"):
        R.main(["--preset", "cpu", "--out", str(tmp_path / "x"), "--grow-ar-layers", "8"])
    grown = tmp_path / "grown"
    deeper = 2 * model2.cfg.ar.layers
    R.main(["--preset", "cpu", "--out", str(grown), "--seconds", "600", "--max-steps", "2", "--scenes", "96",
            "--edits", "48", "--data", str(prepared_folder()), "--grid-steps", "1", "--batch", "4",
            "--init", str(cont / "model.safetensors"), "--stages", "generator", "--grow-ar-layers", str(deeper),
            "--freeze", "dit"])
    model3, _ = load_checkpoint(grown / "model.safetensors")
    assert model3.cfg.ar.layers == deeper and len(model3.ar.blocks) == deeper
    assert new_block_count(model3) == 0  # every new block has left the identity
    c = model3.state_dict()
    assert all(torch.equal(b[k], c[k]) for k in b if k.startswith(("vae.", "image_tokenizer.")))
    # --freeze dit: the DiT draws as the checkpoint did; the connector and the AR learned through it
    assert all(torch.equal(b[k], c[k]) for k in b if k.startswith("dit."))
    assert any(not torch.equal(b[k], c[k]) for k in b if k.startswith("connector."))
    assert json.loads((grown / "summary.json").read_text())["frozen"] == ["dit"]
    for bad, why in (("dit,vae", "cannot freeze \\['vae'\\]"), ("ar,connector,dit", "nothing would train")):
        with pytest.raises(SystemExit, match=why):
            R.main(["--preset", "cpu", "--out", str(tmp_path / "x"), "--freeze", bad])
    # The continued run keeps the old checkpoint's sampling settings; the export sets the AR guidance default.
    from modeling.backends import OnnxBackend
    from modeling.generate import Params
    from modeling.train.ship import export
    assert model2.cfg.sampling == base.cfg.sampling
    assert (base.cfg.sampling.cfg_scale, base.cfg.sampling.edit_cfg_scale) != (2.5, 1.5)
    export(cont, tmp_path / "b0", "test")  # unset: the checkpoint's config's (the nano preset's)
    b0 = json.loads((tmp_path / "b0" / "bundle.json").read_text())
    assert b0["sampling"]["edit_temperature"] == base.cfg.sampling.edit_temperature == 0.5
    # The export holds the fp16 checkpoint the run folder commits: re-exporting that file gives the same graphs,
    # and the weights are stored as fp16 (modeling/half_storage.py), not as the float32 training weights.
    import onnx
    from modeling.train.reexport import reexport
    assert (cont / "model-fp16.safetensors").exists()
    again = reexport(cont / "model-fp16.safetensors", tmp_path / "b0", tmp_path / "b0-again", log=lambda m: None)
    assert {f["path"]: f["sha256"] for f in again["files"]} == {f["path"]: f["sha256"] for f in b0["files"]}
    halves = [t for t in onnx.load(str(tmp_path / "b0" / "ar.onnx")).graph.initializer if t.data_type == onnx.TensorProto.FLOAT16]
    assert sum(np.prod(t.dims) for t in halves) >= 0.9 * sum(p.numel() for p in model2.ar.parameters())
    export(cont, tmp_path / "bundle", "test", ar_cfg_scale=2.5, edit_ar_cfg_scale=1.5, edit_temperature=0.25)
    meta = json.loads((tmp_path / "bundle" / "bundle.json").read_text())
    assert meta["sampling"]["edit_temperature"] == 0.25 == meta["config"]["sampling"]["edit_temperature"]
    assert meta["sampling"]["cfg_scale"] == 2.5 == meta["config"]["sampling"]["cfg_scale"]
    assert meta["sampling"]["edit_cfg_scale"] == 1.5 == meta["config"]["sampling"]["edit_cfg_scale"]
    params = Params.defaults(OnnxBackend(tmp_path / "bundle", threads=1).cfg)
    assert (params.ar_cfg_scale, params.edit_ar_cfg_scale, params.edit_temperature) == (2.5, 1.5, 0.25)
    # Two GRPO stages (the second with edit steps): the recipe names both, provenance.rl holds the last one's check
    summary = json.loads((cont / "summary.json").read_text())
    summary["sign_narrow_pad"] = 3.5  # the run drew its signs with room for I and J: the bundle says so
    summary["frozen"] = ["dit"]
    summary["rl_earlier"] = [{"steps": 238, "seconds": 2404.7, "eval_before": {"text": 0.5}, "eval_after": {"text": 0.6}}]
    summary["rl"] = {"steps": 120, "seconds": 2100.0, "eval_before": {"text": 0.6}, "eval_after": {"text": 0.6},
                     "edit_eval_before": {"done": 0.5}, "edit_eval_after": {"done": 0.6}}
    (cont / "summary.json").write_text(json.dumps(summary))
    export(cont, tmp_path / "b2", "test")
    prov = json.loads((tmp_path / "b2" / "bundle.json").read_text())["provenance"]
    assert prov["recipe"].endswith("; then GRPO (modeling/rl) 238 steps in 2404.7 s; then GRPO (modeling/rl) 120 steps in 2100.0 s with edit steps")
    assert prov["rl"]["steps"] == 120 and prov["rl"]["edit_eval_after"] == {"done": 0.6}
    assert prov["sign_narrow_pad"] == 3.5 and meta["provenance"]["sign_narrow_pad"] == 0.0
    assert ", dit frozen" in prov["recipe"] and "frozen" not in meta["provenance"]["recipe"]


def test_pack_brings_back_at_most_8_files_of_15_mb(tmp_path):
    import io
    import tarfile

    from modeling.train.ship import MAX_FILES, PART_BYTES, pack
    run, bundle, out = tmp_path / "run", tmp_path / "bundle", tmp_path / "out"
    run.mkdir()
    bundle.mkdir()
    rng = np.random.default_rng(0)
    (run / "summary.json").write_text("{}")
    (run / "grid.png").write_bytes(b"png")
    (bundle / "dit.onnx").write_bytes(rng.bytes(33_000_000))  # incompressible, like fp32 weights
    (bundle / "bundle.json").write_text("{}")
    files = pack(run, bundle, out, {"note": "test"})
    assert len(files) <= MAX_FILES and all((out / f).stat().st_size <= PART_BYTES for f in files)
    joined = b"".join((out / f).read_bytes() for f in sorted(files) if f.startswith("results.tar.part-"))
    with tarfile.open(fileobj=io.BytesIO(joined)) as tar:
        names = tar.getnames()
        assert tar.extractfile("bundle/dit.onnx").read() == (bundle / "dit.onnx").read_bytes()
    assert {"run/summary.json", "run/grid.png", "bundle/bundle.json"} <= set(names)
    assert json.loads((out / "report.json").read_text())["note"] == "test"


def test_choose_batch_takes_the_fastest_only_for_a_clear_gain():
    from modeling.train.stages import choose_batch
    assert choose_batch({256: 3000.0, 512: 5000.0, 1024: 5500.0}, 256) == 1024
    assert choose_batch({256: 3000.0, 512: 3600.0}, 256) == 256  # 20 % more rows/s: not worth a new recipe
    assert choose_batch({256: 3000.0, 128: 2000.0}, 256) == 256


def test_batch_probe_times_each_size_and_auto_batch_trains_at_its_choice(tmp_path, monkeypatch):
    from modeling.train import run as R
    from modeling.train.stages import choose_batch
    monkeypatch.setenv("ATELIER_DATA", str(prepared_folder()))
    torch.set_num_threads(2)
    out = tmp_path / "run"
    R.main(["--preset", "cpu", "--out", str(out), "--seconds", "600", "--max-steps", "1", "--scenes", "64",
            "--edits", "32", "--data", str(prepared_folder()), "--grid-steps", "1", "--batch", "4",
            "--probe-batches", "2,8", "--auto-batch"])
    summary = json.loads((out / "summary.json").read_text())
    probe = summary["batch_probe"]
    rates = {int(b): r for b, r in probe["rows_per_s"].items()}
    assert set(rates) == {2, 4, 8} and all(r > 0 for r in rates.values())  # the stage's own batch is timed too
    assert probe["base"] == 4 and probe["chosen"] == choose_batch(rates, 4)
    assert summary["stages"]["generator"]["batch"] == probe["chosen"]
    assert summary["stages"]["edit"]["batch"] == probe["chosen"]  # --batch 4 set both; scaled alike
    with pytest.raises(SystemExit, match="needs --probe-batches"):
        R.main(["--preset", "cpu", "--out", str(tmp_path / "x"), "--auto-batch"])


def test_stage_shares_follow_the_wanted_stages_and_the_edit_share():
    from modeling.train.presets import gpu
    from modeling.train.run import set_stage_shares
    shares = lambda p: {n: round(b.share, 6) for n, b in p.stages.items()}
    p = gpu()
    set_stage_shares(p, {"generator", "edit"})  # the preset's 0.6 : 0.2 over the two wanted stages
    assert shares(p) == {"autoencoders": 0.0, "generator": 0.75, "edit": 0.25}
    p = gpu()
    set_stage_shares(p, {"generator", "edit"}, 0.5)
    assert shares(p) == {"autoencoders": 0.0, "generator": 0.5, "edit": 0.5}
    p = gpu()
    set_stage_shares(p, {"autoencoders", "generator", "edit"}, 0.4)  # the rest keeps the preset's 0.2 : 0.6
    assert shares(p) == {"autoencoders": 0.15, "generator": 0.45, "edit": 0.4}
    for bad, match in ((0.0, "must be in"), (1.5, "must be in")):
        with pytest.raises(ValueError, match=match):
            set_stage_shares(gpu(), {"generator", "edit"}, bad)
    with pytest.raises(ValueError, match="not among the stages"):
        set_stage_shares(gpu(), {"generator"}, 0.5)
