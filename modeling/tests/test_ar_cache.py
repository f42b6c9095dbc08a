"""The KV-cache decode path equals a full forward without a cache."""

import torch

from modeling.export import random_fixture_model
from modeling.config import fixture


def test_20_step_cached_decode_matches_full_forward(fixture_model):
    model, _ = fixture_model
    ar = model.ar
    g = torch.Generator().manual_seed(3)
    prompt = torch.randint(0, ar.vocab_total, (2, 6), generator=g)
    mask = torch.ones(2, 6, dtype=torch.int64)
    mask[1, :2] = 0  # item 1 is left-padded
    steps = 20
    with torch.no_grad():
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        pk, pv = ar.empty_cache(2)
        logits, hidden, pk, pv = ar(prompt, mask, pos, pk, pv)
        seq = prompt
        full_mask = mask
        cached_logits, cached_hidden = [logits[:, -1]], [hidden[:, -1]]
        for _ in range(steps):
            nxt = cached_logits[-1].argmax(-1, keepdim=True)  # greedy, so the sequence depends on the logits
            seq = torch.cat([seq, nxt], dim=1)
            full_mask = torch.cat([full_mask, torch.ones(2, 1, dtype=torch.int64)], dim=1)
            pos = pos[:, -1:] + 1
            logits, hidden, pk, pv = ar(nxt, full_mask, pos, pk, pv)
            cached_logits.append(logits[:, -1])
            cached_hidden.append(hidden[:, -1])
        assert pk[0].shape[2] == 6 + steps
        full_logits, full_hidden = ar.forward_full(seq, full_mask)
    cl = torch.stack(cached_logits, 1)
    ch = torch.stack(cached_hidden, 1)
    assert torch.allclose(cl, full_logits[:, 5:], atol=1e-5), (cl - full_logits[:, 5:]).abs().max()
    assert torch.allclose(ch, full_hidden[:, 5:], atol=1e-5)
    assert len(set(seq[0, 6:].tolist())) > 1  # the decode actually varied


def test_left_padding_does_not_change_results(fixture_model):
    model, _ = fixture_model
    ar = model.ar
    ids = torch.randint(0, ar.vocab_total, (1, 5), generator=torch.Generator().manual_seed(4))
    padded = torch.cat([torch.zeros(1, 3, dtype=torch.int64), ids], dim=1)
    mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1]])
    with torch.no_grad():
        a, ha = ar.forward_full(ids)
        b, hb = ar.forward_full(padded, mask)
    assert torch.allclose(a, b[:, 3:], atol=1e-5)
    assert torch.allclose(ha, hb[:, 3:], atol=1e-5)
