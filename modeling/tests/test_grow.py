"""Growing the AR deeper (modeling/train/grow.py) keeps what it computes exactly, and training moves the new blocks."""

import pytest
import torch

from modeling.train.grow import expansion_plan, grow_ar_depth, new_block_count


def test_expansion_plan_spreads_the_new_blocks():
    assert expansion_plan(2, 4) == [(0, False), (0, True), (1, False), (1, True)]
    assert expansion_plan(6, 8) == [(0, False), (1, False), (2, False), (2, True), (3, False), (4, False), (5, False), (5, True)]
    assert [p for p in expansion_plan(3, 9) if not p[1]] == [(0, False), (1, False), (2, False)]
    assert len(expansion_plan(3, 9)) == 9
    with pytest.raises(ValueError, match="needs more than that"):
        expansion_plan(6, 6)


def test_grown_ar_computes_the_same_and_then_learns(fixture_model):
    model, _ = fixture_model
    grown = grow_ar_depth(model, 2 * model.cfg.ar.layers)
    assert grown.cfg.ar.layers == 2 * model.cfg.ar.layers and model.cfg.ar.layers == len(model.ar.blocks)  # the original is untouched
    assert new_block_count(grown) == model.cfg.ar.layers and new_block_count(model) == 0
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.cfg.vocab_total, (3, 11), generator=g)
    mask = torch.ones_like(ids)
    mask[0, :4] = 0  # left padding, as sampling batches have
    with torch.no_grad():
        want_logits, want_hidden = model.ar.forward_full(ids, mask)
        got_logits, got_hidden = grown.ar.forward_full(ids, mask)
    assert torch.equal(got_logits, want_logits) and torch.equal(got_hidden, want_hidden)  # bit for bit
    # the rest of the model is the checkpoint's
    for key, value in model.state_dict().items():
        if not key.startswith("ar.blocks."):
            assert torch.equal(grown.state_dict()[key], value), key
    # one optimiser step on the AR loss makes the identity blocks real blocks
    grown.train()
    opt = torch.optim.SGD(grown.ar.parameters(), lr=0.1)
    labels = torch.randint(0, model.cfg.vocab_total, ids.shape, generator=g)
    grown.ar.loss(ids, labels).backward()
    opt.step()
    assert new_block_count(grown) == 0
