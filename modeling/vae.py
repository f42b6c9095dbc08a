"""The VAE (DC-AE's role in BLIP3o-NEXT): images [B, 3, H, W] in [-1, 1] <-> latents [B, C, H/4, W/4].

A KL-regularised conv autoencoder with a very small KL weight (1e-6 by default). Why KL and not a plain AE:
the small KL term keeps the latent distribution bounded and smooth (no huge-magnitude channels, no holes
between training images), which is what a diffusion model wants to model; at 1e-6 it costs almost no
reconstruction quality. The encoder graph exports the posterior mean only (deterministic).

Raw latents are what the encoder/decoder graphs use; the DiT works on scaled latents:
    scaled = (raw - shift_factor) * scaling_factor,   raw = scaled / scaling_factor + shift_factor
Set `VAEConfig.scaling_factor`/`shift_factor` after training, from the encoder's latent mean and std over
the training images (so scaled latents have ~unit variance, like the N(0, 1) noise).

Training API (for modeling/train/):
    loss = vae.loss(image, generator=None)
        image [B, 3, H, W] in [-1, 1]. Samples z = mean + std * eps, decodes, returns
        MSE(recon, image) + kl_weight * KL(q(z|x) || N(0, 1)) (KL averaged per latent element).
    mean, logvar = vae.encode(image); image = vae.decode(raw_latents)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import VAEConfig
from .conv import Decoder, Encoder


class VAE(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        if len(cfg.channels) != 2:
            raise ValueError("the VAE downsamples 4x: vae.channels must have exactly two entries")
        self.cfg = cfg
        self.encoder = Encoder(3, cfg.channels, 2 * cfg.latent_channels)
        self.decoder = Decoder(cfg.latent_channels, cfg.channels, 3)

    def encode(self, image):
        mean, logvar = self.encoder(image).chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    def decode(self, latents):
        return self.decoder(latents)

    def scale(self, raw):
        return (raw - self.cfg.shift_factor) * self.cfg.scaling_factor

    def unscale(self, scaled):
        return scaled / self.cfg.scaling_factor + self.cfg.shift_factor

    def loss(self, image, generator=None):
        mean, logvar = self.encode(image)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device)
        z = mean + torch.exp(0.5 * logvar) * eps
        recon = self.decode(z)
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).mean()
        return F.mse_loss(recon, image) + self.cfg.kl_weight * kl


class VAEEncoderGraph(nn.Module):
    """The `vae_encoder` graph: image -> raw posterior mean."""

    def __init__(self, vae: VAE):
        super().__init__()
        self.vae = vae

    def forward(self, image):
        return self.vae.encode(image)[0]


class VAEDecoderGraph(nn.Module):
    """The `vae_decoder` graph: raw latents -> image."""

    def __init__(self, vae: VAE):
        super().__init__()
        self.vae = vae

    def forward(self, latents):
        return self.vae.decode(latents)
