"""The image tokenizer (TA-Tok's role in BLIP3o-NEXT): an FSQ autoencoder.

image [B, 3, H, W] in [-1, 1] -> conv encoder (2**len(channels) down) -> d = len(fsq_levels) channels ->
finite scalar quantisation (Mentzer et al. 2023: each channel bounded with tanh and rounded to L_i levels)
-> a grid of codes, code = sum_i digit_i * prod(L_0..L_{i-1}), codebook size prod(L_i), row-major
[B, gh*gw]. The decoder maps codes back to an image (a cheap preview of the AR's codes). FSQ needs no
codebook loss and uses its whole codebook, which suits a small model trained for minutes.

(TA-Tok is a *semantic* VQ on SigLIP2 features; ours is a pixel autoencoder, the honest nano-scale
stand-in. The AR only sees the code ids, so the rest of the pipeline is identical.)

Training API (for modeling/train/):
    loss = image_tokenizer.loss(image)   # MSE(reconstruction, image) through the straight-through quantiser
    codes = image_tokenizer.encode(image)     # int64 [B, count]
    image = image_tokenizer.decode(codes)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ImageTokenizerConfig
from .conv import Decoder, Encoder


class FSQ(nn.Module):
    def __init__(self, levels: list[int], eps: float = 1e-3):
        super().__init__()
        lv = torch.tensor(levels, dtype=torch.float32)
        self.register_buffer("levels", lv, persistent=False)
        self.register_buffer("half_width", torch.floor(lv / 2), persistent=False)
        half_l = (lv - 1) * (1 - eps) / 2
        offset = torch.where(lv % 2 == 0, 0.5, 0.0)
        self.register_buffer("half_l", half_l, persistent=False)
        self.register_buffer("offset", offset, persistent=False)
        self.register_buffer("shift", torch.atanh(offset / half_l), persistent=False)
        basis = [math.prod(levels[:i]) for i in range(len(levels))]
        self.register_buffer("basis", torch.tensor(basis, dtype=torch.int64), persistent=False)
        self.register_buffer("levels_int", torch.tensor(levels, dtype=torch.int64), persistent=False)

    def bound(self, z):  # z [..., d]
        return torch.tanh(z + self.shift) * self.half_l - self.offset

    def quantize(self, z):
        """Straight-through quantised values, normalised to [-1, 1]."""
        b = self.bound(z)
        q = b + (torch.round(b) - b).detach()
        return q / self.half_width

    def codes(self, z):
        digits = (torch.round(self.bound(z)) + self.half_width).to(torch.int64)
        return (digits * self.basis).sum(-1)

    def from_codes(self, codes):
        digits = (codes[..., None] // self.basis) % self.levels_int
        return (digits.to(torch.float32) - self.half_width) / self.half_width


class ImageTokenizer(nn.Module):
    def __init__(self, cfg: ImageTokenizerConfig):
        super().__init__()
        self.cfg = cfg
        d = len(cfg.fsq_levels)
        self.encoder = Encoder(3, cfg.channels, d)
        self.decoder = Decoder(d, cfg.channels, 3)
        self.fsq = FSQ(cfg.fsq_levels)

    def _latent(self, image):
        return self.encoder(image).permute(0, 2, 3, 1)  # [B, gh, gw, d]

    def encode(self, image):
        z = self._latent(image)
        return self.fsq.codes(z).flatten(1)

    def decode(self, codes):
        b, n = codes.shape
        g = math.isqrt(n)
        q = self.fsq.from_codes(codes).view(b, g, g, -1).permute(0, 3, 1, 2)
        return self.decoder(q)

    def loss(self, image):
        q = self.fsq.quantize(self._latent(image)).permute(0, 3, 1, 2)
        return F.mse_loss(self.decoder(q), image)


class ImageTokenizerEncoderGraph(nn.Module):
    def __init__(self, tok: ImageTokenizer):
        super().__init__()
        self.tok = tok

    def forward(self, image):
        return self.tok.encode(image)


class ImageTokenizerDecoderGraph(nn.Module):
    def __init__(self, tok: ImageTokenizer):
        super().__init__()
        self.tok = tok

    def forward(self, codes):
        return self.tok.decode(codes)
