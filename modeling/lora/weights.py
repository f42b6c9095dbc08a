"""Rebuild the PyTorch DiT from a bundle's dit.onnx, so LoRA graphs can be exported for any bundle.

A bundle carries ONNX graphs, not a PyTorch checkpoint. The TorchScript exporter keeps most parameter names
(`blocks.0.ada.weight`, `patch_embed.weight`, every bias) but stores a Linear's weight transposed under a
generated name (`onnx::MatMul_604`) as the second input of a MatMul whose output feeds an Add with the
linear's bias. We map those back by that MatMul → Add(bias) pattern, then check that the rebuilt module
reproduces the ONNX graph's output on random inputs (so a wrong mapping can never pass silently).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch

from ..config import ModelConfig
from ..dit import DiT
from ..half_storage import resolved_initializers


class WeightRecoveryError(RuntimeError):
    pass


def dit_from_onnx(path: str | Path, cfg: ModelConfig, check: bool = True) -> DiT:
    c, h, _ = cfg.latent_shape
    dit = DiT(cfg.dit, c, h, cfg.connector.out_dim)
    model = onnx.load(str(path))
    inits = resolved_initializers(model)  # weights stored as fp16 or transposed come back by their own names
    consumers: dict[str, list] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    found: dict[str, np.ndarray] = {}
    state = dit.state_dict()
    for key in state:
        if key in inits:
            found[key] = inits[key]
    for node in model.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            continue
        for add in consumers.get(node.output[0], []):
            if add.op_type != "Add":
                continue
            bias = next((n for n in add.input if n.endswith(".bias") and n in inits), None)
            if bias is not None:
                found[bias[: -len(".bias")] + ".weight"] = inits[node.input[1]].T
    missing = [k for k in state if k not in found]
    if missing:
        raise WeightRecoveryError(f"{path}: could not find these DiT weights in the graph: {missing[:5]}"
                                  f"{' …' if len(missing) > 5 else ''}; export with --checkpoint instead")
    for key, arr in found.items():
        if tuple(arr.shape) != tuple(state[key].shape):
            raise WeightRecoveryError(f"{path}: {key} has shape {arr.shape}, the config says {tuple(state[key].shape)}")
    dit.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32, copy=True)) for k, v in found.items()}, strict=False)
    dit.eval()
    if check:
        check_matches_onnx(dit, path, cfg)
    return dit


def check_matches_onnx(dit: DiT, path: str | Path, cfg: ModelConfig, tol: float = 1e-4) -> float:
    import onnxruntime as ort

    g = torch.Generator().manual_seed(0)
    c, h, w = cfg.latent_shape
    feeds = {"latents": torch.randn(2, c, h, w, generator=g), "timestep": torch.rand(2, generator=g),
             "cond": torch.randn(2, cfg.cond_length, cfg.connector.out_dim, generator=g),
             "ref_latents": torch.randn(2, c, h, w, generator=g)}
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    want = sess.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
    with torch.no_grad():
        got = dit(*feeds.values()).numpy()
    err = float(np.abs(got - want).max())
    if err > tol:
        raise WeightRecoveryError(f"{path}: the DiT rebuilt from the graph's weights differs from the graph by {err:.2e}")
    return err
