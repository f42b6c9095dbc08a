"""Store the frozen DiT weights of the LoRA graphs once, in one external-data file both graphs point into.

Each exported graph embeds the whole DiT as constants, and the gradient graph embeds many of them twice
(W for the forward and Wᵀ for the backward). Measured on the fixture: dit_lora 550 kB + dit_train_lora
1,141 kB, where the DiT itself is ~500 kB. Here every large float tensor is written once to
`dit_lora.weights` (ONNX external data: location/offset/length), identical tensors share one range, and a
tensor that is the transpose of a stored one becomes a Transpose node over it, and a tensor of exact fp16 values
is stored as fp16 behind a Cast (modeling/half_storage.py). The bundle's plain dit.onnx is
passed first (modeling/lora/export.py), so the whole DiT is stored once for all three graphs. onnxruntime
resolves the location relative to the model file, so the graphs must be opened from their path (not from a
buffer).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..half_storage import SUFFIX, cast_node, exactly_half

MIN_ELEMENTS = 256  # small tensors stay inline; the bookkeeping would cost more than it saves
ALIGN = 64


def _key(arr: np.ndarray) -> str:
    return f"{arr.shape}:{hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()}"


def _point(init: onnx.TensorProto, location: str, offset: int, length: int) -> None:
    init.ClearField("raw_data")
    init.ClearField("float_data")
    init.ClearField("int32_data")  # where float16 may sit when not in raw_data
    del init.external_data[:]
    init.data_location = onnx.TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        e = init.external_data.add()
        e.key, e.value = k, v


def share_weights(models: list[onnx.ModelProto], weights_path: Path, location: str | None = None) -> dict:
    """Rewrite `models` in place to read their large float initializers from one file; write it to
    `weights_path`. The models name it `location` (default: weights_path's name), relative to their folder.
    Initializers already pointing at external data must have been loaded (onnx.load does by default).
    A tensor whose values are exactly fp16 is stored as fp16 and read through a Cast (modeling/half_storage.py),
    whether it came as float16 (an earlier export) or as float32."""
    store: dict[str, tuple[int, int]] = {}
    blob = bytearray()
    stats = {"tensors": 0, "shared": 0, "transposed": 0, "half": 0}
    location = location or weights_path.name
    for model in models:
        heads = []  # Transpose and Cast nodes that give the graph its tensors back, put before every other node
        for init in model.graph.initializer:
            if (init.data_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)
                    or int(np.prod(init.dims)) < MIN_ELEMENTS):
                continue
            arr = numpy_helper.to_array(init)
            values = arr.astype(np.float32)
            half = init.data_type == onnx.TensorProto.FLOAT16 or exactly_half(values)
            stats["tensors"] += 1
            stats["half"] += half
            name = init.name
            # the name the stored tensor goes by in this graph: a float32 tensor stored as fp16 gets a Cast back
            typed = name + SUFFIX if half and init.data_type == onnx.TensorProto.FLOAT else name
            cast = cast_node(typed, name) if typed != name else None
            init.data_type = onnx.TensorProto.FLOAT16 if half else onnx.TensorProto.FLOAT
            key = _key(values)
            key_t = _key(values.T) if values.ndim == 2 else None
            if key not in store and key_t in store:
                # Keep the stored orientation under a new name; a Transpose node makes the graph's tensor.
                stats["transposed"] += 1
                init.name = name + "__stored_transposed"
                del init.dims[:]
                init.dims.extend([values.shape[1], values.shape[0]])
                _point(init, location, *store[key_t])
                heads.append(helper.make_node("Transpose", [init.name], [typed], perm=[1, 0], name=name + "__transpose"))
                heads += [cast] if cast is not None else []
                continue
            init.name = typed
            heads += [cast] if cast is not None else []
            if key in store:
                stats["shared"] += 1
                _point(init, location, *store[key])
                continue
            while len(blob) % ALIGN:
                blob.append(0)
            data = np.ascontiguousarray(values, dtype="<f2" if half else "<f4").tobytes()
            store[key] = (len(blob), len(data))
            blob.extend(data)
            _point(init, location, *store[key])
        if heads:
            nodes = heads + list(model.graph.node)
            del model.graph.node[:]
            model.graph.node.extend(nodes)
    weights_path.write_bytes(bytes(blob))
    stats["bytes"] = len(blob)
    return stats
