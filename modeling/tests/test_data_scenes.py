"""The scene engine: determinism, the held-out split, captions that say what the picture shows."""
import random
import re

import numpy as np
import pytest

from modeling.data import split as S
from modeling.data.assets import Assets
from modeling.data.captions import CELL_PHRASES, caption, plural
from modeling.data.dataset import make_scenes
from modeling.data.palette import CELLS, COLOUR_SYNONYMS
from modeling.data.scene import heldout_parts, render, sample_scene, scene_rng
from modeling.data.testing import NODE_MODULES, prepared_assets, prepared_folder

pytestmark = pytest.mark.skipif(not (NODE_MODULES / "emoji-datasource-google").exists(), reason="npm devDependencies not installed")


@pytest.fixture(scope="module")
def assets():
    return prepared_assets()


def test_prepared_folder_is_compact_and_complete(assets):
    folder = prepared_folder()
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total <= 20 * 1024 * 1024
    assert len(assets.objects) >= 100
    assert assets.rgba.shape[1:] == (64, 64, 4)
    # Every emoji has visible, non-empty pixels (a wrong file mapping would give blank sprites).
    assert (assets.rgba[..., 3].reshape(len(assets.objects), -1).max(axis=1) == 255).all()


def test_missing_asset_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="modeling.data.prepare"):
        Assets(tmp_path / "nowhere")


def test_same_seed_same_scenes_and_items_independent_of_batch(assets):
    folder = prepared_folder()
    a = make_scenes(60, seed=7, workers=1, folder=folder)
    b = make_scenes(60, seed=7, workers=1, folder=folder)
    assert np.array_equal(a.images, b.images) and a.captions == b.captions
    head = make_scenes(10, seed=7, workers=1, folder=folder)
    assert np.array_equal(head.images, a.images[:10]) and head.captions == a.captions[:10]
    other = make_scenes(60, seed=8, workers=1, folder=folder)
    assert other.captions != a.captions
    assert (a.images.reshape(60, -1) != other.images.reshape(60, -1)).any(axis=1).mean() > 0.9


def test_scene_batch_flags_the_scenes_that_show_a_sign(assets):
    folder = prepared_folder()
    batch = make_scenes(200, seed=5, workers=1, folder=folder)
    assert batch.signs.dtype == bool and batch.signs.shape == (200,)
    # the flag is the scene's own, so it agrees with the caption: every sign phrase quotes its word
    for has_sign, cap in zip(batch.signs, batch.captions):
        assert has_sign == ('"' in cap), cap
    assert 0.15 < batch.signs.mean() < 0.5  # the layouts' sign share (0.28) give or take a sample of 200
    two = make_scenes(200, seed=5, workers=2, folder=folder)
    assert np.array_equal(two.signs, batch.signs)


def test_multiprocess_matches_single_process(assets):
    folder = prepared_folder()
    one = make_scenes(300, seed=3, workers=1, folder=folder)
    two = make_scenes(300, seed=3, workers=2, folder=folder)
    assert np.array_equal(one.images, two.images) and one.captions == two.captions


def test_split_is_disjoint(assets):
    names = assets.names()
    assert not set(S.TRAIN_WORDS) & set(S.HELDOUT_WORDS)
    assert S.HELDOUT_OBJECTS <= set(names)
    for i in range(1500):
        scene = sample_scene(scene_rng(0, "train", i), names, "train")
        assert heldout_parts(scene) == [], scene
        assert all(g.obj not in S.HELDOUT_OBJECTS for g in scene.groups)
    for i in range(300):
        scene = sample_scene(scene_rng(0, "heldout", i), names, "heldout")
        parts = heldout_parts(scene)
        assert parts and not any(p.startswith("object:") for p in parts), scene
        if scene.sign is not None:
            assert scene.sign.word in S.HELDOUT_WORDS
    for i in range(100):
        scene = sample_scene(scene_rng(0, "novel", i), names, "novel")
        assert scene.groups[0].obj in S.HELDOUT_OBJECTS


def test_caption_corpus_never_names_held_out_material(assets):
    corpus = (prepared_folder() / "captions.txt").read_text()
    words = set(re.findall(r"[a-z][a-z-]*", corpus.lower()))
    quoted = set(re.findall(r'"([A-Z]+)"', corpus))
    heldout_names = set()
    for o in assets.objects:
        if o.name in S.HELDOUT_OBJECTS:
            heldout_names |= {o.name, *o.synonyms}
    single = {n for n in heldout_names if " " not in n}
    assert not single & words
    assert not quoted & set(S.HELDOUT_WORDS)
    # signs show training words or random strings (RANDOM_SIGN_SHARE), never containing a held-out word
    random_strings = quoted - set(S.TRAIN_WORDS)
    assert len(random_strings) > 20 and all(S.allowed_random_word(w) for w in random_strings)
    assert len(quoted & set(S.TRAIN_WORDS)) > 50


