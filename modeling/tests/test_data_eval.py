"""The evaluation: the scorer is right on ground truth and wrong on mismatched images; the bundle evaluation
runs end to end through onnxruntime on a freshly exported (untrained) 64 px bundle."""
import json
from pathlib import Path

import numpy as np
import pytest

from modeling.data.scene import render, sample_scene, scene_rng
from modeling.data.testing import NODE_MODULES, prepared_assets, prepared_folder
from modeling.eval.score import psnr, score_scene

pytestmark = pytest.mark.skipif(not (NODE_MODULES / "emoji-datasource-google").exists(), reason="npm devDependencies not installed")


def _scores(pairs, assets):
    agg = {}
    for img, scene in pairs:
        for k, v in score_scene(img, scene, assets).items():
            agg.setdefault(k, []).append(v)
    return {k: float(np.mean(v)) for k, v in agg.items()}, {k: len(v) for k, v in agg.items()}


def test_scorer_agrees_with_ground_truth_and_rejects_mismatches():
    assets = prepared_assets()
    names = assets.names()
    scenes = [sample_scene(scene_rng(1, "heldout", i), names, "heldout") for i in range(200)]
    others = [sample_scene(scene_rng(2, "heldout", i), names, "heldout") for i in range(200)]
    truth, counts = _scores([(render(s, assets), s) for s in scenes], assets)
    assert min(counts.values()) >= 8, counts
    assert truth["background"] == 1.0 and truth["position"] == 1.0 and truth["count"] == 1.0 and truth["text"] == 1.0
    assert truth["object"] >= 0.9
    wrong, _ = _scores([(render(o, assets), s) for s, o in zip(scenes, others)], assets)
    assert all(v <= 0.3 for v in wrong.values()), wrong


def test_psnr():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0] = 255
    where = np.ones((4, 4), bool)
    assert psnr(a, a, where) == float("inf")
    where[0, 0] = False
    assert psnr(a, b, where) == float("inf")  # the changed pixel is outside the compared region
    assert 10 < psnr(a, b, np.ones((4, 4), bool)) < 20


def test_bundle_evaluation_end_to_end(tmp_path, monkeypatch):
    import torch

    from modeling.eval.run import evaluate
    from modeling.export import export_bundle
    from modeling.model import AtelierModel
    from modeling.train.presets import cpu_model
    from modeling.train.stages import train_text_tokenizer

    from modeling.rl.ocr import ocr_dir
    ocr = ocr_dir() if (ocr_dir() / "rec.onnx").exists() else None  # the prepared OCR model, read before the data folder moves
    monkeypatch.setenv("ATELIER_DATA", str(prepared_folder()))
    cfg = cpu_model()
    cfg.scheduler.steps = 2
    torch.manual_seed(0)
    model = AtelierModel(cfg).eval()
    tok = train_text_tokenizer(prepared_folder(), cfg.text.vocab_size)
    export_bundle(model, tok, tmp_path / "bundle", log=lambda m: None)
    report = evaluate(tmp_path / "bundle", tmp_path / "eval", n_single=2, n_count=1, n_sign=1, n_pair=1, n_edits=2,
                      batch=5, log=lambda m: None, n_novel=1, use_ocr=ocr is not None, ocr_folder=ocr,
                      overrides={"edit_keep_unchanged": True})
    saved = json.loads((tmp_path / "eval" / "scores.json").read_text())
    if ocr is not None:  # PaddleOCR reads the true sign; the untrained model's sign is not read
        assert saved["truth_text_detail"]["text_similarity"] == 1.0 and "PaddleOCR" in saved["notes"][0]
        assert report["categories"]["text"] == 0.0 and report["text_detail"]["text_similarity"] < 0.5
    assert saved["n_prompts"] == 5 and len(saved["items"]) == 5 and len(saved["edit_items"]) == 2
    assert saved["truth"]["background"] == 1.0 and saved["truth"]["position"] == 1.0 and saved["truth"]["text"] == 1.0
    assert saved["edits"]["done_on_truth"] == 1.0
    # edits kept the cells whose code the AR kept: reported per edit and on average
    assert saved["edits"]["keep_unchanged"] is True and saved["params"]["edit_keep_unchanged"] is True
    kept = [e["cells_kept"] for e in saved["edit_items"]]
    assert all(0.0 <= k <= 1.0 for k in kept) and saved["edits"]["cells_kept"] == np.mean(kept)
    assert saved["novel_objects"]["n"] == 1
    # each category's prompt count and standard error, recomputed from the items
    for c, n in saved["categories_n"].items():
        vals = [p["scores"][c] for p in saved["items"] if p["scores"].get(c) is not None]
        assert n == len(vals) and n >= 1
        se = saved["categories_se"][c]
        assert se is None if n == 1 else abs(se - np.std(vals, ddof=1) / np.sqrt(n)) < 1e-12
    done = [e["done"] for e in saved["edit_items"]]
    assert abs(saved["edits"]["done_se"] - np.std(done, ddof=1) / np.sqrt(2)) < 1e-12
    both = [float(e["done"] == 1.0 and e["psnr_outside_edit"] >= 30) for e in saved["edit_items"]]
    assert saved["edits"]["done_and_ge_30db"] == np.mean(both) <= min(saved["edits"]["done"], saved["edits"]["psnr_outside_edit_ge_30db"])
    diag = saved["edits"]["diagnostics"]
    assert set(diag) == {"ar_teacher_forced_unchanged_code_acc", "ar_teacher_forced_changed_code_acc",
                         "sampled_codes_copied_where_unchanged", "psnr_outside_edit_true_codes_db"}
    assert all("teacher_forced_unchanged" in e and "psnr_outside_edit_true_codes" in e for e in saved["edit_items"])
    assert diag["ar_teacher_forced_changed_code_acc"] < 0.2  # an untrained AR is near chance (1 in 1000)
    singles = [p for p in saved["items"] if p["layout"] == "single"]
    assert len(singles) == 2 and all(p["object_from_true_codes"] in (0.0, 1.0) for p in singles)
    assert saved["diagnostics"]["object_from_true_codes"] == np.mean([p["object_from_true_codes"] for p in singles])
    # the sign prompts drawn from their true codes: read like the sampled ones, averaged into the diagnostics
    signs = [p for p in saved["items"] if "text" in p["scores"]]
    assert len(signs) >= 1 and all(p["text_from_true_codes"] in (0.0, 1.0) for p in signs)
    assert all("text_from_true_codes" not in p for p in saved["items"] if "text" not in p["scores"])
    assert saved["diagnostics"]["text_from_true_codes"] == np.mean([p["text_from_true_codes"] for p in signs])
    if ocr is not None:
        sims = [p["text_similarity_from_true_codes"] for p in signs]
        assert all(0.0 <= x <= 1.0 for x in sims) and saved["diagnostics"]["text_similarity_from_true_codes"] == np.mean(sims)
    else:
        assert saved["diagnostics"]["text_similarity_from_true_codes"] is None
    assert set(report["categories"]) == {"background", "position", "object", "count", "text"}
    assert (tmp_path / "eval" / "grid.png").stat().st_size > 0


