"""GRPO on the AR: the sampler's processors, group advantages, the zero-gradient case, and that it learns."""
import copy

import numpy as np
import pytest
import torch

from modeling.rl.grpo import GRPO, GRPOConfig, PromptItem, group_advantages, process_logits, rollout
from modeling.sampling import process_logits as spec_process_logits
from modeling.train.sequences import PromptBuilder

PROMPTS = ["a cat on a red background", "a sign that says OPEN"]


def test_process_logits_keeps_what_the_spec_sampler_keeps():
    g = torch.Generator().manual_seed(0)
    offset, size = 7, 50
    for temperature, top_k, top_p in ((1.0, 0, 1.0), (0.8, 10, 1.0), (1.0, 0, 0.9), (1.3, 20, 0.8)):
        logits = torch.randn(6, 80, generator=g) * 2
        x, keep = process_logits(logits, offset, size, temperature, top_k, top_p)
        p = torch.softmax(x.double(), -1)
        for b in range(6):
            ids, probs = spec_process_logits(logits[b].numpy(), offset, size, temperature, top_k, top_p)
            assert sorted((ids - offset).tolist()) == torch.nonzero(keep[b])[:, 0].tolist()
            np.testing.assert_allclose(p[b, ids - offset].numpy(), probs, rtol=1e-5, atol=1e-7)


def test_advantages_normalise_within_each_group():
    r = torch.tensor([0.0, 1.0, 0.0, 1.0, 10.0, 30.0, 20.0, 20.0, 0.5, 0.5, 0.5, 0.5])
    a = group_advantages(r, 4).reshape(3, 4)
    assert torch.allclose(a.mean(1), torch.zeros(3), atol=1e-6)
    assert torch.allclose(a[0], torch.tensor([-1.0, 1.0, -1.0, 1.0]), atol=1e-3)  # scale-free per group
    assert torch.allclose(a[1], torch.tensor([-1.4142, 1.4142, 0.0, 0.0]), atol=1e-3)
    assert torch.equal(a[2], torch.zeros(4))  # equal rewards: no signal


class CodeReward:
    """Synthetic reward: the fraction of an image's codes equal to one chosen code (no pixels needed)."""
    needs_pixels = False

    def __init__(self, code: int, constant: float | None = None):
        self.code, self.constant = code, constant

    def __call__(self, items, codes, images):
        r = (codes == self.code).float().mean(1).numpy().astype(np.float64)
        if self.constant is not None:
            r = np.full_like(r, self.constant)
        return r, {}


def _trainer(fixture_model, reward, **kw):
    model, tok = fixture_model
    model = copy.deepcopy(model)
    cfg = GRPOConfig(prompts_per_step=2, group_size=8, **kw)
    cycle = [PromptItem(p) for p in PROMPTS]
    return GRPO(model, PromptBuilder(model.cfg, tok), cfg, reward, lambda n: cycle[:n])


def test_equal_rewards_give_zero_gradient(fixture_model):
    t = _trainer(fixture_model, CodeReward(0, constant=0.7), lr=1e-2)
    before = [p.detach().clone() for p in t.params]
    row = t.step()
    assert row["grad_norm"] == 0.0
    assert all(torch.equal(a, b) for a, b in zip(before, t.params))


def _mean_reward(t, code, n=64, seed=123):
    items = [PromptItem(PROMPTS[i % 2]) for i in range(n)]
    roll = rollout(t.model, t.builder, items, torch.Generator().manual_seed(seed))
    return float((roll.codes == code).float().mean())


