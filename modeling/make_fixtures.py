"""Regenerate tests/fixtures deterministically: the fixture bundle and the reference outputs.

    python -m modeling.make_fixtures [--out tests/fixtures]

Writes
  bundle-fixture/                 random-init fixture bundle (seed 0), fixed provenance, with the LoRA graphs
  reference/graphs.json           index of per-graph cases: {case: {role, file, sizes}}
  reference/graphs/<case>.safetensors   `input.<name>` / `output.<name>` for one call of one graph (PyTorch)
  reference/rng.json              Rng test vectors (u32, uniform, normal) for several seeds/streams
  reference/sampler.json          sample_token cases: logits, params, u -> kept ids/probs and the token
  reference/<case>.json + .safetensors   whole generations (t2i, edit, inpaint), see write_record
Everything is computed with PyTorch modules (TorchBackend); the engine must reproduce it from the ONNX bundle.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from .backends import TorchBackend
from .config import fixture
from .export import ROLES, export_bundle, graph_modules, random_fixture_model, sample_inputs, graph_io
from .generate import Draws, Params, edit, inpaint, text_to_image
from .sampling import Rng, process_logits, sample_token

FIXED_PROVENANCE = {"data": [], "recipe": "random init, seed 0 (python -m modeling.make_fixtures)",
                    "commit": "fixture", "trained_on": None, "created": "2026-11-26T00:00:00+00:00", "eval": None}

JSON_KEYS = ("prompt_ids", "attention_mask", "uniforms", "codes", "sigmas", "truncated")


def write_record(path: str | Path, header: dict, rec: dict) -> None:
    """A whole-generation record: PATH (.json) with ids/draws/params, PATH with .safetensors for tensors."""
    path = Path(path)
    meta = dict(header)
    for k in JSON_KEYS:
        if k in rec:
            v = rec[k]
            meta[k] = v.tolist() if isinstance(v, np.ndarray) else v
    meta["tensors"] = path.with_suffix(".safetensors").name
    tensors = {k: np.ascontiguousarray(v) for k, v in rec.items()
               if isinstance(v, np.ndarray) and k not in ("sigmas", "prompt_ids", "attention_mask")}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta, indent=1) + "\n")
    save_file(tensors, str(path.with_suffix(".safetensors")))


def read_record(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    path = Path(path)
    meta = json.loads(path.read_text())
    return meta, load_file(str(path.with_name(meta["tensors"])))


def reference_image(size: int) -> np.ndarray:
    """A fixed test picture, uint8 [3, size, size]: a blue background with a red square and a yellow bar."""
    img = np.zeros((3, size, size), np.uint8)
    img[2] = 200
    img[1] = np.linspace(0, 120, size, dtype=np.uint8)[None, :]
    q = size // 4
    img[:, q:2 * q, q:2 * q] = np.array([230, 30, 30], np.uint8)[:, None, None]
    img[:, 3 * q:3 * q + q // 2, :] = np.array([240, 220, 40], np.uint8)[:, None, None]
    return img


def graph_cases(cfg):
    return {
        "ar_prefill": ("ar", {"batch": 2, "seq": 6, "past": 0}),
        "ar_decode": ("ar", {"batch": 2, "seq": 1, "past": 6}),
        "ar_chunk": ("ar", {"batch": 2, "seq": 3, "past": 4}),
        "connector": ("connector", {"batch": 2}),
        "dit": ("dit", {"batch": 2}),
        "vae_encoder": ("vae_encoder", {"batch": 2}),
        "vae_decoder": ("vae_decoder", {"batch": 2}),
        "image_tokenizer_encoder": ("image_tokenizer_encoder", {"batch": 2}),
        "image_tokenizer_decoder": ("image_tokenizer_decoder", {"batch": 2}),
    }


def write_graph_fixtures(model, out: Path) -> dict:
    cfg = model.cfg
    modules = graph_modules(model)
    index = {}
    (out / "graphs").mkdir(parents=True, exist_ok=True)
    for i, (case, (role, sizes)) in enumerate(graph_cases(cfg).items()):
        inputs = sample_inputs(cfg, role, seed=100 + i, sizes=sizes)
        with torch.no_grad():
            outputs = modules[role](*inputs)
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)
        io = graph_io(cfg)[role]
        tensors = {f"input.{s['name']}": t.numpy() for s, t in zip(io["inputs"], inputs)}
        tensors.update({f"output.{s['name']}": t.numpy() for s, t in zip(io["outputs"], outputs)})
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(out / "graphs" / f"{case}.safetensors"))
        index[case] = {"role": role, "file": f"graphs/{case}.safetensors", "sizes": sizes}
    (out / "graphs.json").write_text(json.dumps(index, indent=1) + "\n")
    return index


def rng_vectors() -> list[dict]:
    cases = []
    for seed, stream in [(0, 0), (0, 1), (1, 0), (42, 0), (42, 1), (4294967295, 0), (123456789, 3)]:
        r = Rng(seed, stream)
        u32 = [r.next_u32() for _ in range(8)]
        r = Rng(seed, stream)
        uni = [r.uniform() for _ in range(4)]
        r = Rng(seed, stream)
        nor = [r.normal() for _ in range(4)]
        cases.append({"seed": seed, "stream": stream, "u32": u32, "uniform": uni, "normal": nor})
    return cases


def sampler_vectors() -> list[dict]:
    """Logits over a toy vocabulary of 6 text ids + 10 codes (offset 6), with several parameter sets."""
    g = np.random.default_rng(5)
    offset, book = 6, 10
    cases = []
    logits_sets = [g.normal(size=offset + book).round(3) * 2,
                   np.array([9.0] * offset + [1.0, 2.0, 2.0, 0.5, -1.0, 2.0, 0.0, 1.5, -3.0, 2.0])]
    params = [(1.0, 0, 1.0), (1.0, 3, 1.0), (1.0, 0, 0.5), (0.7, 5, 0.9), (1.0, 1, 0.9), (0.0, 0, 1.0),
              (2.0, 4, 0.8)]
    for li, logits in enumerate(logits_sets):
        for (t, k, p) in params:
            for u in (0.0, 0.3, 0.77, 0.999):
                tok = sample_token(logits, u, offset, book, t, k, p)
                case = {"logits": [float(x) for x in logits], "code_offset": offset, "codebook_size": book,
                        "temperature": t, "top_k": k, "top_p": p, "u": u, "token": tok}
                if t > 0:
                    ids, probs = process_logits(logits, offset, book, t, k, p)
                    case["kept_ids"] = ids.tolist()
                    case["kept_probs"] = probs.tolist()
                cases.append(case)
    return cases


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/fixtures")
    args = ap.parse_args(argv)
    # Float results depend (in the last bits) on how many threads split a reduction: pin it to one.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        write_all(Path(args.out))
    finally:
        torch.set_num_threads(threads)


def write_all(out: Path) -> None:
    cfg = fixture()
    model, tokenizer = random_fixture_model(cfg, seed=0)
    bundle_dir = out / "bundle-fixture"
    if bundle_dir.exists():
        shutil.rmtree(bundle_dir)
    export_bundle(model, tokenizer, bundle_dir, license="Apache-2.0", provenance=FIXED_PROVENANCE, log=lambda s: None)
    # The optional LoRA graphs (modeling/lora, issue 7): max rank 4 keeps the fixture small.
    from .lora.export import add_lora_graphs
    add_lora_graphs(bundle_dir, dit=model.dit, batch=1, max_rank=4, log=lambda s: None)
    # The fixture's tokenizer with spelled capitals and the ids the TypeScript engine must reproduce.
    from .text_tokenizer import write_spelled_fixture
    write_spelled_fixture(bundle_dir / "tokenizer.json", out / "tokenizer-spelled")
    ref = out / "reference"
    if ref.exists():
        shutil.rmtree(ref)
    ref.mkdir(parents=True)
    write_graph_fixtures(model, ref)
    (ref / "rng.json").write_text(json.dumps(rng_vectors(), indent=1) + "\n")
    (ref / "sampler.json").write_text(json.dumps(sampler_vectors(), indent=1) + "\n")

    backend = TorchBackend(model)
    params = Params.defaults(cfg)
    shape = cfg.latent_shape
    # Text-to-image, batch 2 (items use seeds 42 and 43).
    prompt = "a cat at the centre on a blue background"
    rec = text_to_image(backend, tokenizer, [prompt] * 2, Draws.seeded(42, 2, shape), params)
    write_record(ref / "t2i.json", {"case": "t2i", "prompt": prompt, "seed": 42, "batch": 2,
                                    "params": asdict(params)}, rec)
    # The same with classifier-free guidance on the AR logits (the empty prompt as a second row per item).
    guided = replace(params, ar_cfg_scale=3.0)
    rec = text_to_image(backend, tokenizer, [prompt] * 2, Draws.seeded(42, 2, shape), guided)
    write_record(ref / "t2i-ar-cfg.json", {"case": "t2i-ar-cfg", "prompt": prompt, "seed": 42, "batch": 2,
                                           "params": asdict(guided)}, rec)
    # Edit of the fixed reference image, batch 1, seed 7.
    img = reference_image(cfg.image_size)
    prompt = "remove the cat"
    rec = edit(backend, tokenizer, prompt, img, Draws.seeded(7, 1, shape), params)
    write_record(ref / "edit.json", {"case": "edit", "prompt": prompt, "seed": 7, "batch": 1,
                                     "params": asdict(params)}, rec)
    # The same with AR guidance for the edit template (the twin keeps the reference codes).
    guided = replace(params, edit_ar_cfg_scale=3.0)
    rec = edit(backend, tokenizer, prompt, img, Draws.seeded(7, 1, shape), guided)
    write_record(ref / "edit-ar-cfg.json", {"case": "edit-ar-cfg", "prompt": prompt, "seed": 7, "batch": 1,
                                            "params": asdict(guided)}, rec)
    # The same edit keeping the cells whose code the AR kept. The fixture model is random, so few sampled
    # codes equal the reference's: take the first seed from 7 on whose batch of 2 keeps some cells and
    # repaints others (the search is deterministic, so the fixture is too).
    keeping = replace(params, edit_keep_unchanged=True)
    for seed in range(7, 1000):
        rec = edit(backend, tokenizer, prompt, img, Draws.seeded(seed, 2, shape), keeping)
        if 0 < rec["regenerate_cells"].mean() < 1:
            break
    write_record(ref / "edit-keep.json", {"case": "edit-keep", "prompt": prompt, "seed": seed, "batch": 2,
                                          "params": asdict(keeping)}, rec)
    # Inpaint the right half of the same image, batch 1, seed 3.
    mask = np.zeros((cfg.image_size, cfg.image_size), np.uint8)
    mask[:, cfg.image_size // 2 + 2:] = 1  # not aligned to the 4-pixel latent grid on purpose
    prompt = "a red apple at the top right on a green background"
    rec = inpaint(backend, tokenizer, prompt, img, mask, Draws.seeded(3, 1, shape), params)
    write_record(ref / "inpaint.json", {"case": "inpaint", "prompt": prompt, "seed": 3, "batch": 1,
                                        "params": asdict(params)}, rec)
    write_edit_generator_fixture(out, model, tokenizer, img)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out}: {total / 1e6:.2f} MB")


def write_edit_generator_fixture(out: Path, model, tokenizer, img: np.ndarray) -> None:
    """edit-generator/: what modeling/train/edit_generator.py adds to the fixture bundle for an edit generator whose
    AR, connector and DiT are another random draw (seed 1) over the same autoencoders — its three graphs and
    `bundle-patch.json` (the `graphs` and `files` entries and `provenance.edit_generator` it writes); the engine
    tests lay them over a copy of bundle-fixture (a second full bundle would not fit the fixtures' 3 MB). And the
    edit of `edit.json` (same prompt, image and draws) as that bundle must make it."""
    import copy
    import tempfile

    from .export import EDIT_GENERATOR_ROLES, add_edit_generator

    cfg = model.cfg
    other, _ = random_fixture_model(cfg, seed=1)
    editor = copy.deepcopy(model)
    for part in ("ar", "connector", "dit"):
        getattr(editor, part).load_state_dict(getattr(other, part).state_dict())
    dest = out / "edit-generator"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir()
    with tempfile.TemporaryDirectory() as tmp:
        bundle_dir = Path(tmp) / "bundle"
        shutil.copytree(out / "bundle-fixture", bundle_dir)
        meta = add_edit_generator(bundle_dir, editor, {"checkpoint": "random init, seed 1 (fixture)", "sign_narrow_pad": 0.0},
                                  log=lambda s: None)
        roles = list(EDIT_GENERATOR_ROLES.values())
        files = [meta["graphs"][r]["file"] for r in roles]
        for f in files:
            shutil.copyfile(bundle_dir / f, dest / f)
        patch = {"graphs": {r: meta["graphs"][r] for r in roles},
                 "files": [e for e in meta["files"] if e["path"] in files],
                 "provenance": {"edit_generator": meta["provenance"]["edit_generator"]}}
        (dest / "bundle-patch.json").write_text(json.dumps(patch, indent=1) + "\n")
    backend = TorchBackend(model, edit_model=editor)
    params = Params.defaults(cfg)
    prompt = "remove the cat"
    rec = edit(backend, tokenizer, prompt, img, Draws.seeded(7, 1, cfg.latent_shape), params)
    write_record(out / "reference" / "edit-generator.json", {"case": "edit-generator", "prompt": prompt, "seed": 7,
                                                            "batch": 1, "params": asdict(params)}, rec)


if __name__ == "__main__":
    main()
