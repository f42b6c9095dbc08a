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


def assert_same_onnx(fresh_path: Path, shared_path: Path) -> None:
    """The same ONNX graph: nodes and initialisers (external data read back) exactly, constants the exporter
    computed with torch to the last bit or two."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    fresh, shared = onnx.load(str(fresh_path)), onnx.load(str(shared_path))

    def split(graph):
        """Nodes with their tensor constants taken out (serialised), and those constants as arrays: a constant the
        exporter computed with torch (the timestep table) may differ in the last bit between CPUs (AVX-512 or not)."""
        nodes, consts = [], []
        for n in graph.node:
            n = onnx.NodeProto.FromString(n.SerializeToString())
            for at in n.attribute:
                if at.type == onnx.AttributeProto.TENSOR:
                    consts.append(numpy_helper.to_array(at.t))
                    at.t.Clear()
            nodes.append(n.SerializeToString())
        return nodes, consts

    (nodes_a, consts_a), (nodes_b, consts_b) = split(fresh.graph), split(shared.graph)
    assert nodes_a == nodes_b
    assert len(consts_a) == len(consts_b)
    for x, y in zip(consts_a, consts_b):
        assert x.shape == y.shape and x.dtype == y.dtype and np.allclose(x, y, rtol=1e-6, atol=1e-7)
    want = {i.name: numpy_helper.to_array(i) for i in fresh.graph.initializer}
    got = {i.name: numpy_helper.to_array(i) for i in shared.graph.initializer}
    assert want.keys() == got.keys()
    for name, arr in want.items():
        assert np.array_equal(arr, got[name]), name