def test_evaluation_draws_signs_as_the_bundle_was_trained(monkeypatch):
    """provenance.sign_narrow_pad sets how the evaluation draws its signs (true renders, edit references);
    absent means 0, and $ATELIER_SIGN_NARROW_PAD overrides it."""
    from modeling.data import assets as A
    from modeling.eval.run import use_sign_style
    assets = prepared_assets()
    monkeypatch.delenv("ATELIER_SIGN_NARROW_PAD", raising=False)
    monkeypatch.setattr(A, "SIGN_NARROW_PAD", 0.0)
    plain = assets.sign("GIFT")[0].shape[1]
    assert use_sign_style({"provenance": {"sign_narrow_pad": 4.0}}) == 4.0
    assert abs(assets.sign("GIFT")[0].shape[1] - (plain + 4)) <= 1  # wider: not a stale cached render
    assert use_sign_style({"provenance": {"recipe": "older bundle"}}) == 0.0
    assert assets.sign("GIFT")[0].shape[1] == plain
    monkeypatch.setenv("ATELIER_SIGN_NARROW_PAD", "2")
    assert use_sign_style({"provenance": {"sign_narrow_pad": 4.0}}) == 2.0
    monkeypatch.setattr(A, "SIGN_NARROW_PAD", 0.0)
    A._render_sign.cache_clear()


def test_edit_done_on_truth_and_not_on_the_unchanged_source():
    from modeling.data.edits import EDIT_KINDS, sample_edit
    from modeling.eval.score import edit_done
    assets = prepared_assets()
    names = assets.names()
    for kind in EDIT_KINDS:
        pairs = [sample_edit(scene_rng(3, "heldout", i, "t"), names, "heldout", kind=kind) for i in range(12)]
        assert all(edit_done(render(p.target, assets), p, assets) == 1.0 for p in pairs), kind
        if kind != "keep":
            undone = np.mean([edit_done(render(p.source, assets), p, assets) for p in pairs])
            assert undone <= 0.25, (kind, undone)


