"""The PyTorch twin of the TS LoRA trainer: its committed run (the TS test's reference) is current, its draws
follow src-main/trainer/draws.ts's scheme, and training lowers the loss."""

import json

import numpy as np

from modeling.config import ModelConfig
from modeling.lora import twin
from modeling.lora.network import LoraDiT, freeze
from modeling.lora.weights import dit_from_onnx

from .conftest import FIXTURES, REPO

COMMITTED = REPO / "tests" / "unit" / "trainer" / "fixtures" / "twin-curve.json"
BUNDLE = FIXTURES / "bundle-fixture"


def test_committed_twin_run_is_current():
    meta = json.loads((BUNDLE / "bundle.json").read_text())
    cfg = ModelConfig.from_dict(meta["config"])
    ref = json.loads(COMMITTED.read_text())
    x0, cond = twin.synthetic_data(cfg, ref["data"]["count"])
    np.testing.assert_array_equal(x0.ravel(), np.array(ref["data"]["x0"], np.float32))
    lora_dit = LoraDiT(freeze(dit_from_onnx(BUNDLE / "dit.onnx", cfg)))
    got = twin.train(lora_dit, x0, cond, ref["settings"])
    np.testing.assert_allclose(got["losses"], ref["losses"], rtol=1e-5)
    assert got["losses"][-1] < got["losses"][0]  # it learns
    np.testing.assert_allclose(got["final_first"], ref["final_first"], atol=1e-6)


def test_draw_scheme():
    # Every epoch visits every item once; batches walk across epoch boundaries.
    seen = [twin.batch_items(3, step, 2, 5) for step in range(5)]
    flat = [i for b in seen for i in b]
    assert sorted(flat[:5]) == list(range(5)) and sorted(flat[5:10]) == list(range(5))
    # Draws depend only on (seed, step): the same step twice gives the same numbers.
    a = twin.step_draws(3, 4, 2, 8, 0.5)
    b = twin.step_draws(3, 4, 2, 8, 0.5)
    assert [(x[0], x[1]) for x in a] == [(x[0], x[1]) for x in b]
    assert all(0 < x[0] < 1 for x in a)
    assert twin.learning_rate(0, 10, 1.0, 2, "cosine") == 0.5
    assert twin.learning_rate(2, 10, 1.0, 2, "cosine") == 1.0
    assert abs(twin.learning_rate(9, 10, 1.0, 2, "cosine") - 0.5 * (1 + np.cos(np.pi * 7 / 8))) < 1e-12
