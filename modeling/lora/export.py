"""Add the LoRA graphs to a bundle (docs/bundle-spec.md, "Optional LoRA graphs").

    python -m modeling.lora.export --bundle DIR [--checkpoint ckpt.safetensors] [--batch 1] [--max-rank 16]

- `dit_train_lora.onnx`: (lora_down_i, lora_up_i for every target at rank max_rank, lora_scale, x0, noise,
  timestep, cond, ref_latents) → (loss, grad_down_i, grad_up_i). Fixed batch. The gradient is traced with
  torch.func.grad_and_value + make_fx under the core-ATen decompositions, so the ONNX graph is an ordinary
  forward graph that onnxruntime (node) can run; the optimizer lives in the TypeScript trainer.
- `dit_lora.onnx`: the `dit` graph plus (lora_down_i [lora_rank, in], lora_up_i [out, lora_rank]) with a
  dynamic rank; the caller folds each LoRA's weight into its up matrix and concatenates several LoRAs
  along the rank. Switching LoRAs or weights is a new input, never a new session.

Exporters (measured 2026-11-26, torch 2.11): the gradient graph needs the dynamo exporter (the TorchScript
exporter has no symbolic for aten::_softmax / the backward ops); it imports with onnxscript 0.7.2 (0.5.7
lacks `_framework_apis.torch_2_11`). The inference graph uses the TorchScript exporter like modeling/export.py
(dynamic batch and rank axes, same weights layout as dit.onnx).

Without --checkpoint the DiT is rebuilt from the bundle's own dit.onnx (modeling/lora/weights.py) and checked
against it, so any bundle can get LoRA graphs.

The plain `dit.onnx` is rewritten too: its large initializers move into `dit_lora.weights` beside the LoRA
graphs' (same bytes, so the same ranges), so the DiT weights are stored once. Measured on atelier-nano
(2026-11-26): the LoRA graphs cost +17.8 MB when dit.onnx kept its own copy, +1.0 MB this way. dit.onnx then
reads external data: open it from its path. Running the export again on such a bundle is fine (dit.onnx is
loaded with its external data before the weights file is rewritten).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
import warnings
from pathlib import Path

import onnx
import torch

from ..config import ModelConfig
from ..bundle import sha256_file
from ..export import OPSET, declare_spec_io, dynamic_axes
from .network import LoraDiT, Target, freeze, lora_targets
from .shared_weights import share_weights
from .weights import dit_from_onnx

TRAIN_ROLE = "dit_train_lora"
INFER_ROLE = "dit_lora"
WEIGHTS_FILE = "dit_lora.weights"  # the frozen DiT weights both LoRA graphs read (external data)


def _t(name, dtype, shape):
    return {"name": name, "dtype": dtype, "shape": list(shape)}


def lora_io(cfg: ModelConfig, targets: list[Target], batch: int, max_rank: int) -> dict:
    c, h, w = cfg.latent_shape
    n_cond, d = cfg.cond_length, cfg.connector.out_dim
    pairs_dyn, pairs_fixed, grads = [], [], []
    for t in targets:
        pairs_dyn += [_t(f"lora_down_{t.index}", "float32", ["lora_rank", t.in_features]),
                      _t(f"lora_up_{t.index}", "float32", [t.out_features, "lora_rank"])]
        pairs_fixed += [_t(f"lora_down_{t.index}", "float32", [max_rank, t.in_features]),
                        _t(f"lora_up_{t.index}", "float32", [t.out_features, max_rank])]
        grads += [_t(f"grad_down_{t.index}", "float32", [max_rank, t.in_features]),
                  _t(f"grad_up_{t.index}", "float32", [t.out_features, max_rank])]
    lat = ["batch", c, h, w]
    blat = [batch, c, h, w]
    return {
        INFER_ROLE: {
            "inputs": [_t("latents", "float32", lat), _t("timestep", "float32", ["batch"]),
                       _t("cond", "float32", ["batch", "n_cond", d]), _t("ref_latents", "float32", lat)] + pairs_dyn,
            "outputs": [_t("velocity", "float32", lat)],
        },
        TRAIN_ROLE: {
            "inputs": pairs_fixed + [_t("lora_scale", "float32", [1]), _t("x0", "float32", blat),
                                     _t("noise", "float32", blat), _t("timestep", "float32", [batch]),
                                     _t("cond", "float32", [batch, n_cond, d]), _t("ref_latents", "float32", blat)],
            "outputs": [_t("loss", "float32", [])] + grads,
        },
    }


def lora_meta(targets: list[Target], batch: int, max_rank: int) -> dict:
    """The bundle.json `lora` object: targets (in input order) and the training graph's fixed sizes."""
    return {"network": "lora", "targets": [{"index": t.index, "key": t.key, "module": t.module,
                                            "in": t.in_features, "out": t.out_features} for t in targets],
            "train": {"batch": batch, "max_rank": max_rank}}


