"""Read and verify an Atelier bundle (docs/bundle-spec.md).

    bundle = load_bundle(dir)   # raises BundleError naming the offending file
    bundle.meta                 # parsed bundle.json
    bundle.graph_path("dit")

Checks: bundle.json parses and has the right format/version; every listed file exists with the recorded size
and sha256; every graph's file is listed; every graph's ONNX inputs/outputs have the names bundle.json gives;
every external-data file a graph reads (e.g. the shared `dit_lora.weights`) is listed, so the hashes cover it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

FORMAT = "atelier-bundle"
SUPPORTED_VERSION = 1


class BundleError(ValueError):
    pass


@dataclass
class Bundle:
    root: Path
    meta: dict

    def graph_path(self, role: str) -> Path:
        return self.root / self.meta["graphs"][role]["file"]


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read 1 MiB at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def external_data_files(model) -> set[str]:
    """The `location`s (relative to the model file) of an ONNX model's external-data initializers."""
    import onnx

    out = set()
    for init in model.graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            out.update(e.value for e in init.external_data if e.key == "location")
    return out


def load_bundle(root: str | Path, check_graphs: bool = True) -> Bundle:
    root = Path(root)
    meta_path = root / "bundle.json"
    if not meta_path.is_file():
        raise BundleError(f"{meta_path}: missing (not a bundle folder?)")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BundleError(f"{meta_path}: not valid JSON ({e})") from e
    if meta.get("format") != FORMAT:
        raise BundleError(f"{meta_path}: format is {meta.get('format')!r}, expected {FORMAT!r}")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > SUPPORTED_VERSION:
        raise BundleError(f"{meta_path}: format_version {version!r} is not supported (this reader knows "
                          f"version {SUPPORTED_VERSION}); update Atelier")
    listed = {}
    for entry in meta.get("files", []):
        p = root / entry["path"]
        listed[entry["path"]] = entry
        if not p.is_file():
            raise BundleError(f"{p}: listed in bundle.json but missing")
        size = p.stat().st_size
        if size != entry["bytes"]:
            raise BundleError(f"{p}: size {size} bytes, bundle.json says {entry['bytes']} (truncated or replaced?)")
        digest = sha256_file(p)
        if digest != entry["sha256"]:
            raise BundleError(f"{p}: sha256 {digest} does not match bundle.json ({entry['sha256']}); "
                              "the file is corrupted or was modified")
    tok = meta.get("tokenizer", {}).get("file")
    if tok not in listed:
        raise BundleError(f"{root / str(tok)}: tokenizer file not listed in bundle.json files")
    for role, g in meta.get("graphs", {}).items():
        if g["file"] not in listed:
            raise BundleError(f"{root / g['file']}: graph {role!r} is not listed in bundle.json files")
        if check_graphs:
            import onnx

            path = root / g["file"]
            try:
                model = onnx.load(str(path), load_external_data=False)
            except Exception as e:  # noqa: BLE001 - any parse failure is a bad file
                raise BundleError(f"{path}: not a readable ONNX model ({e})") from e
            want_in = [t["name"] for t in g["inputs"]]
            want_out = [t["name"] for t in g["outputs"]]
            got_in = [i.name for i in model.graph.input]
            got_out = [o.name for o in model.graph.output]
            if got_in != want_in or got_out != want_out:
                raise BundleError(f"{path}: graph I/O {got_in} -> {got_out} does not match bundle.json "
                                  f"{want_in} -> {want_out}")
            for location in sorted(external_data_files(model)):
                rel = (Path(g["file"]).parent / location).as_posix()
                if rel not in listed:
                    raise BundleError(f"{path}: graph {role!r} reads external data from {rel!r}, which is not "
                                      "listed in bundle.json files (so its size and sha256 are not checked)")
    return Bundle(root=root, meta=meta)
