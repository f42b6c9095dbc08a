"""Two ways to run the seven graphs with numpy arrays in and out: PyTorch modules or the ONNX bundle.

generate.py's algorithm runs on either, so the bundle can be checked end to end against PyTorch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .export import EDIT_GENERATOR_ROLES, ROLES, graph_io, graph_modules


class TorchBackend:
    """`edit_model`: a second model whose AR, connector and DiT edits use (a bundle's edit generator); it must
    share this model's tokenizer and autoencoders."""

    def __init__(self, model, edit_model=None):
        self.model = model.eval()
        self.cfg = model.cfg
        self.modules = graph_modules(model)
        self.io = graph_io(self.cfg)
        self.edit_model = edit_model

    def for_edits(self) -> "TorchBackend":
        return self if self.edit_model is None else TorchBackend(self.edit_model)

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
        graphs = self.bundle.meta["graphs"]
        self.sessions = {
            role: ort.InferenceSession(str(self.bundle.graph_path(role)), opts, providers=["CPUExecutionProvider"])
            for role in ROLES + tuple(r for r in EDIT_GENERATOR_ROLES.values() if r in graphs)
        }
        self._roles = {r: r for r in ROLES}

    @property
    def has_edit_generator(self) -> bool:
        return all(r in self.sessions for r in EDIT_GENERATOR_ROLES.values())

    def for_edits(self) -> "OnnxBackend":
        """The backend edits run on: with an edit generator, a view whose ar / connector / dit are its graphs."""
        if not self.has_edit_generator:
            return self
        view = object.__new__(OnnxBackend)
        view.__dict__.update(self.__dict__)
        view._roles = {**self._roles, **EDIT_GENERATOR_ROLES}
        return view

    def run(self, role: str, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        sess = self.sessions[self._roles.get(role, role)]
        out = sess.run(None, {i.name: np.ascontiguousarray(inputs[i.name]) for i in sess.get_inputs()})
        return {o.name: v for o, v in zip(sess.get_outputs(), out)}
