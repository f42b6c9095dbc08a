"""Edit pairs: each kind changes only its region, the instruction says what changed."""
import numpy as np
import pytest

from modeling.data.edits import EDIT_KINDS, edit_mask, sample_edit
from modeling.data.scene import heldout_parts, render, scene_rng
from modeling.data.testing import NODE_MODULES, prepared_assets

pytestmark = pytest.mark.skipif(not (NODE_MODULES / "emoji-datasource-google").exists(), reason="npm devDependencies not installed")


@pytest.fixture(scope="module")
def assets():
    return prepared_assets()


@pytest.mark.parametrize("kind", EDIT_KINDS)
def test_edit_changes_only_its_region(assets, kind):
    names = assets.names()
    syn = {o.name: o.synonyms for o in assets.objects}
    for i in range(120):
        pair = sample_edit(scene_rng(5, "train", i, "edit-test"), names, "train", kind=kind, synonyms=syn)
        assert pair.kind == kind
        src, tgt = render(pair.source, assets), render(pair.target, assets)
        mask = edit_mask(pair, assets)
        outside = ~mask
        assert np.array_equal(src[outside], tgt[outside]), (kind, pair.instruction)
        if kind == "keep":
            assert np.array_equal(src, tgt) and not mask.any()
        else:
            assert mask.any() and not np.array_equal(src, tgt), (kind, pair.instruction)
            # The region is tight: most of the image stays fixed (the background edit excepted).
            if kind != "background":
                assert mask.mean() <= 0.5, (kind, mask.mean())
        assert heldout_parts(pair.source) == [] and heldout_parts(pair.target) == []


def test_instructions_name_the_change(assets):
    names = assets.names()
    for i in range(100):
        pair = sample_edit(scene_rng(9, "train", i, "edit-test"), names, "train", kind="text")
        assert f'"{pair.target.sign.word}"' in pair.instruction
        pair = sample_edit(scene_rng(9, "train", i, "edit-test"), names, "train", kind="replace")
        (old,) = [g for g in pair.source.groups if g not in pair.target.groups]
        assert old.obj in pair.instruction or old.count > 1


def test_edits_are_deterministic(assets):
    names = assets.names()
    a = [sample_edit(scene_rng(1, "train", i, "e"), names) for i in range(50)]
    b = [sample_edit(scene_rng(1, "train", i, "e"), names) for i in range(50)]
    assert a == b
    assert {p.kind for p in a} == set(EDIT_KINDS)