def test_grpo_raises_a_synthetic_reward(fixture_model):
    torch.manual_seed(0)
    probe = _trainer(fixture_model, CodeReward(0))
    roll = rollout(probe.model, probe.builder, [PromptItem(p) for p in PROMPTS * 32], torch.Generator().manual_seed(1))
    counts = torch.bincount(roll.codes.reshape(-1), minlength=probe.model.cfg.codebook_size)
    code = int(torch.argsort(counts, descending=True)[5])  # sampled, but not the favourite
    t = _trainer(fixture_model, CodeReward(code), lr=3e-3)
    start = _mean_reward(t, code)
    rewards = [t.step()["reward"] for _ in range(25)]
    end = _mean_reward(t, code)
    assert end > start + 0.1 and end > 2 * start, (start, end)
    assert np.mean(rewards[-5:]) > np.mean(rewards[:5])
    # the reference stays the starting model: the KL term is now positive
    assert t.history[-1]["kl"] > 0


@pytest.mark.parametrize("scale,edit", [(2.0, False), (3.0, False), (2.0, True)])
def test_guided_rollouts_sample_and_score_what_the_engine_samples(fixture_model, scale, edit):
    """With the AR guided (the engine's text-to-image default is 2), a rollout draws from uncond + s·(cond − uncond)
    with the empty prompt as the twin, as modeling/generate.sample_codes does, and code_logprobs scores the codes
    under that same guided policy. With top_k 1 every draw is the guided argmax, so the engine's codes must equal
    the rollout's, and each code must be the argmax of the guided log-probs the update uses. An edit's twin keeps
    the reference codes."""
    import dataclasses

    from modeling.backends import TorchBackend
    from modeling.generate import Draws, Params, sample_codes
    from modeling.prompting import build_prompt_ids
    from modeling.rl.grpo import code_logprobs
    from modeling.text_tokenizer import special_token_ids
    model, tok = fixture_model
    cfg = dataclasses.replace(model.cfg, sampling=dataclasses.replace(model.cfg.sampling, top_k=1))
    model = copy.deepcopy(model)
    model.cfg = cfg
    builder = PromptBuilder(cfg, tok)
    refs = [np.random.default_rng(i).integers(0, cfg.codebook_size, cfg.code_count) if edit else None
            for i in range(len(PROMPTS))]
    items = [PromptItem(p, ref_codes=r) for p, r in zip(PROMPTS, refs)]
    guided = rollout(model, builder, items, torch.Generator().manual_seed(0), guidance=scale)
    plain = rollout(model, builder, items, torch.Generator().manual_seed(0))
    assert not torch.equal(guided.codes, plain.codes)  # guidance changes what is drawn on this model

    backend = TorchBackend(model)
    params = dataclasses.replace(Params.defaults(cfg), ar_cfg_scale=scale)
    ref_lists = [None if r is None else r.tolist() for r in refs]
    ids = [build_prompt_ids(tok, cfg, p, r)[0] for p, r in zip(PROMPTS, ref_lists)]
    uncond = [build_prompt_ids(tok, cfg, "", r)[0] for r in ref_lists]
    draws = Draws.seeded(0, len(PROMPTS), cfg.latent_shape)
    engine = sample_codes(backend, cfg, ids, draws, params, special_token_ids(tok)["pad"], uncond)
    np.testing.assert_array_equal(guided.codes.numpy(), engine["codes"])
    np.testing.assert_allclose(guided.hidden.numpy(), engine["hidden"], atol=1e-4)

    with torch.no_grad():
        logp = code_logprobs(model.ar, guided, cfg, 1.0)
        full = torch.log_softmax(_guided_logits(model, guided, scale), -1)
    assert torch.equal(full.argmax(-1), guided.codes)
    torch.testing.assert_close(logp, full.gather(-1, guided.codes[..., None])[..., 0], atol=1e-5, rtol=0)


