"""Shifted flow-matching sigmas and the Euler/Heun updates."""

import numpy as np

from modeling.scheduler import cfg_combine, euler_step, heun_step, sigmas


def test_sigmas_run_from_noise_to_clean_and_shift_bends_them():
    s1 = sigmas(10, 1.0)
    assert s1[0] == 1.0 and s1[-1] == 0.0
    assert np.allclose(s1, np.linspace(1, 0, 11))
    s3 = sigmas(10, 3.0)
    assert s3[0] == 1.0 and s3[-1] == 0.0 and np.all(np.diff(s3) < 0)
    assert np.all(s3[1:-1] > s1[1:-1])  # shift > 1 spends more steps at high noise
    s = 0.3
    assert np.isclose(sigmas(10, 3.0)[7], 3 * s / (1 + 2 * s))


def test_euler_integrates_the_straight_flow_exactly():
    # For x_t = (1 - t) x0 + t n the velocity is n - x0 everywhere: Euler from pure noise lands on x0.
    g = np.random.default_rng(0)
    x0, n = g.normal(size=(2, 4, 8, 8)).astype(np.float32), g.normal(size=(2, 4, 8, 8)).astype(np.float32)
    sig = sigmas(7, 2.0)
    x = n.copy()
    for i in range(7):
        x = euler_step(x, n - x0, sig[i], sig[i + 1])
    assert np.abs(x - x0).max() < 1e-5
    y = n.copy()
    for i in range(7):
        y = heun_step(y, lambda _x, _s: n - x0, sig[i], sig[i + 1])
    assert np.abs(y - x0).max() < 1e-5


def test_cfg_combine():
    c, u = np.float32([1.0, 2.0]), np.float32([0.5, 2.0])
    assert cfg_combine(c, u, 1.0).tolist() == c.tolist()
    assert cfg_combine(c, u, 3.0).tolist() == [2.0, 2.0]
