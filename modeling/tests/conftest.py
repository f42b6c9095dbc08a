import os
from pathlib import Path

import pytest
import torch

# One thread: on the shared 2-core machine, multi-threaded small ops spin and run ~10x slower.
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="session")
def fixture_model():
    from modeling.config import fixture
    from modeling.export import random_fixture_model

    return random_fixture_model(fixture(), seed=0)


@pytest.fixture(scope="session")
def exported_bundle(fixture_model, tmp_path_factory):
    """The fixture model exported fresh by this test run (not the committed copy)."""
    from modeling.export import export_bundle

    model, tokenizer = fixture_model
    out = tmp_path_factory.mktemp("bundle")
    meta = export_bundle(model, tokenizer, out, log=lambda s: None)
    return out, meta