def _guided_logits(model, roll, scale):
    """The guided code logits at every position, one prefix at a time and without padding (an independent path)."""
    cfg, out = model.cfg, []
    lo, hi = cfg.image_code_offset, cfg.image_code_offset + cfg.codebook_size
    for i in range(roll.codes.shape[0]):
        rows = []
        for ids, mask in ((roll.ids[i], roll.mask[i]), (roll.uncond_ids[i], roll.uncond_mask[i])):
            seq = torch.cat([ids[mask.bool()], roll.codes[i] + lo])[None]
            logits, _ = model.ar.forward_full(seq, torch.ones_like(seq))
            rows.append(logits[0, -(roll.codes.shape[1] + 1):-1, lo:hi].float())
        out.append(rows[1] + scale * (rows[0] - rows[1]))
    return torch.stack(out)


def test_rl_run_summary_carries_the_checkpoints_run_and_the_rl_stage(tmp_path):
    """An RL run on a committed checkpoint writes summary.json: the summary of the run that made the checkpoint with
    the RL stage added, so the exported bundle's provenance names both."""
    import json
    from modeling.rl.grpo import RL_SUMMARY_KEYS, run_summary
    report = {k: i for i, k in enumerate(RL_SUMMARY_KEYS)} | {"config": {"lr": 1e-5}}
    ckpt = tmp_path / "ckpt" / "model-fp16.safetensors"
    ckpt.parent.mkdir()
    alone = run_summary(ckpt, report)  # no summary beside the checkpoint
    assert alone["init"] == str(ckpt) and alone["rl"]["from"] == str(ckpt)
    assert set(alone["rl"]) == set(RL_SUMMARY_KEYS) | {"from"}
    (ckpt.parent / "summary.json").write_text(json.dumps({"preset": "gpu", "init": "older", "stages": {"edit": {}}}))
    s = run_summary(ckpt, report)
    assert (s["preset"], s["init"], s["stages"]) == ("gpu", "older", {"edit": {}})
    assert s["rl"]["steps"] == report["steps"] and "config" not in s["rl"]
    # RL on an RL'd checkpoint: the earlier stage stays on record before the new one
    (ckpt.parent / "summary.json").write_text(json.dumps(s))
    again = run_summary(ckpt, report | {"steps": 99})
    assert again["rl"]["steps"] == 99 and again["rl_earlier"] == [s["rl"]]


def test_command_line_flags_go_over_the_preset():
    from modeling.rl.grpo import parse_args
    _, cfg = parse_args(["--checkpoint", "c.safetensors", "--out", "o", "--preset", "cpu"])
    assert (cfg.prompts_per_step, cfg.group_size, cfg.beta_kl, cfg.lr) == (8, 8, 0.02, 5e-6)
    _, cfg = parse_args(["--checkpoint", "c.safetensors", "--out", "o", "--preset", "cpu", "--seconds", "60",
                         "--prompts-per-step", "2", "--beta-kl", "0.001", "--lr", "1e-5"])
    assert (cfg.seconds, cfg.prompts_per_step, cfg.group_size, cfg.beta_kl, cfg.lr) == (60.0, 2, 8, 0.001, 1e-5)
    assert (cfg.seed, cfg.sign_fraction) == (0, 0.5)
    _, cfg = parse_args(["--checkpoint", "c.safetensors", "--out", "o", "--seed", "3", "--sign-fraction", "0.6"])
    assert (cfg.seed, cfg.sign_fraction) == (3, 0.6)
    assert cfg.narrow_sign_fraction == 0.0
    _, cfg = parse_args(["--checkpoint", "c.safetensors", "--out", "o", "--narrow-sign-fraction", "0.5"])
    assert cfg.narrow_sign_fraction == 0.5
    assert cfg.edit_reward == "mean"
    _, cfg = parse_args(["--checkpoint", "c.safetensors", "--out", "o", "--edit-reward", "product"])
    assert cfg.edit_reward == "product"
    assert cfg.ar_guidance is True  # rollouts sample as the engine does unless told otherwise
    args, cfg = parse_args(["--checkpoint", "c.safetensors", "--out", "o", "--no-ar-guidance", "--ar-cfg-scale", "2"])
    assert cfg.ar_guidance is False and args.ar_cfg_scale == 2.0 and args.edit_ar_cfg_scale is None


