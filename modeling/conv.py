"""Convolutional encoder/decoder stacks shared by the VAE and the FSQ image tokenizer."""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import nn


def group_norm(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(8, c), c, eps=1e-6)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.norm1 = group_norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = group_norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Encoder(nn.Module):
    """conv -> [ResBlock, stride-2 conv] per entry of `channels` -> ResBlock -> norm/SiLU/conv. Downsamples 2**len."""

    def __init__(self, in_ch: int, channels: list[int], out_ch: int):
        super().__init__()
        self.conv_in = nn.Conv2d(in_ch, channels[0], 3, padding=1)
        layers, prev = [], channels[0]
        for c in channels:
            layers += [ResBlock(prev, c), nn.Conv2d(c, c, 3, stride=2, padding=1)]
            prev = c
        layers.append(ResBlock(prev, prev))
        self.body = nn.Sequential(*layers)
        self.norm_out = group_norm(prev)
        self.conv_out = nn.Conv2d(prev, out_ch, 3, padding=1)

    def forward(self, x):
        return self.conv_out(F.silu(self.norm_out(self.body(self.conv_in(x)))))


class Upsample(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Decoder(nn.Module):
    """Mirror of Encoder: conv -> ResBlock -> [2x nearest upsample + conv, ResBlock] per channel -> conv."""

    def __init__(self, in_ch: int, channels: list[int], out_ch: int):
        super().__init__()
        top = channels[-1]
        self.conv_in = nn.Conv2d(in_ch, top, 3, padding=1)
        layers, prev = [ResBlock(top, top)], top
        for c in reversed(channels):
            layers += [Upsample(prev, c), ResBlock(c, c)]
            prev = c
        self.body = nn.Sequential(*layers)
        self.norm_out = group_norm(prev)
        self.conv_out = nn.Conv2d(prev, out_ch, 3, padding=1)

    def forward(self, x):
        return self.conv_out(F.silu(self.norm_out(self.body(self.conv_in(x)))))
