"""Store float32 weights that are exactly half-precision values as float16, read back through a Cast.

The shipped weights come from an fp16 checkpoint (model-fp16.safetensors): every large float32 tensor of an
exported graph holds fp16 values widened to 32 bits, so half of each file is zero bits. Here such a tensor `W`
is stored as float16 under `W__f16` and a Cast node at the head of the graph gives the original name back
as float32; nothing after it changes. The check is exact (the fp16 round trip must give every element back),
so a tensor with any other value — a weight of an fp32 model, a constant the exporter folded — stays float32
and the graph computes the same numbers bit for bit. onnxruntime folds Cast-of-initializer at session
creation, so the runtime holds and multiplies float32 as before; only the files shrink.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MIN_ELEMENTS = 256  # small tensors stay as they are: a Cast node would cost more than it saves
SUFFIX = "__f16"


def exactly_half(arr: np.ndarray) -> bool:
    """True when every element of the float32 array survives float16 and back (finite values only)."""
    if arr.dtype != np.float32 or not np.all(np.isfinite(arr)):
        return False
    with np.errstate(over="ignore"):
        return bool(np.array_equal(arr.astype(np.float16).astype(np.float32), arr))


def cast_node(stored: str, name: str) -> onnx.NodeProto:
    """The node that turns the float16 tensor `stored` into the float32 tensor `name`."""
    return helper.make_node("Cast", [stored], [name], to=TensorProto.FLOAT, name=name + "__cast")


def store_half(model: onnx.ModelProto, min_elements: int = MIN_ELEMENTS) -> dict:
    """Rewrite the inline float32 initializers of `model` that are exactly fp16 as fp16 + Cast, in place.
    Returns counts and the bytes saved."""
    graph = model.graph
    inputs = {i.name for i in graph.input}
    casts, stats = [], {"tensors": 0, "bytes_saved": 0}
    for init in graph.initializer:
        if (init.data_type != TensorProto.FLOAT or init.data_location == TensorProto.EXTERNAL
                or init.name in inputs or int(np.prod(init.dims)) < min_elements):
            continue
        arr = numpy_helper.to_array(init)
        if not exactly_half(arr):
            continue
        name = init.name
        init.CopyFrom(numpy_helper.from_array(arr.astype(np.float16), name + SUFFIX))
        casts.append(cast_node(name + SUFFIX, name))
        stats["tensors"] += 1
        stats["bytes_saved"] += arr.size * 2
    if casts:
        nodes = casts + list(graph.node)
        del graph.node[:]
        graph.node.extend(nodes)
    return stats


def resolved_initializers(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Every initializer by name, plus the float32 tensors the graph makes from them with a Cast or a 2-D
    Transpose (the forms this file and modeling/lora/shared_weights.py write), as numpy arrays."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if not node.input or node.input[0] not in inits:
            continue
        src = inits[node.input[0]]
        if node.op_type == "Cast":
            to = next(a.i for a in node.attribute if a.name == "to")
            if to == TensorProto.FLOAT:
                inits[node.output[0]] = src.astype(np.float32)
        elif node.op_type == "Transpose" and src.ndim == 2:
            perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), [1, 0])
            if perm == [1, 0]:
                inits[node.output[0]] = src.T
    return inits
