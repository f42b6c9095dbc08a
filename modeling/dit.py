"""The diffusion transformer (SANA's role in BLIP3o-NEXT): flow matching over VAE latents.

    velocity = dit(latents, timestep, cond, ref_latents)
    latents, ref_latents float [B, C, h, w] (scaled latents, see vae.py); timestep float [B], t in [0, 1]
    (1 = pure noise; the graph embeds t * timestep_scale); cond float [B, n_cond, cond_dim] (connector output,
    all zeros for the unconditional CFG branch); ref_latents are zeros when there is no reference image.

Inside: the noisy latent and the reference latent are concatenated channel-wise and patchified (p x p) into
tokens (+ fixed 2D sin-cos positions). The reference latent also goes through a small connector
(patchify -> Linear -> GELU(tanh) -> Linear -> RMSNorm) into extra cross-attention tokens, appended to the
projected cond tokens. With `spatial_cond` (nano) the condition of code cell k (cond[:, 1 + k]) is also projected and added to
DiT token k: the 8 x 8 code grid and the 8 x 8 token grid coincide, so what the AR wrote in a cell reaches
the patch it describes directly instead of through cross-attention alone. Each block: adaLN-zero-modulated self-attention, cross-attention to the condition
tokens, adaLN-zero-modulated MLP. The head predicts only the C latent channels (the reference half of the
input is "cropped back").

Flow matching: x_t = (1 - t) * x0 + t * noise; the model predicts v = noise - x0.

Training API (for modeling/train/):
    loss = dit.loss(x0, cond, ref_latents=None, cond_drop_prob=0.1, t=None, noise=None, generator=None)
        x0: scaled clean latents [B, C, h, w]; cond: connector output [B, n_cond, cond_dim] (keep the graph
        to the connector/AR if they train too). With probability cond_drop_prob per sample the cond is
        replaced by zeros (the CFG unconditional branch; ref_latents are kept, as at inference). t defaults to
        logit-normal samples (sigmoid of N(0, 1)); noise to N(0, 1). Returns the MSE between the predicted
        velocity and noise - x0 (a scalar tensor).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import DiTConfig
from .layers import RMSNorm, attention, sincos_2d, timestep_embedding

TIME_FREQ_DIM = 256


def modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


class SelfAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x):
        b, n, w = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        return self.out(attention(q, k, v).transpose(1, 2).reshape(b, n, w))


class CrossAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x, context):
        b, n, w = x.shape
        m = context.shape[1]
        hd = w // self.heads
        q = self.q(x).view(b, n, self.heads, hd).transpose(1, 2)
        k, v = self.kv(context).view(b, m, 2, self.heads, hd).permute(2, 0, 3, 1, 4)
        return self.out(attention(q, k, v).transpose(1, 2).reshape(b, n, w))


class DiTBlock(nn.Module):
    def __init__(self, cfg: DiTConfig):
        super().__init__()
        w = cfg.width
        self.norm1 = nn.LayerNorm(w, elementwise_affine=False, eps=cfg.norm_eps)
        self.attn = SelfAttention(w, cfg.heads)
        self.norm2 = nn.LayerNorm(w, eps=cfg.norm_eps)
        self.cross = CrossAttention(w, cfg.heads)
        self.norm3 = nn.LayerNorm(w, elementwise_affine=False, eps=cfg.norm_eps)
        hidden = int(w * cfg.mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(w, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, w))
        self.ada = nn.Linear(w, 6 * w)  # adaLN-zero: shift/scale/gate for attention and MLP
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, t_emb, context):
        sh1, sc1, g1, sh2, sc2, g2 = self.ada(F.silu(t_emb)).chunk(6, dim=-1)
        x = x + g1[:, None] * self.attn(modulate(self.norm1(x), sh1, sc1))
        x = x + self.cross(self.norm2(x), context)
        x = x + g2[:, None] * self.mlp(modulate(self.norm3(x), sh2, sc2))
        return x


class DiT(nn.Module):
    def __init__(self, cfg: DiTConfig, latent_channels: int, latent_size: int, cond_dim: int):
        super().__init__()
        self.cfg = cfg
        self.channels = latent_channels
        self.grid = latent_size // cfg.patch_size
        p, w = cfg.patch_size, cfg.width
        self.patch_embed = nn.Conv2d(2 * latent_channels, w, kernel_size=p, stride=p)
        self.register_buffer("pos_embed", sincos_2d(self.grid, self.grid, w)[None], persistent=False)
        self.t_embed = nn.Sequential(nn.Linear(TIME_FREQ_DIM, w), nn.SiLU(), nn.Linear(w, w))
        self.cond_proj = nn.Linear(cond_dim, w)
        # Why: fed the TRUE codes of held-out scenes, the session-2 nano DiT drew the asked object 21 % of the time
        # while the image tokenizer's own decoder of those codes gets 50 %: cross-attention had not learned where
        # each cell's content goes. Zero-initialised, so adding it to a trained DiT changes nothing until it trains.
        self.spatial_cond = nn.Linear(cond_dim, w) if cfg.spatial_cond else None
        if self.spatial_cond is not None:
            nn.init.zeros_(self.spatial_cond.weight)
            nn.init.zeros_(self.spatial_cond.bias)
        # The small connector that turns reference latents into extra condition tokens.
        r = cfg.ref_connector_dim
        self.ref_patch = nn.Conv2d(latent_channels, r, kernel_size=p, stride=p)
        self.ref_fc1 = nn.Linear(r, w)
        self.ref_fc2 = nn.Linear(w, w)
        self.ref_norm = RMSNorm(w, cfg.norm_eps)
        self.blocks = nn.ModuleList([DiTBlock(cfg) for _ in range(cfg.depth)])
        self.final_norm = nn.LayerNorm(w, elementwise_affine=False, eps=cfg.norm_eps)
        self.final_ada = nn.Linear(w, 2 * w)
        self.final = nn.Linear(w, p * p * latent_channels)
        for layer in (self.final_ada, self.final):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, latents, timestep, cond, ref_latents):
        b = latents.shape[0]
        p, g, c = self.cfg.patch_size, self.grid, self.channels
        x = self.patch_embed(torch.cat([latents, ref_latents], dim=1)).flatten(2).transpose(1, 2) + self.pos_embed
        if self.spatial_cond is not None:  # cond[:, 0] is <|img_start|>; cond[:, 1:] are the cells, row-major
            x = x + self.spatial_cond(cond[:, 1:])
        t_emb = self.t_embed(timestep_embedding(timestep * self.cfg.timestep_scale, TIME_FREQ_DIM))
        ref = self.ref_patch(ref_latents).flatten(2).transpose(1, 2)
        ref = self.ref_norm(self.ref_fc2(F.gelu(self.ref_fc1(ref), approximate="tanh")) + self.pos_embed)
        context = torch.cat([self.cond_proj(cond), ref], dim=1)
        for block in self.blocks:
            x = block(x, t_emb, context)
        shift, scale = self.final_ada(F.silu(t_emb)).chunk(2, dim=-1)
        x = self.final(modulate(self.final_norm(x), shift, scale))  # [B, g*g, p*p*C]
        x = x.view(b, g, g, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(b, c, g * p, g * p)

    def loss(self, x0, cond, ref_latents=None, cond_drop_prob=0.1, t=None, noise=None, generator=None, weight=None):
        """Flow matching on the straight path x_t = (1 − t)·x0 + t·ε, target ε − x0. `weight` (broadcast to x0,
        e.g. [B, 1, H, W]) counts some latent cells more: a sign's letters cover a few of the 16×16 cells, so an
        unweighted mean gives them little of the gradient (modeling/checkpoints/nano-cpu-dit-signs-2026-11-28)."""
        b = x0.shape[0]
        if t is None:
            t = torch.sigmoid(torch.randn(b, generator=generator, device=x0.device))
        if noise is None:
            noise = torch.randn(x0.shape, generator=generator, device=x0.device)
        if ref_latents is None:
            ref_latents = torch.zeros_like(x0)
        if cond_drop_prob > 0:
            keep = (torch.rand(b, generator=generator, device=x0.device) >= cond_drop_prob).to(cond.dtype)
            cond = cond * keep[:, None, None]
        tt = t[:, None, None, None]
        xt = (1 - tt) * x0 + tt * noise
        if weight is None:
            return F.mse_loss(self(xt, t, cond, ref_latents), noise - x0)
        return ((self(xt, t, cond, ref_latents) - (noise - x0)) ** 2 * weight).mean()