def example_pairs(targets: list[Target], rank: int, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for t in targets:
        out += [torch.randn(rank, t.in_features, generator=g) / t.in_features ** 0.5,
                torch.randn(t.out_features, rank, generator=g) * 0.05]
    return out


def example_batch(cfg: ModelConfig, batch: int, seed: int = 1) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    c, h, w = cfg.latent_shape
    return [torch.randn(batch, c, h, w, generator=g), torch.randn(batch, c, h, w, generator=g),
            torch.rand(batch, generator=g), torch.randn(batch, cfg.cond_length, cfg.connector.out_dim, generator=g),
            torch.zeros(batch, c, h, w)]


def gradient_function(lora_dit: LoraDiT):
    """f(*pairs, scale, x0, noise, t, cond, ref) -> (loss, *grads), pairs and grads flat (down_0, up_0, …)."""
    n = 2 * len(lora_dit.targets)

    def loss_of(flat_pairs, scale, x0, noise, t, cond, ref):
        pairs = [(flat_pairs[2 * i], flat_pairs[2 * i + 1]) for i in range(n // 2)]
        return lora_dit.loss(pairs, scale, x0, noise, t, cond, ref)

    grad_and_value = torch.func.grad_and_value(loss_of, argnums=0)

    def flat(*args):
        grads, loss = grad_and_value(tuple(args[:n]), *args[n:])
        return (loss, *grads)

    return flat


def export_train_graph(dit, cfg: ModelConfig, path: Path, batch: int, max_rank: int) -> onnx.ModelProto:
    from torch._decomp import core_aten_decompositions
    from torch.fx.experimental.proxy_tensor import make_fx

    lora_dit = LoraDiT(freeze(dit))
    targets = lora_dit.targets
    io = lora_io(cfg, targets, batch, max_rank)[TRAIN_ROLE]
    args = (*example_pairs(targets, max_rank), torch.tensor([0.5]), *example_batch(cfg, batch))
    gm = make_fx(gradient_function(lora_dit), decomposition_table=core_aten_decompositions())(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prog = torch.onnx.export(gm, args, input_names=[s["name"] for s in io["inputs"]],
                                 output_names=[s["name"] for s in io["outputs"]], opset_version=OPSET,
                                 dynamo=True, external_data=False, verbose=False, optimize=True)
    model = prog.model_proto
    # The dynamo exporter annotates every node with its FX origin (namespace, stack trace): ~85% of the file.
    for node in model.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    del model.graph.value_info[:]
    declare_spec_io(model, io, path)
    onnx.checker.check_model(model)
    return model


class _InferWrapper(torch.nn.Module):
    def __init__(self, lora_dit: LoraDiT):
        super().__init__()
        self.lora_dit = lora_dit

    def forward(self, latents, timestep, cond, ref_latents, *flat_pairs):
        pairs = [(flat_pairs[2 * i], flat_pairs[2 * i + 1]) for i in range(len(flat_pairs) // 2)]
        return self.lora_dit(latents, timestep, cond, ref_latents, pairs, None)


def export_infer_graph(dit, cfg: ModelConfig, path: Path) -> onnx.ModelProto:
    lora_dit = LoraDiT(freeze(dit))
    io = lora_io(cfg, lora_dit.targets, 1, 1)[INFER_ROLE]
    lat = example_batch(cfg, 2)
    args = (lat[0], lat[2], lat[3], lat[4], *example_pairs(lora_dit.targets, 3))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(_InferWrapper(lora_dit), args, str(path), input_names=[s["name"] for s in io["inputs"]],
                          output_names=[s["name"] for s in io["outputs"]], dynamic_axes=dynamic_axes(io),
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
    model = onnx.load(str(path))
    declare_spec_io(model, io, path)
    onnx.checker.check_model(model)
    return model


def add_lora_graphs(bundle_dir: str | Path, dit=None, batch: int = 1, max_rank: int = 16, log=print) -> dict:
    """Export both LoRA graphs into an existing bundle and rewrite its bundle.json (graphs, lora, files)."""
    root = Path(bundle_dir)
    meta = json.loads((root / "bundle.json").read_text())
    cfg = ModelConfig.from_dict(meta["config"])
    dit_path = root / meta["graphs"]["dit"]["file"]
    if dit_path.parent != root:
        raise ValueError(f"{dit_path}: the dit graph must sit in the bundle folder to share its weights file")
    if dit is None:
        dit = dit_from_onnx(dit_path, cfg)
    targets = lora_targets(dit)
    io = lora_io(cfg, targets, batch, max_rank)
    train_path, infer_path, weights_path = (root / f"{TRAIN_ROLE}.onnx", root / f"{INFER_ROLE}.onnx",
                                            root / WEIGHTS_FILE)
    t0 = time.perf_counter()
    # LoraDiT wraps the linears in place: each graph gets its own copy of the DiT.
    train = export_train_graph(copy.deepcopy(dit), cfg, train_path, batch, max_rank)
    log(f"exported {TRAIN_ROLE}.onnx in {time.perf_counter() - t0:.2f}s")
    t0 = time.perf_counter()
    infer = export_infer_graph(copy.deepcopy(dit), cfg, infer_path)
    log(f"exported {INFER_ROLE}.onnx in {time.perf_counter() - t0:.2f}s")
    # The plain DiT goes first, so its tensors keep dit.onnx's layout and the LoRA graphs point into them.
    plain = onnx.load(str(dit_path))  # with its external data when an earlier run already shared it
    stats = share_weights([plain, infer, train], _staged(weights_path), location=weights_path.name)
    log(f"shared weights: {stats}")
    # Every file is written beside its final name and renamed at the end (the graphs only make sense together).
    for model, path in ((plain, dit_path), (infer, infer_path), (train, train_path)):
        onnx.save(model, str(_staged(path)))
    for path in (weights_path, dit_path, infer_path, train_path):
        os.replace(_staged(path), path)
    for role in (INFER_ROLE, TRAIN_ROLE):
        meta["graphs"][role] = {"file": f"{role}.onnx", **io[role]}
    meta["lora"] = lora_meta(targets, batch, max_rank)
    ours = (dit_path.name, infer_path.name, train_path.name, weights_path.name)
    files = [f for f in meta["files"] if f["path"] not in ours]
    for name in ours:
        p = root / name
        files.append({"path": p.name, "sha256": sha256_file(p), "bytes": p.stat().st_size})
    meta["files"] = files
    (root / "bundle.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def _staged(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Add LoRA training and inference graphs to an Atelier bundle")
    ap.add_argument("--bundle", required=True, help="bundle folder (modified in place)")
    ap.add_argument("--checkpoint", help="model checkpoint (default: rebuild the DiT from the bundle's dit.onnx)")
    ap.add_argument("--batch", type=int, default=1, help="fixed batch of the training graph (the trainer "
                    "accumulates gradients for larger batches)")
    ap.add_argument("--max-rank", type=int, default=16, help="largest LoRA rank the training graph takes")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    dit = None
    if args.checkpoint:
        from ..checkpoint import load_checkpoint

        meta = json.loads((Path(args.bundle) / "bundle.json").read_text())
        model, _ = load_checkpoint(args.checkpoint, ModelConfig.from_dict(meta["config"]))
        dit = model.dit
    t0 = time.perf_counter()
    add_lora_graphs(args.bundle, dit=dit, batch=args.batch, max_rank=args.max_rank)
    print(f"added LoRA graphs to {args.bundle} in {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
