"""Export a model to an Atelier bundle (docs/bundle-spec.md).

    python -m modeling.export --config fixture|nano|path.json [--checkpoint ckpt.safetensors] --out DIR

Without --checkpoint the model is randomly initialised from --seed (only allowed for the fixture config).
Writes one ONNX graph per role (opset 18), tokenizer.json and bundle.json (with sha256 + size of each file).

Exporter choice (measured 2026-11-26, torch 2.11 + onnxscript 0.5.7): the default dynamo exporter fails at
import (`onnxscript._framework_apis.torch_2_11` does not exist in onnxscript 0.5.7), so we use the
TorchScript exporter (dynamo=False). It exports the fixture's seven graphs in a few seconds, handles
dynamic batch/seq/past axes (including past = 0) and matches PyTorch to ~1e-6. (onnxscript is now pinned
at 0.7.2, where the dynamo exporter imports; modeling/lora uses it for the gradient graph.)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn
from tokenizers import Tokenizer

from .bundle import sha256_file
from .config import ModelConfig, load_config
from .half_storage import store_half
from .model import AtelierModel, init_fixture_weights_
from .text_tokenizer import FIXTURE_CAPTIONS, check_tokenizer, special_token_ids, spells_capitals, train_tokenizer
from .vae import VAEDecoderGraph, VAEEncoderGraph
from .image_tokenizer import ImageTokenizerDecoderGraph, ImageTokenizerEncoderGraph

OPSET = 18
FORMAT_VERSION = 1
ROLES = ("ar", "connector", "dit", "vae_encoder", "vae_decoder", "image_tokenizer_encoder", "image_tokenizer_decoder")
# Optional: a second set of generator weights that instruction edits run on (docs/bundle-spec.md, "Edit
# generator"). The reference publishes its generator and its editor as separate checkpoints; a bundle can carry
# both because they share the tokenizer, the autoencoders and the latent scale, so only these three graphs differ.
EDIT_GENERATOR_ROLES = {"ar": "edit_ar", "connector": "edit_connector", "dit": "edit_dit"}
# The config sections both generators must share (the engine sizes the KV cache, the condition and the latents
# from the bundle's one config).
SHARED_CONFIG = ("image_size", "text", "image_tokenizer", "ar", "connector", "dit", "vae")


def _t(name, dtype, shape):
    return {"name": name, "dtype": dtype, "shape": list(shape)}


def graph_io(cfg: ModelConfig) -> dict[str, dict[str, list[dict]]]:
    """Every graph's inputs and outputs (name, dtype, shape) — what bundle.json's `graphs` lists."""
    a = cfg.ar
    kv_past = ["batch", a.kv_heads, "past", a.head_dim]
    kv_total = ["batch", a.kv_heads, "total", a.head_dim]
    c, h, w = cfg.latent_shape
    lat = ["batch", c, h, w]
    img = ["batch", 3, cfg.image_size, cfg.image_size]
    d = cfg.connector.out_dim
    ar_in = [_t("input_ids", "int64", ["batch", "seq"]), _t("attention_mask", "int64", ["batch", "total"]),
             _t("position_ids", "int64", ["batch", "seq"])]
    ar_out = [_t("logits", "float32", ["batch", "seq", cfg.vocab_total]),
              _t("hidden", "float32", ["batch", "seq", a.hidden_size])]
    for i in range(a.layers):
        ar_in += [_t(f"past_key_{i}", "float32", kv_past), _t(f"past_value_{i}", "float32", kv_past)]
        ar_out += [_t(f"present_key_{i}", "float32", kv_total), _t(f"present_value_{i}", "float32", kv_total)]
    return {
        "ar": {"inputs": ar_in, "outputs": ar_out},
        "connector": {"inputs": [_t("hidden", "float32", ["batch", "n_cond", a.hidden_size])],
                      "outputs": [_t("cond", "float32", ["batch", "n_cond", d])]},
        "dit": {"inputs": [_t("latents", "float32", lat), _t("timestep", "float32", ["batch"]),
                           _t("cond", "float32", ["batch", "n_cond", d]), _t("ref_latents", "float32", lat)],
                "outputs": [_t("velocity", "float32", lat)]},
        "vae_encoder": {"inputs": [_t("image", "float32", img)], "outputs": [_t("latents", "float32", lat)]},
        "vae_decoder": {"inputs": [_t("latents", "float32", lat)], "outputs": [_t("image", "float32", img)]},
        "image_tokenizer_encoder": {"inputs": [_t("image", "float32", img)],
                                    "outputs": [_t("codes", "int64", ["batch", cfg.code_count])]},
        "image_tokenizer_decoder": {"inputs": [_t("codes", "int64", ["batch", cfg.code_count])],
                                    "outputs": [_t("image", "float32", img)]},
    }


class ARGraph(nn.Module):
    """Flat-argument wrapper: (input_ids, attention_mask, position_ids, past_key_0, past_value_0, …)."""

    def __init__(self, ar):
        super().__init__()
        self.ar = ar

    def forward(self, input_ids, attention_mask, position_ids, *past):
        logits, hidden, pk, pv = self.ar(input_ids, attention_mask, position_ids, list(past[0::2]), list(past[1::2]))
        out = [logits, hidden]
        for k, v in zip(pk, pv):
            out += [k, v]
        return tuple(out)


def graph_modules(model: AtelierModel) -> dict[str, nn.Module]:
    return {
        "ar": ARGraph(model.ar),
        "connector": model.connector,
        "dit": model.dit,
        "vae_encoder": VAEEncoderGraph(model.vae),
        "vae_decoder": VAEDecoderGraph(model.vae),
        "image_tokenizer_encoder": ImageTokenizerEncoderGraph(model.image_tokenizer),
        "image_tokenizer_decoder": ImageTokenizerDecoderGraph(model.image_tokenizer),
    }


_DTYPES = {"float32": torch.float32, "int64": torch.int64}


def sample_inputs(cfg: ModelConfig, role: str, seed: int = 0, sizes: dict | None = None) -> list[torch.Tensor]:
    """Random inputs for one graph; symbolic dims come from `sizes` (defaults: batch 2, seq 3, past 4, n_cond)."""
    g = torch.Generator().manual_seed(seed)
    sz = {"batch": 2, "seq": 3, "past": 4, "n_cond": cfg.cond_length}
    sz.update(sizes or {})
    sz["total"] = sz["seq"] + sz["past"]
    out = []
    for spec in graph_io(cfg)[role]["inputs"]:
        shape = [sz[d] if isinstance(d, str) else d for d in spec["shape"]]
        name = spec["name"]
        if name == "input_ids":
            out.append(torch.randint(0, cfg.vocab_total, shape, generator=g))
        elif name == "attention_mask":
            m = torch.ones(shape, dtype=torch.int64)
            if shape[0] > 1:
                m[1, : min(2, shape[1] - 1)] = 0  # left padding on the second item
            out.append(m)
        elif name == "position_ids":
            m = out[1]
            pos = (m.cumsum(-1) - 1).clamp(min=0)[:, sz["past"]:]
            out.append(pos)
        elif name == "codes":
            out.append(torch.randint(0, cfg.codebook_size, shape, generator=g))
        elif name == "timestep":
            out.append(torch.rand(shape, generator=g))
        elif name == "image":
            out.append(torch.rand(shape, generator=g) * 2 - 1)
        else:
            out.append(torch.randn(shape, generator=g))
    return out


def dynamic_axes(io: dict) -> dict:
    """The spec's symbolic dims of each tensor, as torch.onnx.export's `dynamic_axes` takes them."""
    dynamic = {}
    for s in io["inputs"] + io["outputs"]:
        axes = {i: d for i, d in enumerate(s["shape"]) if isinstance(d, str)}
        if axes:
            dynamic[s["name"]] = axes
    return dynamic


def declare_spec_io(model: onnx.ModelProto, io: dict, path: Path) -> None:
    """Gives an exported graph the spec's shapes and checks its I/O names against the spec.

    The exporter sometimes names a static dim symbolically (e.g. after a Slice); the spec's shapes are declared.
    """
    for value, spec in zip(list(model.graph.input) + list(model.graph.output), io["inputs"] + io["outputs"]):
        dims = value.type.tensor_type.shape.dim
        if len(dims) != len(spec["shape"]):
            raise RuntimeError(f"{path.name}: {value.name} has rank {len(dims)}, the spec says {spec['shape']}")
        for dim, want in zip(dims, spec["shape"]):
            if isinstance(want, str):
                dim.dim_param = want
            else:
                dim.dim_value = want
    got = ([i.name for i in model.graph.input], [o.name for o in model.graph.output])
    want = ([s["name"] for s in io["inputs"]], [s["name"] for s in io["outputs"]])
    if got != want:
        raise RuntimeError(f"{path.name}: exported I/O {got[0]} -> {got[1]} differs from the spec {want[0]} -> {want[1]}")


def export_graph(module: nn.Module, cfg: ModelConfig, role: str, path: Path) -> None:
    io = graph_io(cfg)[role]
    names_in = [s["name"] for s in io["inputs"]]
    names_out = [s["name"] for s in io["outputs"]]
    args = tuple(sample_inputs(cfg, role))
    module.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), input_names=names_in, output_names=names_out,
                          dynamic_axes=dynamic_axes(io), opset_version=OPSET, dynamo=False, do_constant_folding=True)
    m = onnx.load(str(path))
    declare_spec_io(m, io, path)
    store_half(m)  # weights of an fp16 checkpoint: stored as fp16, read back exactly (modeling/half_storage.py)
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def fit_rgb_preview(model: AtelierModel, n: int = 32, seed: int = 0) -> dict:
    """Least-squares linear map from scaled latents [C] to RGB in [-1, 1] (bias included).

    Fitted on smooth random colour fields: each is encoded, and the target is the image average-pooled to
    the latent grid (the colour each latent cell stands for).
    """
    cfg = model.cfg
    g = torch.Generator().manual_seed(seed)
    s = cfg.image_size
    low = torch.rand(n, 3, 4, 4, generator=g) * 2 - 1
    images = torch.nn.functional.interpolate(low, size=(s, s), mode="bilinear", align_corners=False)
    with torch.no_grad():
        lat = model.vae.scale(model.vae.encode(images)[0])
    target = torch.nn.functional.avg_pool2d(images, 4)
    c = lat.shape[1]
    x = lat.permute(0, 2, 3, 1).reshape(-1, c).double()
    x = torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype)], dim=1)
    y = target.permute(0, 2, 3, 1).reshape(-1, 3).double()
    sol = torch.linalg.lstsq(x, y).solution  # [C+1, 3]
    return {"weights": [[round(float(v), 7) for v in row] for row in sol[:c]],
            "bias": [round(float(v), 7) for v in sol[c]]}


def git_commit() -> str:
    # The device machine gets the working tree without .git: device runs pass the commit in ATELIER_COMMIT.
    if os.environ.get("ATELIER_COMMIT"):
        return os.environ["ATELIER_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent).stdout.strip()
    except Exception:
        return "unknown"


def bundle_json(model: AtelierModel, tokenizer: Tokenizer, license: str, provenance: dict) -> dict:
    cfg = model.cfg
    c, h, w = cfg.latent_shape
    gh, gw = cfg.code_grid
    return {
        "format": "atelier-bundle",
        "format_version": FORMAT_VERSION,
        "name": cfg.name,
        "family": "atelier-ar-dit",
        "variant": cfg.variant,
        "license": license,
        "provenance": provenance,
        "config": cfg.to_dict(),
        "image": {"width": cfg.image_size, "height": cfg.image_size, "channels": 3},
        "tokenizer": {"file": "tokenizer.json", "max_prompt_tokens": cfg.text.max_prompt_tokens,
                      "templates": {"generate": cfg.text.template_generate, "edit": cfg.text.template_edit},
                      # a tokenizer that spells capitals was trained on captions that quote sign words
                      "quote_sign_words": spells_capitals(tokenizer)},
        "special_tokens": special_token_ids(tokenizer),
        "vocab": {"text_size": cfg.text.vocab_size, "image_code_offset": cfg.image_code_offset,
                  "image_codebook_size": cfg.codebook_size, "total": cfg.vocab_total},
        "image_tokens": {"grid": [gh, gw], "count": cfg.code_count},
        "ar": {"layers": cfg.ar.layers, "hidden_size": cfg.ar.hidden_size, "heads": cfg.ar.heads,
               "kv_heads": cfg.ar.kv_heads, "head_dim": cfg.ar.head_dim, "max_positions": cfg.ar.max_positions},
        "connector": {"in_dim": cfg.ar.hidden_size, "out_dim": cfg.connector.out_dim},
        "condition": {"positions": "img_start+codes", "length": cfg.cond_length},
        "sampling": {"temperature": cfg.sampling.temperature, "top_k": cfg.sampling.top_k,
                     "top_p": cfg.sampling.top_p, "cfg_scale": cfg.sampling.cfg_scale,
                     "edit_cfg_scale": cfg.sampling.edit_cfg_scale,
                     "edit_keep_unchanged": cfg.sampling.edit_keep_unchanged,
                     **({"edit_temperature": cfg.sampling.edit_temperature}
                        if cfg.sampling.edit_temperature is not None else {})},
        "scheduler": {"type": cfg.scheduler.type, "steps": cfg.scheduler.steps, "shift": cfg.scheduler.shift,
                      "cfg_scale": cfg.scheduler.cfg_scale, "timestep_scale": cfg.dit.timestep_scale},
        "latent": {"channels": c, "height": h, "width": w, "scaling_factor": cfg.vae.scaling_factor,
                   "shift_factor": cfg.vae.shift_factor, "rgb_preview": fit_rgb_preview(model)},
        "graphs": {role: {"file": f"{role}.onnx", **graph_io(cfg)[role]} for role in ROLES},
        "files": [],
    }


def export_bundle(model: AtelierModel, tokenizer: Tokenizer, out: str | Path, license: str = "Apache-2.0",
                  provenance: dict | None = None, log=print) -> dict:
    cfg = model.cfg
    check_tokenizer(tokenizer, cfg.text.vocab_size)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    timings = {}
    for role, module in graph_modules(model).items():
        t0 = time.perf_counter()
        export_graph(module, cfg, role, out / f"{role}.onnx")
        timings[role] = time.perf_counter() - t0
        log(f"exported {role}.onnx in {timings[role]:.2f}s")
    (out / "tokenizer.json").write_text(tokenizer.to_str(pretty=True))
    prov = {"data": [], "recipe": "random init (fixture)", "commit": git_commit(), "trained_on": None,
            "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(), "eval": None}
    prov.update(provenance or {})
    meta = bundle_json(model, tokenizer, license, prov)
    files = [f"{role}.onnx" for role in ROLES] + ["tokenizer.json"]
    meta["files"] = [{"path": f, "sha256": sha256_file(out / f), "bytes": (out / f).stat().st_size} for f in files]
    (out / "bundle.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def add_edit_generator(bundle_dir: str | Path, model: AtelierModel, provenance: dict, log=print) -> dict:
    """Writes `model`'s AR, connector and DiT into an existing bundle as edit_ar / edit_connector / edit_dit and
    rewrites bundle.json (graphs, files, provenance.edit_generator). The caller checks that the two models share
    the tokenizer and autoencoders (modeling/train/edit_generator.py); the architecture is checked here."""
    root = Path(bundle_dir)
    meta = json.loads((root / "bundle.json").read_text())
    cfg = model.cfg
    mine = cfg.to_dict()
    differ = [k for k in SHARED_CONFIG if mine.get(k) != meta["config"].get(k)]
    if differ:
        raise ValueError(f"the edit generator's config differs from the bundle's in {', '.join(differ)}: "
                         "both generators must have the same architecture, vocabulary and latents")
    model.eval()
    modules = graph_modules(model)
    listed = {f["path"]: f for f in meta["files"]}
    for role, name in EDIT_GENERATOR_ROLES.items():
        path = root / f"{name}.onnx"
        t0 = time.perf_counter()
        export_graph(modules[role], cfg, role, path)
        log(f"exported {path.name} in {time.perf_counter() - t0:.2f}s")
        meta["graphs"][name] = {"file": path.name, **graph_io(cfg)[role]}
        listed[path.name] = {"path": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size}
    meta["files"] = list(listed.values())
    meta["provenance"]["edit_generator"] = provenance
    (root / "bundle.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description="Export an Atelier model to a bundle folder")
    ap.add_argument("--config", required=True, help="preset (fixture, nano) or a config JSON file")
    ap.add_argument("--checkpoint", help="checkpoint .safetensors (omit for a random-init fixture)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=0, help="random-init seed (fixture only)")
    ap.add_argument("--license", default="Apache-2.0", help="SPDX id of the weights")
    ap.add_argument("--provenance", help="JSON file merged into provenance (data, recipe, trained_on, eval)")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    if args.checkpoint:
        from .checkpoint import load_checkpoint
        model, tokenizer = load_checkpoint(args.checkpoint, cfg)
    else:
        if cfg.variant != "fixture":
            raise SystemExit(f"--checkpoint is required for the {cfg.variant!r} config (random init is only "
                             "allowed for the fixture)")
        model, tokenizer = random_fixture_model(cfg, args.seed)
    prov = json.loads(Path(args.provenance).read_text()) if args.provenance else {}
    t0 = time.perf_counter()
    meta = export_bundle(model, tokenizer, args.out, license=args.license, provenance=prov)
    total = sum(f["bytes"] for f in meta["files"])
    print(f"wrote {args.out}: {len(meta['files'])} files, {total / 1e6:.2f} MB, {time.perf_counter() - t0:.1f}s")


def random_fixture_model(cfg: ModelConfig, seed: int = 0) -> tuple[AtelierModel, Tokenizer]:
    torch.manual_seed(seed)
    model = AtelierModel(cfg)
    init_fixture_weights_(model, seed)
    return model.eval(), train_tokenizer(FIXTURE_CAPTIONS, cfg.text.vocab_size)


if __name__ == "__main__":
    main()
