"""One checkpoint file = every component's weights + the config + the tokenizer.

Format: a .safetensors file. Tensors are AtelierModel.state_dict() keys (`ar.…`, `connector.…`, `dit.…`,
`vae.…`, `image_tokenizer.…`); metadata holds `atelier_config` (ModelConfig JSON) and `tokenizer`
(tokenizer.json text).

    save_checkpoint(path, model, tokenizer)
    model, tokenizer = load_checkpoint(path)             # builds the model from the embedded config
    model, tokenizer = load_checkpoint(path, cfg)        # checks the weights against `cfg`
A config/checkpoint mismatch raises CheckpointMismatch naming the first offending tensors.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tokenizers import Tokenizer

from .config import ModelConfig
from .model import AtelierModel


class CheckpointMismatch(ValueError):
    pass


def save_checkpoint(path: str | Path, model: AtelierModel, tokenizer: Tokenizer) -> None:
    # clone() breaks storage sharing (tied embeddings), which safetensors refuses to write.
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    meta = {"atelier_config": model.cfg.to_json(), "tokenizer": tokenizer.to_str(), "format": "atelier-checkpoint-1"}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=meta)


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return tensors, meta


def check_state_dict(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor], source: str) -> None:
    problems = []
    for k in sorted(expected):
        if k not in found:
            problems.append(f"tensor {k!r} is missing from {source} (the config expects shape "
                            f"{tuple(expected[k].shape)})")
        elif tuple(found[k].shape) != tuple(expected[k].shape):
            problems.append(f"tensor {k!r} has shape {tuple(found[k].shape)} in {source} but the config "
                            f"expects {tuple(expected[k].shape)}")
    for k in sorted(set(found) - set(expected)):
        problems.append(f"tensor {k!r} in {source} does not exist in the config's model")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise CheckpointMismatch("config/checkpoint mismatch: " + "; ".join(problems[:5]) + more)


def load_checkpoint(path: str | Path, cfg: ModelConfig | None = None) -> tuple[AtelierModel, Tokenizer]:
    tensors, meta = read_checkpoint(path)
    if cfg is None:
        if "atelier_config" not in meta:
            raise ValueError(f"checkpoint {path} has no embedded config; pass --config")
        cfg = ModelConfig.from_dict(json.loads(meta["atelier_config"]))
    if "tokenizer" not in meta:
        raise ValueError(f"checkpoint {path} has no embedded tokenizer")
    model = AtelierModel(cfg)
    check_state_dict(model.state_dict(), tensors, f"checkpoint {path}")
    model.load_state_dict(tensors, strict=True)
    return model.eval(), Tokenizer.from_str(meta["tokenizer"])