def test_sampling_like_gives_a_checkpoint_the_bundles_sampling(fixture_model, tmp_path):
    """A training checkpoint's config can lack what its bundle sets at export (AR guidance, edit temperature,
    keep-unchanged); --sampling-like reads them from bundle.json, so rollouts sample as the engine will."""
    import dataclasses
    import json

    from modeling.rl.grpo import GRPO, sampling_like
    model, tok = fixture_model
    cfg = copy.deepcopy(model.cfg)
    assert cfg.sampling.cfg_scale == 1.0 and cfg.sampling.edit_temperature is None
    want = dataclasses.asdict(cfg)
    want["sampling"].update(cfg_scale=2.0, edit_cfg_scale=1.5, edit_keep_unchanged=True, edit_temperature=0.5)
    want["scheduler"].update(cfg_scale=4.0)
    (tmp_path / "bundle.json").write_text(json.dumps({"config": want}))
    sampling_like(cfg, tmp_path)
    assert (cfg.sampling.cfg_scale, cfg.sampling.edit_cfg_scale, cfg.sampling.edit_keep_unchanged,
            cfg.sampling.edit_temperature, cfg.scheduler.cfg_scale) == (2.0, 1.5, True, 0.5, 4.0)
    m = copy.deepcopy(model)
    m.cfg = cfg
    t = GRPO(m, PromptBuilder(cfg, tok), GRPOConfig(), CodeReward(0), lambda n: [])
    assert t.edit_temperature == 0.5


def test_narrow_sign_fraction_draws_words_with_an_i_or_j():
    from modeling.data.assets import NARROW_CAPITALS
    from modeling.rl.grpo import ScenePrompts

    def narrow_share(items):
        words = [it.scene.sign.word for it in items]
        assert all(f'"{w}"' in it.prompt for w, it in zip(words, items))  # the caption asks for the drawn word
        return sum(any(c in NARROW_CAPITALS for c in w) for w in words) / len(words)

    plain = narrow_share(ScenePrompts(4, "train", 1.0).take(40))
    assert 0.0 < plain < 0.6, plain
    assert narrow_share(ScenePrompts(4, "train", 1.0, narrow_sign_fraction=1.0).take(40)) == 1.0
    mixed = ScenePrompts(4, "train", 0.5, narrow_sign_fraction=1.0).take(40)
    signs = [it for it in mixed if it.scene.sign is not None]
    assert 0 < len(signs) < 40 and narrow_share(signs) == 1.0  # prompts without a sign are still drawn


# ---------------------------------------------------------------- edit steps

@pytest.fixture(scope="module")
def nano_random():
    """A random model of the nano's shape: the data engine's scenes are 64 px, the fixture model's 32."""
    import dataclasses

    from modeling.config import nano
    from modeling.export import random_fixture_model
    cfg = nano()
    cfg = dataclasses.replace(cfg, scheduler=dataclasses.replace(cfg.scheduler, steps=2))
    return random_fixture_model(cfg, seed=0)


def test_edit_prompts_encode_the_source_as_the_engine_does(nano_random):
    from modeling.backends import TorchBackend
    from modeling.generate import encode_reference
    from modeling.rl.grpo import EditPrompts
    model, _ = nano_random
    stream = EditPrompts(model, seed=3, split="train")
    a, b = stream.take(3), stream.take(3)
    assert [it.prompt for it in a] != [it.prompt for it in b]  # the stream moves on
    again = EditPrompts(model, seed=3, split="train").take(3)
    assert [it.prompt for it in a] == [it.prompt for it in again]  # and is seeded
    it = a[0]
    assert it.prompt == it.pair.instruction and it.source.shape == (64, 64, 3)
    enc = encode_reference(TorchBackend(model), model.cfg, it.source.transpose(2, 0, 1)[None].copy())
    assert np.array_equal(it.ref_codes, enc["ref_codes"][0]) and np.allclose(it.ref_latents, enc["ref_latents"][0], atol=1e-5)


