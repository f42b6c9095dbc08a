"""modeling.train.dit_alone: the weighted flow loss, the AR's resampled codes, and a DiT-only step."""
import copy

import numpy as np
import pytest
import torch

from modeling.data.dataset import make_scenes
from modeling.data.testing import NODE_MODULES, prepared_folder
from modeling.train import dit_alone
from modeling.train.sequences import PromptBuilder

PROMPTS = ["a cat on a red background", "a sign that says OPEN", "two apples", ""]


def _codes(cfg, n, seed=0):
    return np.random.default_rng(seed).integers(0, cfg.codebook_size, (n, cfg.code_count))


def test_weighted_flow_loss_counts_cells_by_weight(fixture_model):
    model, _ = fixture_model
    dit, cfg = model.dit, model.cfg
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn((3, *cfg.latent_shape), generator=g)
    cond = torch.randn(3, cfg.cond_length, cfg.connector.out_dim, generator=g)
    t, noise = torch.rand(3, generator=g), torch.randn(x0.shape, generator=g)
    kw = dict(cond_drop_prob=0.0, t=t, noise=noise)
    with torch.no_grad():
        plain = dit.loss(x0, cond, **kw)
        assert torch.allclose(dit.loss(x0, cond, weight=torch.full((3, 1, *x0.shape[-2:]), 3.0), **kw), 3 * plain)
        # one cell counted, the rest not: the squared error of that cell, averaged over everything
        w = torch.zeros(3, 1, *x0.shape[-2:])
        w[1, 0, 2, 3] = 1.0
        tt = t[:, None, None, None]
        err = (dit((1 - tt) * x0 + tt * noise, t, cond, torch.zeros_like(x0)) - (noise - x0)) ** 2
        assert torch.allclose(dit.loss(x0, cond, weight=w, **kw), err[1, :, 2, 3].sum() / err.numel())
        assert not torch.allclose(dit.loss(x0, cond, weight=w, **kw), plain)


def test_resampled_codes_follow_the_guided_distribution_given_the_true_prefix(fixture_model):
    model, tok = fixture_model
    cfg = model.cfg
    builder = PromptBuilder(cfg, tok)
    prompts = builder.prompt_ids_batch(PROMPTS)
    codes = _codes(cfg, len(PROMPTS))
    logits, cond = dit_alone.teacher_forced(model, builder, prompts, codes)
    assert logits.shape[:2] == (len(PROMPTS), cfg.code_count) and cond.shape[1] == cfg.cond_length
    uncond, _ = dit_alone.teacher_forced(model, builder, [[]] * len(PROMPTS), codes)
    off, book = cfg.image_code_offset, cfg.codebook_size
    for scale in (1.0, 3.0):
        greedy = dict(cfg_scale=scale, temperature=1.0, top_k=1, top_p=1.0)
        rs = dit_alone.resample_codes(model, builder, prompts, codes, greedy, torch.Generator().manual_seed(0))
        want = (uncond + scale * (logits - uncond))[..., off:off + book].argmax(-1).numpy()
        np.testing.assert_array_equal(rs, want)
    # sampled: in the codebook, seeded, and some codes differ from the greedy choice on this random model
    full = dict(cfg_scale=2.0, temperature=1.0, top_k=0, top_p=1.0)
    a = dit_alone.resample_codes(model, builder, prompts, codes, full, torch.Generator().manual_seed(1))
    b = dit_alone.resample_codes(model, builder, prompts, codes, full, torch.Generator().manual_seed(1))
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0 and a.max() < book and (a != rs).any()
    # the conditions of a pool, in batches, are the rows' teacher-forced conditions
    pool = dit_alone.conditions(model, builder, prompts, codes, batch=3)
    assert pool.dtype == torch.float16
    torch.testing.assert_close(pool.float(), cond.half().float())


def test_training_moves_the_dit_only(fixture_model):
    model, tok = fixture_model
    model = copy.deepcopy(model)
    cfg = model.cfg
    before = {k: v.clone() for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(0)
    latents = torch.randn((8, *cfg.latent_shape), generator=g)
    cond = torch.randn(8, cfg.cond_length, cfg.connector.out_dim, generator=g)
    weight = torch.ones(8, 1, *cfg.latent_shape[-2:])
    lines = []
    steps = dit_alone.train(model, latents, lambda: torch.randint(0, 8, (4,)), lambda idx: cond[idx], 1e9, 1e-3,
                            weight, log=lines.append, max_steps=3)
    assert steps == 3
    after = model.state_dict()
    moved = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    assert moved == {"dit"}
    assert not model.dit.training and not any(p.requires_grad for p in model.parameters())


@pytest.mark.skipif(not (NODE_MODULES / "emoji-datasource-google").exists(), reason="npm devDependencies not installed")
def test_cell_weights_mark_each_scenes_sign_and_objects():
    folder = prepared_folder()
    sc = make_scenes(40, seed=5, workers=1, folder=folder)
    assert 0 < sc.signs.sum() < 40
    w = dit_alone.cell_weights(40, 5, sc.signs, letter_weight=4.0, folder=folder)
    assert w.shape == (40, 1, 16, 16) and w.min() == 1.0
    assert (w.amax((1, 2, 3)) == 5.0).tolist() == sc.signs.tolist()  # only sign rows, and only their sign's cells
    both = dit_alone.cell_weights(40, 5, sc.signs, letter_weight=4.0, object_weight=2.0, folder=folder)
    plain = ~sc.signs
    assert (both[plain].amax((1, 2, 3)) == 3.0).all()  # every scene has an object
    assert torch.equal(both[plain] > 1, both[plain] == 3.0)
    with pytest.raises(ValueError, match="not the one"):
        dit_alone.cell_weights(40, 6, sc.signs, letter_weight=4.0, folder=folder)
