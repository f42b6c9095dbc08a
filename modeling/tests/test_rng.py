"""Rng and sampler against independent implementations written here from docs/bundle-spec.md."""

import math

import numpy as np
import pytest

from modeling.sampling import Rng, latent_noise, process_logits, sample_token

U32 = np.uint32


def spec_rng_u32(seed: int, stream: int, n: int) -> list[int]:
    """splitmix32 + xoshiro128** with numpy uint32 wrap-around arithmetic (a second code path)."""
    with np.errstate(over="ignore"):
        s = U32((seed ^ (stream * 0x9E3779B9)) & 0xFFFFFFFF)
        state = []
        for _ in range(4):
            s = U32(s + U32(0x9E3779B9))
            z = s
            z = U32(U32(z ^ (z >> U32(16))) * U32(0x85EBCA6B))
            z = U32(U32(z ^ (z >> U32(13))) * U32(0xC2B2AE35))
            z = U32(z ^ (z >> U32(16)))
            state.append(z)
        s0, s1, s2, s3 = state
        rotl = lambda x, k: U32((x << U32(k)) | (x >> U32(32 - k)))  # noqa: E731
        out = []
        for _ in range(n):
            out.append(int(U32(rotl(U32(s1 * U32(5)), 7) * U32(9))))
            t = U32(s1 << U32(9))
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = rotl(s3, 11)
        return out


@pytest.mark.parametrize("seed,stream", [(0, 0), (0, 1), (1, 0), (42, 1), (2**32 - 1, 0), (123456789, 3)])
def test_rng_u32_matches_independent_implementation(seed, stream):
    r = Rng(seed, stream)
    assert [r.next_u32() for _ in range(64)] == spec_rng_u32(seed, stream, 64)


def test_first_splitmix_word_by_hand():
    # splitmix32 from state 0: s = 0x9E3779B9; the first state word is its murmur3 finaliser, done by hand.
    z = 0x9E3779B9
    z = ((z ^ (z >> 16)) * 0x85EBCA6B) % 2**32
    z = ((z ^ (z >> 13)) * 0xC2B2AE35) % 2**32
    z ^= z >> 16
    assert Rng(0, 0).s[0] == z


def test_uniform_and_normal_follow_the_formulas():
    words = spec_rng_u32(7, 0, 8)
    r = Rng(7, 0)
    for i in range(2):
        a, b = words[2 * i], words[2 * i + 1]
        assert r.uniform() == ((a >> 5) * 2.0**26 + (b >> 6)) / 2.0**53
    r = Rng(9, 1)
    w = spec_rng_u32(9, 1, 4)
    u1 = ((w[0] >> 5) * 2.0**26 + (w[1] >> 6)) / 2.0**53
    u2 = ((w[2] >> 5) * 2.0**26 + (w[3] >> 6)) / 2.0**53
    assert r.normal() == float(np.float32(math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2)))


def test_distribution_properties_and_stream_independence():
    r = Rng(1, 0)
    u = np.array([r.uniform() for _ in range(20000)])
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    n = latent_noise(5, 2, (4, 16, 16))
    assert n.dtype == np.float32 and n.shape == (2, 4, 16, 16)
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    assert not np.array_equal(n[0], n[1])
    assert np.array_equal(n[1], latent_noise(6, 1, (4, 16, 16))[0])  # item b uses seed + b
    assert spec_rng_u32(3, 0, 4) != spec_rng_u32(3, 1, 4)


def brute_force_sample(logits, u, offset, book, temperature, top_k, top_p):
    """The spec's steps written plainly, with Python floats and sorted()."""
    cand = [(logits[offset + c] / temperature, offset + c) for c in range(book)]
    cand.sort(key=lambda x: (-x[0], x[1]))
    if top_k > 0:
        cand = cand[:top_k]
    m = max(v for v, _ in cand)
    z = sum(math.exp(v - m) for v, _ in cand)
    probs = sorted(((math.exp(v - m) / z, i) for v, i in cand), key=lambda x: (-x[0], x[1]))
    kept, cum = [], 0.0
    for p, i in probs:
        kept.append((p, i))
        cum += p
        if cum >= top_p:
            break
    total = sum(p for p, _ in kept)
    cum = 0.0
    for p, i in kept:
        cum += p / total
        if cum > u:
            return i
    return kept[-1][1]


def test_sampler_matches_brute_force():
    g = np.random.default_rng(0)
    offset, book = 10, 40
    for trial in range(300):
        logits = g.normal(size=offset + book) * g.uniform(0.2, 4)
        if trial % 5 == 0:
            logits[offset + 3] = logits[offset + 7]  # a tie
        t = float(g.choice([0.5, 1.0, 1.7]))
        k = int(g.choice([0, 1, 5, 40]))
        p = float(g.choice([1.0, 0.9, 0.5]))
        u = float(g.uniform())
        assert sample_token(logits, u, offset, book, t, k, p) == brute_force_sample(logits, u, offset, book, t, k, p)


def test_sampler_semantics():
    offset, book = 2, 5
    logits = np.array([100.0, 100.0, 1.0, 3.0, 2.0, 3.0, 0.0])  # text ids 0,1 must never be sampled
    ids, p = process_logits(logits, offset, book, 1.0, 0, 1.0)
    assert ids.tolist() == [3, 5, 4, 2, 6]  # prob desc, ties by id asc
    assert abs(p.sum() - 1) < 1e-12
    ids, _ = process_logits(logits, offset, book, 1.0, 2, 1.0)
    assert ids.tolist() == [3, 5]
    ids, _ = process_logits(logits, offset, book, 1.0, 0, 1e-9)
    assert ids.tolist() == [3]  # at least one token survives top-p
    assert sample_token(logits, 0.99, offset, book, 0.0, 0, 1.0) == 3  # argmax, lowest id on ties
    assert sample_token(logits, 0.0, offset, book, 1.0, 2, 1.0) == 3
    assert sample_token(logits, 0.51, offset, book, 1.0, 2, 1.0) == 5
