"""Randomness and AR token sampling, exactly as docs/bundle-spec.md ("The generation algorithm") says.

Rng(seed, stream): xoshiro128** seeded by four splitmix32 outputs started at (seed ^ stream*0x9E3779B9) mod 2^32.
    next_u32(), uniform() in [0, 1) with 53 bits from two outputs, normal() (Box-Muller, cos branch, float32).
Stream 0: AR sampling uniforms; stream 1: initial latent noise. Item b of a batch uses seed + b.

process_logits / sample_token: image-code mask, temperature, top-k, softmax (float64), top-p, inverse-CDF draw.
"""

from __future__ import annotations

import math

import numpy as np

MASK32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9


def splitmix32(state: int) -> tuple[int, int]:
    """One splitmix32 step: returns (new_state, output)."""
    state = (state + GOLDEN) & MASK32
    z = state
    z = ((z ^ (z >> 16)) * 0x85EBCA6B) & MASK32
    z = ((z ^ (z >> 13)) * 0xC2B2AE35) & MASK32
    z = z ^ (z >> 16)
    return state, z


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & MASK32


class Rng:
    def __init__(self, seed: int, stream: int = 0):
        sm = (seed ^ (stream * GOLDEN)) & MASK32
        s = []
        for _ in range(4):
            sm, z = splitmix32(sm)
            s.append(z)
        self.s = s

    def next_u32(self) -> int:
        s = self.s
        result = (_rotl((s[1] * 5) & MASK32, 7) * 9) & MASK32
        t = (s[1] << 9) & MASK32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 11)
        return result

    def uniform(self) -> float:
        a = self.next_u32() >> 5
        b = self.next_u32() >> 6
        return (a * 67108864.0 + b) / 9007199254740992.0

    def normal(self) -> float:
        u1 = self.uniform()
        u2 = self.uniform()
        return float(np.float32(math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)))

    def normals(self, shape: tuple[int, ...]) -> np.ndarray:
        n = int(np.prod(shape))
        return np.array([self.normal() for _ in range(n)], dtype=np.float32).reshape(shape)


def latent_noise(seed: int, batch: int, shape: tuple[int, ...]) -> np.ndarray:
    """Initial diffusion noise [batch, *shape]: item b from Rng(seed + b, stream 1), C-order."""
    return np.stack([Rng(seed + b, 1).normals(shape) for b in range(batch)])


def process_logits(logits: np.ndarray, code_offset: int, codebook_size: int, temperature: float, top_k: int,
                   top_p: float) -> tuple[np.ndarray, np.ndarray]:
    """One item's logits [vocab] -> (token ids, probabilities) in sampling order (prob desc, id asc).

    Temperature must be > 0 here (temperature 0 is argmax, handled by sample_token).
    """
    x = np.asarray(logits, dtype=np.float64)[code_offset:code_offset + codebook_size] / temperature
    ids = np.arange(code_offset, code_offset + codebook_size)
    if 0 < top_k < codebook_size:
        order = np.lexsort((ids, -x))[:top_k]  # largest first, ties: lowest id
        x, ids = x[order], ids[order]
    e = np.exp(x - x.max())
    p = e / e.sum()
    order = np.lexsort((ids, -p))
    p, ids = p[order], ids[order]
    cum = np.cumsum(p)
    keep = int(np.searchsorted(cum, top_p, side="left")) + 1  # shortest prefix with cum >= top_p
    keep = max(1, min(keep, len(p)))
    p, ids = p[:keep], ids[:keep]
    return ids, p / p.sum()


def sample_token(logits: np.ndarray, u: float, code_offset: int, codebook_size: int, temperature: float,
                 top_k: int, top_p: float) -> int:
    """The token id for one item, given its logits and one uniform draw u in [0, 1)."""
    if temperature == 0:
        x = np.asarray(logits, dtype=np.float64)[code_offset:code_offset + codebook_size]
        return code_offset + int(np.argmax(x))  # argmax returns the first (lowest id) maximum
    ids, p = process_logits(logits, code_offset, codebook_size, temperature, top_k, top_p)
    cum = np.cumsum(p)
    idx = int(np.searchsorted(cum, u, side="right"))  # first with cum > u
    return int(ids[min(idx, len(ids) - 1)])