def test_ocr_text_score_reads_true_signs_and_refuses_other_words():
    from modeling.rl.ocr import OcrReward, ocr_dir
    if not (ocr_dir() / "rec.onnx").exists():
        pytest.skip("OCR model not prepared: python -m modeling.rl.ocr prepare")
    ocr = OcrReward(ocr_dir())
    assets = prepared_assets()
    names = assets.names()
    signs = [s for s in (sample_scene(scene_rng(5, "heldout", i), names, "heldout") for i in range(300)) if s.sign][:12]
    assert len(signs) >= 8
    for i, s in enumerate(signs):
        right = score_scene(render(s, assets), s, assets, ocr)
        assert right["text"] == 1.0 and right["text_similarity"] == 1.0 and right["text_template"] == 1.0
        other = signs[(i + 1) % len(signs)]
        if other.sign.word != s.sign.word:  # another word on the sign: not an exact match
            wrong = score_scene(render(other, assets), s, assets, ocr)
            assert wrong["text"] == 0.0 and wrong["text_similarity"] < 1.0


def test_model_card_has_the_scores_the_versions_and_the_ocr_detail():
    from modeling.train.install import model_card
    def scores(overall, text_sim):
        return {"categories": {"background": 1.0, "position": 0.9, "object": 0.1, "count": 0.6, "text": 0.0},
                "overall": overall, "overall_without_text": 0.65, "text_detail": {"text_similarity": text_sim, "text_template": 0.0},
                "truth": {"background": 1.0, "position": 1.0, "object": 0.98, "count": 1.0, "text": 1.0},
                "truth_text_detail": {"text_similarity": 1.0}, "n_prompts": 96, "seed": 0,
                "edits": {"n": 24, "done": 0.2, "done_by_kind": {"keep": 0.0}, "psnr_outside_edit_mean_db": 18.1,
                          "psnr_outside_edit_ge_30db": 0.1},
                "novel_objects": {"object": 0.0, "position": 0.9}, "notes": ["text: PaddleOCR recogniser …"]}
    meta = {"name": "atelier-nano", "variant": "nano", "license": "Apache-2.0",
            "provenance": {"trained_on": "here", "recipe": "r", "commit": "abc", "data": []}}
    card = model_card(meta, scores(0.55, 0.31), [("before", scores(0.52, 0.22))], "## Extra\nnotes here\n")
    assert "| before | 1.00 | 0.90 | 0.10 | 0.60 | 0.00 | 0.52 | 0.22 | 0.20 | 18.10 |" in card
    assert "| this bundle |" in card and "0.55" in card
    assert "PaddleOCR" in card and "1 − normalised edit distance 0.31" in card
    assert card.index("![samples](grid.png)") < card.index("## Extra") < card.index("## LoRA")
    assert "Where edits lose" not in card  # older scores have no fidelity diagnostics
    # "What it cannot do" comes from the scores: the text rate, and the edit kinds done in under half the tries
    assert "the OCR reads a held-out word exactly in 0.00 of the signs" in card
    assert "- Edits done in under half the tries: keep (" in card
    assert "a bare lower-case word is not read as sign text" in card and "the engine quotes a bare capital word" not in card
    assert "the engine quotes a bare capital word itself and writes a quoted lower-case word" in model_card(
        {**meta, "tokenizer": {"quote_sign_words": True}}, scores(0.55, 0.31))
    good = scores(0.55, 0.31)
    good["edits"]["done_by_kind"] = {"keep": 1.0, "add": 0.5}
    assert "Edits done in under half" not in model_card(meta, good)
    # the kinds whose region outside the edit stays at >= 30 dB in under half of the evaluated edits
    assert "Edits that keep the rest" not in card  # older scores: no edit items
    good["edit_items"] = [{"kind": "background", "psnr_outside_edit": 24.0}, {"kind": "background", "psnr_outside_edit": 31.0},
                          {"kind": "background", "psnr_outside_edit": 22.0}, {"kind": "keep", "psnr_outside_edit": float("inf")},
                          {"kind": "add", "psnr_outside_edit": 30.0}, {"kind": "add", "psnr_outside_edit": 29.9}]
    assert "- Edits that keep the rest of the picture at ≥ 30 dB in under half the tries: background 0.33 (" in model_card(meta, good)
    good["edit_items"][2]["psnr_outside_edit"] = 30.5
    assert "Edits that keep the rest" not in model_card(meta, good)
    s = scores(0.55, 0.31)
    s["edits"]["diagnostics"] = {"ar_teacher_forced_unchanged_code_acc": 0.53, "ar_teacher_forced_changed_code_acc": 0.3,
                                 "sampled_codes_copied_where_unchanged": 0.22, "psnr_outside_edit_true_codes_db": 25.6}
    card = model_card(meta, s)
    assert "unchanged cell's code (a copy of the reference) 0.53" in card and "copy 0.22 of the unchanged" in card
    assert "keeps 25.60 dB outside the edit" in card
    s["diagnostics"] = {"object_from_true_codes": 0.125}
    assert "show the asked object 0.12 of the time (sampled: 0.10)" in model_card(meta, s)
    assert "sign prompts' word" not in model_card(meta, s)  # older scores: no text diagnostic
    assert "Edits run on a second generator" not in model_card(meta, s)
    with_editor = {**meta, "provenance": {**meta["provenance"], "edit_generator": {"checkpoint": "ck/model-fp16.safetensors", "notes": "its edits"}}}
    card = model_card(with_editor, s)
    assert "the AR, connector and DiT of ck/model-fp16.safetensors — its edits (variations too" in card
    assert "An edit with a LoRA runs on the text-to-image generator" in card
    s["diagnostics"]["text_from_true_codes"] = 0.875
    assert "word is read exactly 0.88 of the time (sampled: " in model_card(meta, s)
    assert "AR guidance" not in model_card(meta, s)  # older scores have no params
    s["params"] = {"temperature": 1.0, "top_k": 100, "top_p": 0.95, "steps": 20, "shift": 2.0, "cfg_scale": 3.0,
                   "ar_cfg_scale": 2.0, "edit_ar_cfg_scale": 1.0}
    assert "AR guidance 2.0 (edits 1.0; 1 = off); DiT 20 Euler steps, shift 2.0, guidance 3.0." in model_card(meta, s)
    assert "cells kept" not in model_card(meta, s)
    assert "| object | 0.10 | – | – | 0.98 |" in model_card(meta, s)  # older scores: no standard errors
    s2 = {**s, "categories_n": {"background": 96, "position": 96, "object": 56, "count": 16, "text": 24},
          "categories_se": {"background": 0.0, "position": 0.03, "object": 0.04, "count": 0.125, "text": 0.0},
          "edits": {**s["edits"], "done_se": 0.083, "psnr_outside_edit_ge_30db_se": 0.06}}
    card = model_card(meta, s2)
    assert "| object | 0.10 | 0.04 | 56 | 0.98 |" in card and "| count | 0.60 | 0.12 | 16 | 1.00 |" in card
    assert "instruction done 0.20 ± 0.08 (" in card and "≥ 30 dB in 0.10 ± 0.06 of edits" in card
    assert "AR temperature 1.0 (edits 0.5), top-k 100" in model_card(meta, {**s, "params": {**s["params"], "edit_temperature": 0.5}})
    s["params"]["edit_keep_unchanged"] = True
    s["edits"]["cells_kept"] = 0.4375
    card = model_card(meta, s)
    assert "guidance 3.0; edits keep the cells whose code the AR kept (`sampling.edit_keep_unchanged`)." in card
    assert "of edits (cells kept from the reference: 0.44 on average)." in card


