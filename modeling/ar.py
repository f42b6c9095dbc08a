"""The autoregressive backbone (Qwen3's role in BLIP3o-NEXT): a decoder-only transformer.

RoPE, RMSNorm (pre-norm, plus a final norm), SwiGLU MLP, grouped-query attention, an explicit KV cache
and an explicit attention mask + position ids, so the exported graph is a pure function that the engine
drives step by step.

Forward (what the `ar` graph computes):
    logits, hidden, present_keys, present_values = ar(input_ids, attention_mask, position_ids,
                                                      past_keys, past_values)
    input_ids      int64 [B, S]
    attention_mask int64 [B, P+S]   1 = attend, 0 = padding (left padding)
    position_ids   int64 [B, S]
    past_keys/values: lists (one per layer) of float [B, kv_heads, P, head_dim] (P may be 0)
    logits [B, S, vocab_total]; hidden [B, S, hidden_size] (after the final norm);
    present_keys/values: lists of [B, kv_heads, P+S, head_dim]

Training API (for modeling/train/):
    loss = ar.loss(input_ids, labels, attention_mask=None)
        Next-token cross-entropy. `labels` [B, S] int64 holds, at position i, the id that position i should
        predict (i.e. input_ids shifted left by one), or -100 where no loss is taken. For image generation
        only the image codes are targets: build the pair with `modeling.prompting.training_example()`.
        Returns the mean CE over labelled positions (a scalar tensor).
    logits, hidden = ar.forward_full(input_ids, attention_mask=None) is a no-cache convenience.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ARConfig
from .layers import RMSNorm, attention


def rope_cos_sin(position_ids: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, S] positions -> cos, sin of shape [B, 1, S, head_dim] (rotate-half layout)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=position_ids.device) / head_dim))
    freqs = position_ids.to(torch.float32)[..., None] * inv_freq  # [B, S, head_dim/2]
    emb = torch.cat([freqs, freqs], dim=-1)[:, None]  # [B, 1, S, head_dim]
    return emb.cos(), emb.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class Attention(nn.Module):
    def __init__(self, cfg: ARConfig):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = cfg.heads, cfg.kv_heads, cfg.head_dim
        self.q_proj = nn.Linear(cfg.hidden_size, cfg.heads * cfg.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.hidden_size, cfg.kv_heads * cfg.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.hidden_size, cfg.kv_heads * cfg.head_dim, bias=False)
        self.o_proj = nn.Linear(cfg.heads * cfg.head_dim, cfg.hidden_size, bias=False)
        # Qwen3 normalises q and k per head before RoPE; it keeps attention logits bounded.
        self.q_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)
        self.k_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)

    def forward(self, x, cos, sin, allowed, past_k, past_v):
        b, s, _ = x.shape
        q = self.q_norm(self.q_proj(x).view(b, s, self.heads, self.head_dim)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).view(b, s, self.kv_heads, self.head_dim)).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        present_k, present_v = k, v
        rep = self.heads // self.kv_heads
        if rep > 1:  # grouped-query attention: each kv head serves `rep` query heads
            t = k.shape[2]
            k = k[:, :, None].expand(b, self.kv_heads, rep, t, self.head_dim).reshape(b, self.heads, t, self.head_dim)
            v = v[:, :, None].expand(b, self.kv_heads, rep, t, self.head_dim).reshape(b, self.heads, t, self.head_dim)
        out = attention(q, k, v, allowed).transpose(1, 2).reshape(b, s, self.heads * self.head_dim)
        return self.o_proj(out), present_k, present_v


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.gate = nn.Linear(dim, hidden, bias=False)
        self.up = nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class Block(nn.Module):
    def __init__(self, cfg: ARConfig):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.hidden_size, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.mlp_norm = RMSNorm(cfg.hidden_size, cfg.norm_eps)
        self.mlp = SwiGLU(cfg.hidden_size, cfg.ffn_size)

    def forward(self, x, cos, sin, allowed, past_k, past_v):
        h, pk, pv = self.attn(self.attn_norm(x), cos, sin, allowed, past_k, past_v)
        x = x + h
        x = x + self.mlp(self.mlp_norm(x))
        return x, pk, pv


class ARTransformer(nn.Module):
    def __init__(self, cfg: ARConfig, vocab_total: int):
        super().__init__()
        self.cfg = cfg
        self.vocab_total = vocab_total
        self.embed = nn.Embedding(vocab_total, cfg.hidden_size)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.hidden_size, vocab_total, bias=False)
        nn.init.normal_(self.embed.weight, std=0.02)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.embed.weight

    def empty_cache(self, batch: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        shape = (batch, self.cfg.kv_heads, 0, self.cfg.head_dim)
        w = self.embed.weight
        return ([w.new_zeros(shape) for _ in self.blocks], [w.new_zeros(shape) for _ in self.blocks])

    def forward(self, input_ids, attention_mask, position_ids, past_keys, past_values):
        b, s = input_ids.shape
        total = attention_mask.shape[1]
        past = total - s
        # allowed[b, i, j]: key j is not padding and is not in the future of query i (query i sits at past+i).
        q_idx = torch.arange(s, device=input_ids.device)[:, None] + past
        k_idx = torch.arange(total, device=input_ids.device)[None, :]
        causal = k_idx <= q_idx  # [S, T]
        allowed = causal[None, None] & (attention_mask[:, None, None, :] > 0)  # [B, 1, S, T]
        cos, sin = rope_cos_sin(position_ids, self.cfg.head_dim, self.cfg.rope_theta)
        x = self.embed(input_ids)
        presents_k, presents_v = [], []
        for i, block in enumerate(self.blocks):
            x, pk, pv = block(x, cos, sin, allowed, past_keys[i], past_values[i])
            presents_k.append(pk)
            presents_v.append(pv)
        hidden = self.norm(x)
        logits = self.lm_head(hidden)
        return logits, hidden, presents_k, presents_v

    def forward_full(self, input_ids, attention_mask=None):
        """No-cache forward over whole sequences; positions follow the spec (cumsum(mask) - 1, 0 on padding)."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        pk, pv = self.empty_cache(input_ids.shape[0])
        logits, hidden, _, _ = self.forward(input_ids, attention_mask, position_ids, pk, pv)
        return logits, hidden

    def loss(self, input_ids, labels, attention_mask=None):
        logits, _ = self.forward_full(input_ids, attention_mask)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