def test_random_sign_strings_fit_the_board_and_avoid_held_out_words(assets):
    from modeling.data.assets import _render_sign
    from modeling.data.scene import MAX_SIGN_TEXT_PX, random_sign_word
    rng = random.Random(7)
    words = [random_sign_word(rng) for _ in range(400)]
    assert len(set(words)) > 350 and {len(w) for w in words} == {2, 3, 4, 5, 6}
    font = assets.font_path
    for w in words:
        assert w.isupper() and S.allowed_random_word(w)
        rgb, _ = _render_sign(str(font), w)
        assert rgb.shape[1] <= MAX_SIGN_TEXT_PX + 7  # the text and its 3 px margins fit inside the 62 px board
    train = [sample_scene(scene_rng(0, "train", i), assets.names(), "train") for i in range(3000)]
    signs = [sc.sign.word for sc in train if sc.sign is not None]
    share = sum(w not in S.TRAIN_WORDS for w in signs) / len(signs)
    assert abs(share - S.RANDOM_SIGN_SHARE) < 0.08, share


def _nearest_cell(x: float, y: float) -> str:
    return min(CELLS, key=lambda c: (CELLS[c][0] - x) ** 2 + (CELLS[c][1] - y) ** 2)


def test_captions_say_what_the_picture_shows(assets):
    names = assets.names()
    syn = {o.name: o.synonyms for o in assets.objects}
    checked = 0
    for i in range(3000):
        rng = scene_rng(11, "train", i)
        scene = sample_scene(rng, names, "train")
        text = caption(scene, rng, syn)
        for c in scene.background.colours():
            assert any(w in text for w in COLOUR_SYNONYMS.get(c, (c,))), (text, scene)
        if scene.sign is not None:
            assert f'"{scene.sign.word}"' in text
        for g in scene.groups:
            assert any(n in text or plural(n) in text for n in (g.obj, *syn[g.obj])), (text, scene)
        if len(scene.groups) == 1 and scene.sign is None and scene.groups[0].count == 1 and scene.groups[0].tint is None:
            g = scene.groups[0]
            assert any(p in text for p in CELL_PHRASES[g.cell]), (text, g.cell)
            img, bg_share = render(scene, assets, with_coverage=True)
            ys, xs = np.nonzero(bg_share < 0.5)
            assert len(xs) > 20
            # The drawn object (the middle of its visible extent) sits in the cell the caption names.
            cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
            assert _nearest_cell(cx, cy) == g.cell, (text, cx, cy)
            checked += 1
        if scene.groups and scene.groups[0].count > 1:
            g = scene.groups[0]
            assert any(w in text.split() for w in ({2: ("two", "2"), 3: ("three", "3"), 4: ("four", "4")}[g.count])), text
    assert checked > 500


def test_render_draws_background_colours(assets):
    from modeling.data.palette import COLOURS
    from modeling.data.scene import Background, Scene
    flat = render(Scene(Background("blue")), assets)
    assert (flat.reshape(-1, 3) == COLOURS["blue"]).all()
    grad = render(Scene(Background("red", "yellow", "vertical")), assets).astype(int)
    assert tuple(grad[0, 5]) == COLOURS["red"] and tuple(grad[63, 40]) == COLOURS["yellow"]
    assert (grad[:, 0] == grad[:, 63]).all()  # vertical: constant along a row


def test_narrow_capitals_get_their_padding_and_nothing_else_moves(assets):
    """SIGN_NARROW_PAD widens only signs with an I or J, by the pad per narrow letter, and opens a blank gap
    around each narrow letter; pad 0 draws every word as before (the shipped model's signs)."""
    from modeling.data import assets as A
    from modeling.data.scene import random_sign_word
    font = str(assets.font_path)

    def ink_columns(rgb):
        return (rgb[2:-2, 1:-1].min(axis=(0, 2)) < 128)  # dark pixels inside the board's outline

    for word in ("TOWN", "CLOSED", "BAKE"):
        assert np.array_equal(A._render_sign(font, word, 0.0)[0], A._render_sign(font, word, 3.5)[0])
    for word, narrow in (("GIFT", 1), ("JOY", 1), ("DRINK", 1), ("IXIL", 2)):
        plain, padded = A._render_sign(font, word, 0.0)[0], A._render_sign(font, word, 4.0)[0]
        # a narrow letter inside the word adds the whole pad; at either end only the inner half shows
        grown = sum(4.0 if 0 < i < len(word) - 1 else 2.0 for i, c in enumerate(word) if c in "IJ")
        assert abs(padded.shape[1] - plain.shape[1] - grown) <= 1, word
        # the added width is blank: the blank columns between the first and last ink grow by the same
        def blank_inside(cols):
            idx = np.flatnonzero(cols)
            return (idx[-1] - idx[0] + 1) - len(idx)
        assert blank_inside(ink_columns(padded)) >= blank_inside(ink_columns(plain)) + grown - 1, word
    # The random strings keep fitting their board when padded (the fit check counts the pad).
    old = A.SIGN_NARROW_PAD
    try:
        A.SIGN_NARROW_PAD = 3.5
        rng = random.Random(3)
        for _ in range(400):
            w = random_sign_word(rng)
            assert A._render_sign(font, w, 3.5)[0].shape[1] <= 61, w
    finally:
        A.SIGN_NARROW_PAD = old
