"""Flow-matching sampler: shifted sigmas and the Euler (optionally Heun) update, as in docs/bundle-spec.md.

sigmas: s_i = 1 - i/steps for i = 0..steps, shifted sigma = shift*s / (1 + (shift-1)*s); sigma_0 = 1 (noise),
sigma_steps = 0 (clean). Update: x <- x + (sigma_{i+1} - sigma_i) * v(x, sigma_i).
"""

from __future__ import annotations

import numpy as np


def sigmas(steps: int, shift: float) -> np.ndarray:
    s = 1.0 - np.arange(steps + 1, dtype=np.float64) / steps
    return shift * s / (1.0 + (shift - 1.0) * s)  # float64; the DiT's timestep input is float32(sigma_i)


# Element-wise arithmetic is done in float64 and stored as float32 (what JavaScript's
# Math.fround(a + b * c) over Float32Arrays does), so the engine can match it closely.
def cfg_combine(v_cond: np.ndarray, v_uncond: np.ndarray, cfg_scale: float) -> np.ndarray:
    vu = v_uncond.astype(np.float64)
    return (vu + cfg_scale * (v_cond.astype(np.float64) - vu)).astype(np.float32)


def euler_step(x: np.ndarray, v: np.ndarray, sigma: float, sigma_next: float) -> np.ndarray:
    return (x.astype(np.float64) + (float(sigma_next) - float(sigma)) * v.astype(np.float64)).astype(np.float32)


def heun_step(x, velocity_fn, sigma: float, sigma_next: float):
    """Heun's second-order step (not used by the engine; offered for quality comparisons)."""
    v1 = velocity_fn(x, sigma)
    x_e = euler_step(x, v1, sigma, sigma_next)
    if sigma_next == 0:
        return x_e
    v2 = velocity_fn(x_e, sigma_next)
    v = (v1.astype(np.float64) + v2.astype(np.float64)) * 0.5
    return (x.astype(np.float64) + (float(sigma_next) - float(sigma)) * v).astype(np.float32)
