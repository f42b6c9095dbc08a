"""Two ways to run the seven graphs with numpy arrays in and out: PyTorch modules or the ONNX bundle.

generate.py's algorithm runs on either, so the bundle can be checked end to end against PyTorch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .export import ROLES, graph_io, graph_modules


class TorchBackend:
    def __init__(self, model):
        self.model = model.eval()
        self.cfg = model.cfg
        self.modules = graph_modules(model)
        self.io = graph_io(self.cfg)

    def run(self, role: str, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        names = [s["name"] for s in self.io[role]["inputs"]]
        dev = next(self.model.parameters()).device  # numpy in and out; the model may sit on a GPU (RL)
        args = [torch.from_numpy(np.ascontiguousarray(inputs[n])).to(dev) for n in names]
        with torch.no_grad():
            out = self.modules[role](*args)
        if isinstance(out, torch.Tensor):
            out = (out,)
        return {s["name"]: o.cpu().numpy() for s, o in zip(self.io[role]["outputs"], out)}


class OnnxBackend:
    def __init__(self, bundle_dir: str | Path, threads: int = 2):
        import onnxruntime as ort

        from .bundle import load_bundle

        self.bundle = load_bundle(bundle_dir)
        from .config import ModelConfig

        self.cfg = ModelConfig.from_dict(self.bundle.meta["config"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.sessions = {
            role: ort.InferenceSession(str(self.bundle.graph_path(role)), opts, providers=["CPUExecutionProvider"])
            for role in ROLES
        }

    def run(self, role: str, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        sess = self.sessions[role]
        out = sess.run(None, {i.name: np.ascontiguousarray(inputs[i.name]) for i in sess.get_inputs()})
        return {o.name: v for o, v in zip(sess.get_outputs(), out)}