def test_teacher_forcing_agrees_with_cached_greedy_sampling():
    """The fidelity diagnostic's one-pass AR (modeling/eval/fidelity.py) sees what sampling saw: fed the codes
    greedy sampling chose, its argmax is those codes and its hidden states are the sampled ones."""
    from tokenizers import Tokenizer

    from modeling.backends import OnnxBackend
    from modeling.eval.fidelity import agreement, teacher_forced
    from modeling.generate import Draws, Params, edit

    root = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "bundle-fixture"
    backend = OnnxBackend(root, threads=1)
    tok = Tokenizer.from_file(str(root / "tokenizer.json"))
    cfg = backend.cfg
    ref = (np.arange(3 * cfg.image_size * cfg.image_size) % 251).astype(np.uint8).reshape(3, cfg.image_size, cfg.image_size)
    rec = edit(backend, tok, "make it pink", ref, Draws.seeded(3, 1, cfg.latent_shape), Params.defaults(cfg, top_k=1))
    tf = teacher_forced(backend, tok, "make it pink", rec["ref_codes"][0], rec["codes"][0])
    assert (tf["codes"] == rec["codes"][0]).all()
    np.testing.assert_allclose(tf["hidden"], rec["hidden"], atol=2e-4)
    a = agreement(np.array([1, 2, 3, 4]), np.array([1, 2, 9, 9]), np.array([1, 5, 9, 0]))
    assert a == {"unchanged": 0.5, "changed": 0.5}


def test_versions_file_lists_every_earlier_evaluation_and_refuses_bad_lines(tmp_path):
    from modeling.data.assets import REPO_ROOT
    from modeling.train.install import read_versions
    committed = REPO_ROOT / "modeling" / "checkpoints" / "versions.tsv"
    rows = read_versions(committed)  # every path in the committed file exists and is an evaluation
    assert len(rows) >= 18 and all("categories" in r and "edits" in r for _, r in rows)
    assert rows[0][0].startswith("1. ") and len({label for label, _ in rows}) == len(rows)
    bad = tmp_path / "v.tsv"
    bad.write_text("# comment\nno tab here\n")
    with pytest.raises(SystemExit, match="v.tsv:2: want"):
        read_versions(bad)
    bad.write_text("x\tmodeling/checkpoints/nowhere.json\n")
    with pytest.raises(SystemExit, match="no file modeling/checkpoints/nowhere.json"):
        read_versions(bad)
