"""The OCR reward: the reference's formula, and the PP-OCR reader on the scene engine's own signs."""
import numpy as np
import pytest

from modeling.rl.ocr import edit_distance, ocr_dir, ocr_target, text_reward


def test_target_is_the_quoted_text_lowercased_without_spaces():
    assert ocr_target('a sign that says "OPEN"') == "open"
    assert ocr_target('the word "Hot Tea" on a sign below a cat') == "hottea"
    assert ocr_target("a cat on a red background") is None


def test_edit_distance():
    assert edit_distance("open", "open") == 0
    assert edit_distance("opem", "open") == 1  # one substitution
    assert edit_distance("opn", "open") == 1  # one deletion
    assert edit_distance("", "open") == 4
    assert edit_distance("kitten", "sitting") == 3


def test_reward_formula():
    assert text_reward("open", "open") == 1.0
    assert text_reward("xxOPENyy", "open") == 1.0  # a substring counts as read
    assert text_reward("O PEN", "open") == 1.0  # case and spaces are normalised
    assert text_reward("opem", "open") == pytest.approx(0.75)
    assert text_reward("op", "open") == pytest.approx(0.5)
    assert text_reward("", "open") == 0.0
    assert text_reward("qwertyuiopzxcv", "open") == 0.0  # distance clamped at len: never negative
    with pytest.raises(ValueError):
        text_reward("open", "")


needs_model = pytest.mark.skipif(not (ocr_dir() / "rec.onnx").exists(),
                                 reason="OCR model not prepared: python -m modeling.rl.ocr prepare")


@needs_model
def test_reader_reads_true_signs_and_not_blank_images():
    from modeling.rl.ocr import OcrReward, accuracy_on_truth
    acc = accuracy_on_truth(12, seed=3)
    assert acc["n"] == 12
    assert acc["exact_match"] >= 0.9, acc["misses"]
    reward = OcrReward()
    grey = np.full((2, 64, 64, 3), 128, np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    grey[1] = noise
    r = reward(grey, ['a sign that says "OPEN"', 'a sign reading "CAFE"'])
    assert max(r) < 0.5, r
    assert reward(grey[:1], ["a cat"]) == [None]  # no quoted text: no OCR reward


@needs_model
def test_scene_reward_in_worker_processes_matches_in_process():
    """The device's path (composition scoring in spawned workers while the OCR reads in this process) gives the
    rewards of the in-process path, and true renders of sign prompts score high on both parts."""
    from modeling.data.scene import render
    from modeling.rl.grpo import SceneReward, ScenePrompts
    stream = ScenePrompts(seed=5, split="heldout", sign_fraction=0.5)
    items = stream.take(6)
    assert any(it.scene.sign is not None for it in items) and any(it.scene.sign is None for it in items)
    images = np.stack([render(it.scene, stream.assets) for it in items])
    local = SceneReward(1.0, 1.0, workers=1)
    spread = SceneReward(1.0, 1.0, workers=2)
    try:
        r1, m1 = local(items, None, images)
        r2, m2 = spread(items, None, images)
    finally:
        if spread.pool is not None:
            spread.pool.shutdown()
    assert spread.pool is not None
    np.testing.assert_allclose(r1, r2)
    assert m1 == m2
    assert m1["ocr"] >= 0.9 and m1["composition"] >= 0.9, m1
