"""AtelierModel: all trainable components of one model under one config (what a checkpoint holds).

    model.ar               ARTransformer        (modeling/ar.py)
    model.connector        Connector            (modeling/connector.py)
    model.dit              DiT                  (modeling/dit.py)
    model.vae              VAE                  (modeling/vae.py)
    model.image_tokenizer  ImageTokenizer       (modeling/image_tokenizer.py)

The text tokenizer is not a module; it travels next to the weights (see modeling/checkpoint.py).
"""

from __future__ import annotations

import torch
from torch import nn

from .ar import ARTransformer
from .config import ModelConfig
from .connector import Connector
from .dit import DiT
from .image_tokenizer import ImageTokenizer
from .vae import VAE


class AtelierModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.ar = ARTransformer(cfg.ar, cfg.vocab_total)
        self.connector = Connector(cfg.ar.hidden_size, cfg.connector.out_dim, cfg.connector.norm_eps)
        c, h, _ = cfg.latent_shape
        self.dit = DiT(cfg.dit, c, h, cfg.connector.out_dim)
        self.vae = VAE(cfg.vae)
        self.image_tokenizer = ImageTokenizer(cfg.image_tokenizer)


def init_fixture_weights_(model: nn.Module, seed: int) -> None:
    """Re-initialise every parameter from N(0, 1/fan_in) with a fixed seed.

    The training init zeroes the DiT's adaLN/output layers (adaLN-zero), so a freshly built DiT outputs exact
    zeros — useless for checking an ONNX export. A random-init *fixture* needs every weight non-trivial.
    Norm weights stay near 1 so activations keep a sane scale. Every value is an fp16 value, as in a shipped
    checkpoint (model-fp16.safetensors), so the fixtures' graphs store their weights as fp16 too
    (modeling/half_storage.py) and the engines' tests run that form.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() == 1 and (name.endswith("norm.weight") or ".norm" in name or "norm" in name.split(".")[-2]):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / fan_in ** 0.5)
        for p in model.parameters():
            p.copy_(p.half().float())


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