def test_edit_reward_scores_the_true_target_high_and_the_untouched_source_low(nano_random):
    from modeling.data.scene import render as render_scene
    from modeling.rl.grpo import EditPrompts, EditReward
    model, _ = nano_random
    stream = EditPrompts(model, seed=0, split="train")
    items = [it for it in stream.take(24) if it.pair.kind in ("recolour", "remove", "background", "move")][:6]
    assert items
    reward = EditReward()
    targets = np.stack([render_scene(it.pair.target, reward.assets) for it in items])
    r_target, parts = reward(items, None, targets)
    assert np.allclose(r_target, 1.0) and parts["success"] == 1.0
    r_source, _ = reward(items, None, np.stack([it.source for it in items]))
    # the source is preserved everywhere (preserved = 1) but the edit is not done
    assert np.allclose(r_source, 0.5), r_source
    # the product pays only for an edit both done and kept: the target still 1, the untouched source nothing
    product = EditReward(assets=reward.assets, combine="product")
    assert np.allclose(product(items, None, targets)[0], 1.0)
    assert np.allclose(product(items, None, np.stack([it.source for it in items]))[0], 0.0)
    with pytest.raises(ValueError, match="combine"):
        EditReward(assets=reward.assets, combine="sum")


def test_render_edits_keeps_the_source_where_the_ar_kept_every_code(nano_random):
    from modeling.rl.grpo import EditPrompts, Rollout, render_edits
    model, _ = nano_random
    items = EditPrompts(model, seed=1, split="train").take(2)
    codes = torch.as_tensor(np.stack([it.ref_codes for it in items]), dtype=torch.long)
    hidden = torch.randn(2, model.cfg.code_count + 1, model.cfg.ar.hidden_size)
    roll = Rollout(items, torch.zeros(2, 1, dtype=torch.long), torch.ones(2, 1, dtype=torch.long), codes, hidden)
    out = render_edits(model, roll, torch.Generator().manual_seed(0))
    assert np.array_equal(out, np.stack([it.source for it in items]))  # keep-unchanged: every cell kept
    codes[:, :8] = (codes[:, :8] + 1) % model.cfg.codebook_size  # the first row of cells regenerated
    out = render_edits(model, Rollout(items, roll.ids, roll.mask, codes, hidden), torch.Generator().manual_seed(0))
    cell = 64 // model.cfg.code_grid[0]
    assert np.array_equal(out[:, cell:], np.stack([it.source for it in items])[:, cell:])
    assert not np.array_equal(out[:, :cell], np.stack([it.source for it in items])[:, :cell])


def test_edit_steps_roll_out_on_the_edit_template_at_the_edit_temperature(nano_random):
    from modeling.rl.grpo import EditPrompts, EditReward
    from modeling.train.sequences import PromptBuilder
    model, tok = nano_random
    model = copy.deepcopy(model)
    cfg = GRPOConfig(prompts_per_step=2, group_size=2, edit_fraction=1.0, lr=1e-4)
    stream = EditPrompts(model, seed=0, split="train")
    seen = []
    take = lambda n: seen.append(stream.take(n)) or seen[-1]
    t = GRPO(model, PromptBuilder(model.cfg, tok), cfg, CodeReward(0), lambda n: [], take, EditReward())
    assert t.edit_temperature == model.cfg.sampling.edit_temperature == 0.5
    row = t.step()
    assert row["task"] == "edit" and 0.0 <= row["reward"] <= 1.0
    assert {"reward_done", "reward_preserved", "reward_success"} <= set(row)
    assert len(seen) == 1 and len(seen[0]) == 2
    with pytest.raises(ValueError, match="edit_prompts"):
        GRPO(model, PromptBuilder(model.cfg, tok), cfg, CodeReward(0), lambda n: [])
