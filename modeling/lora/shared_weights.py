"""Store the frozen DiT weights of the LoRA graphs once, in one external-data file both graphs point into.

Each exported graph embeds the whole DiT as constants, and the gradient graph embeds many of them twice
(W for the forward and Wᵀ for the backward). Measured on the fixture: dit_lora 550 kB + dit_train_lora
1,141 kB, where the DiT itself is ~500 kB. Here every large float tensor is written once to
`dit_lora.weights` (ONNX external data: location/offset/length), identical tensors share one range, and a
tensor that is the transpose of a stored one becomes a Transpose node over it. The bundle's plain dit.onnx is
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

MIN_ELEMENTS = 256  # small tensors stay inline; the bookkeeping would cost more than it saves
ALIGN = 64


def _key(arr: np.ndarray) -> str:
    return f"{arr.shape}:{hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()}"


def _point(init: onnx.TensorProto, location: str, offset: int, length: int) -> None:
    init.ClearField("raw_data")
    init.ClearField("float_data")
    del init.external_data[:]
    init.data_location = onnx.TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        e = init.external_data.add()
        e.key, e.value = k, v


def share_weights(models: list[onnx.ModelProto], weights_path: Path, location: str | None = None) -> dict:
    """Rewrite `models` in place to read their large float initializers from one file; write it to
    `weights_path`. The models name it `location` (default: weights_path's name), relative to their folder.
    Initializers already pointing at external data must have been loaded (onnx.load does by default)."""
    store: dict[str, tuple[int, int]] = {}
    blob = bytearray()
    stats = {"tensors": 0, "shared": 0, "transposed": 0}
    location = location or weights_path.name
    for model in models:
        transposes = []
        for init in model.graph.initializer:
            if init.data_type != onnx.TensorProto.FLOAT or int(np.prod(init.dims)) < MIN_ELEMENTS:
                continue
            arr = numpy_helper.to_array(init)
            stats["tensors"] += 1
            key = _key(arr)
            if key in store:
                stats["shared"] += 1
                _point(init, location, *store[key])
                continue
            if arr.ndim == 2:
                key_t = _key(arr.T)
                if key_t in store:
                    # Keep the stored orientation under a new name; a Transpose node makes the original name.
                    stats["transposed"] += 1
                    name = init.name
                    init.name = name + "__stored_transposed"
                    del init.dims[:]
                    init.dims.extend([arr.shape[1], arr.shape[0]])
                    _point(init, location, *store[key_t])
                    transposes.append(helper.make_node("Transpose", [init.name], [name], perm=[1, 0],
                                                       name=name + "__transpose"))
                    continue
            while len(blob) % ALIGN:
                blob.append(0)
            data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
            store[key] = (len(blob), len(data))
            blob.extend(data)
            _point(init, location, *store[key])
        if transposes:
            nodes = transposes + list(model.graph.node)
            del model.graph.node[:]
            model.graph.node.extend(nodes)
    weights_path.write_bytes(bytes(blob))
    stats["bytes"] = len(blob)
    return stats
