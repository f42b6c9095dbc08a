"""Each component's training loss goes down over a few optimiser steps on the tiny config."""

import pytest
import torch

from modeling.config import fixture
from modeling.model import AtelierModel
from modeling.prompting import training_example
from modeling.text_tokenizer import FIXTURE_CAPTIONS, train_tokenizer

STEPS = 25


def images(n=8, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 2, 2, generator=g) * 2 - 1
    return torch.nn.functional.interpolate(low, size=(size, size), mode="nearest")


def run(loss_fn, params, lr=3e-3):
    torch.manual_seed(0)
    opt = torch.optim.AdamW(params, lr=lr)
    losses = []
    for _ in range(STEPS):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < 0.8 * first, f"loss {first:.4f} -> {last:.4f}"
    return losses


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return AtelierModel(fixture()).train()


def test_vae_loss_decreases(model):
    x = images(n=4, size=16)  # the conv stacks take any size divisible by their downsampling; small is fast
    run(lambda: model.vae.loss(x), model.vae.parameters())


def test_image_tokenizer_loss_decreases(model):
    x = images(n=4, size=16)
    run(lambda: model.image_tokenizer.loss(x), model.image_tokenizer.parameters())


def test_ar_code_loss_decreases(model):
    cfg = model.cfg
    tok = train_tokenizer(FIXTURE_CAPTIONS, cfg.text.vocab_size)
    g = torch.Generator().manual_seed(1)
    rows = [training_example(tok, cfg, FIXTURE_CAPTIONS[i], torch.randint(0, cfg.codebook_size, (cfg.code_count,),
                                                                          generator=g).tolist()) for i in range(4)]
    n = max(len(r[0]) for r in rows)
    ids = torch.tensor([[0] * (n - len(i)) + i for i, _ in rows])  # left padding, as at inference
    labels = torch.tensor([[-100] * (n - len(lab)) + lab for _, lab in rows])
    mask = (torch.arange(n)[None] >= torch.tensor([n - len(i) for i, _ in rows])[:, None]).long()
    assert (labels != -100).sum() == 4 * cfg.code_count
    run(lambda: model.ar.loss(ids, labels, mask), model.ar.parameters())


def test_dit_flow_matching_loss_decreases_through_the_connector(model):
    cfg = model.cfg
    g = torch.Generator().manual_seed(2)
    c, h, w = cfg.latent_shape
    x0 = torch.randn(8, c, h, w, generator=g) * 0.5 + torch.linspace(-1, 1, c)[None, :, None, None]
    hidden = torch.randn(8, cfg.cond_length, cfg.ar.hidden_size, generator=g)
    t = torch.rand(8, generator=g)
    noise = torch.randn(x0.shape, generator=g)
    params = list(model.dit.parameters()) + list(model.connector.parameters())
    run(lambda: model.dit.loss(x0, model.connector(hidden), t=t, noise=noise, cond_drop_prob=0.1), params)


def test_training_example_labels_line_up_with_generation(model):
    from modeling.prompting import build_prompt_ids

    cfg = model.cfg
    tok = train_tokenizer(FIXTURE_CAPTIONS, cfg.text.vocab_size)
    codes = list(range(cfg.code_count))
    ids, labels = training_example(tok, cfg, "a cat", codes)
    prompt, _ = build_prompt_ids(tok, cfg, "a cat")
    assert ids[: len(prompt)] == prompt and prompt[-1] == 3  # ends with <|img_start|>
    # position j predicts ids[j + 1] wherever that is a code
    for j, lab in enumerate(labels):
        if lab != -100:
            assert lab == ids[j + 1] and lab >= cfg.image_code_offset
    assert labels[len(prompt) - 1] == cfg.image_code_offset + codes[0]
