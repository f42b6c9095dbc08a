"""What a run shows while it trains: a sample grid from the PyTorch model and the loss curves, as PNG.

`generate` follows the bundle's algorithm (AR sampling with the KV cache, hidden states of <|img_start|> +
codes, connector, Euler flow matching with CFG on zeroed conditions, VAE decode) but draws its random
numbers from torch, so it is a preview, not the reference: modeling/eval runs the exported bundle.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..scheduler import sigmas as flow_sigmas
from .pool import to_float
from .sequences import PromptBuilder


def sample_code(logits: torch.Tensor, offset: int, size: int, temperature: float, top_k: int, top_p: float,
                gen: torch.Generator) -> torch.Tensor:
    x = logits[:, offset:offset + size].float()
    if temperature == 0:
        return x.argmax(-1)
    x = x / temperature
    if 0 < top_k < size:
        kth = torch.topk(x, top_k, dim=-1).values[:, -1:]
        x = x.masked_fill(x < kth, float("-inf"))
    p = torch.softmax(x, -1)
    sp, order = torch.sort(p, descending=True, dim=-1)
    cum = sp.cumsum(-1)
    drop = (cum - sp) >= top_p  # keep the shortest prefix reaching top_p
    sp = sp.masked_fill(drop, 0.0)
    pick = torch.multinomial(sp / sp.sum(-1, keepdim=True), 1, generator=gen)
    return order.gather(-1, pick)[:, 0]


@torch.no_grad()
def generate(model, builder: PromptBuilder, prompts: list[str], refs_u8: torch.Tensor | None = None,
             seed: int = 0, steps: int | None = None, cfg_scale: float | None = None, temperature: float | None = None):
    """uint8 images [B, 64, 64, 3] and the AR's codes [B, count] for the prompts (edits when refs_u8 is given)."""
    cfg = model.cfg
    dev = next(model.parameters()).device
    model.eval()
    gen = torch.Generator(device=dev).manual_seed(seed)
    kind = "edit" if refs_u8 is not None else "generate"
    ref_codes = ref_lat = None
    if refs_u8 is not None:
        x = to_float(refs_u8.to(dev))
        ref_codes = model.image_tokenizer.encode(x).cpu().numpy()
        ref_lat = model.vae.scale(model.vae.encode(x)[0])
    prefixes = [builder.prefix(kind, builder.prompt_ids(p), None if ref_codes is None else ref_codes[i]) for i, p in enumerate(prompts)]
    b = len(prefixes)
    ids, mask, pos = builder.left_padded(prefixes, dev)
    pk, pv = model.ar.empty_cache(b)
    pk, pv = [t.to(dev) for t in pk], [t.to(dev) for t in pv]
    logits, hidden, pk, pv = model.ar(ids, mask, pos, pk, pv)
    hiddens = [hidden[:, -1]]
    last_pos = pos[:, -1]
    s = cfg.sampling
    t = s.temperature if temperature is None else temperature
    codes = []
    for _ in range(cfg.code_count):
        code = sample_code(logits[:, -1], cfg.image_code_offset, cfg.codebook_size, t, s.top_k, s.top_p, gen)
        codes.append(code)
        mask = torch.cat([mask, torch.ones((b, 1), dtype=torch.long, device=dev)], 1)
        last_pos = last_pos + 1
        logits, hidden, pk, pv = model.ar((code + cfg.image_code_offset)[:, None], mask, last_pos[:, None], pk, pv)
        hiddens.append(hidden[:, -1])
    codes = torch.stack(codes, 1)
    cond = model.connector(torch.stack(hiddens, 1))
    c, h, w = cfg.latent_shape
    x = torch.randn((b, c, h, w), generator=gen, device=dev)
    ref = ref_lat if ref_lat is not None else torch.zeros_like(x)
    sig = flow_sigmas(steps or cfg.scheduler.steps, cfg.scheduler.shift)
    scale = cfg.scheduler.cfg_scale if cfg_scale is None else cfg_scale
    zero = torch.zeros_like(cond)
    for i in range(len(sig) - 1):
        tt = torch.full((b,), float(sig[i]), device=dev)
        v = model.dit(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([cond, zero]), torch.cat([ref, ref]))
        vc, vu = v[:b], v[b:]
        v = vu + scale * (vc - vu)
        x = x + float(sig[i + 1] - sig[i]) * v
    img = model.vae.decode(model.vae.unscale(x))
    return ((img.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu(), codes


@torch.no_grad()
def codes_preview(model, codes: torch.Tensor) -> torch.Tensor:
    img = model.image_tokenizer.decode(codes)
    return ((img.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu()


def grid_png(rows: list[list[np.ndarray]], labels: list[str], path, header: str = "", scale: int = 2) -> None:
    """rows of uint8 images side by side (scaled up), a text label to the right of each row."""
    font = ImageFont.load_default()
    cell = 64 * scale
    n_cols = max(len(r) for r in rows)
    text_w = 560
    top = 18 if header else 0
    canvas = Image.new("RGB", (n_cols * (cell + 4) + text_w, top + len(rows) * (cell + 4)), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    if header:
        draw.text((4, 3), header, fill=(0, 0, 0), font=font)
    for r, (imgs, label) in enumerate(zip(rows, labels)):
        y = top + r * (cell + 4)
        for c, im in enumerate(imgs):
            canvas.paste(Image.fromarray(np.asarray(im)).resize((cell, cell), Image.NEAREST), (c * (cell + 4), y))
        words, lines, line = label.split(), [], ""
        for w_ in words:
            if len(line) + len(w_) > 80:
                lines.append(line)
                line = ""
            line += w_ + " "
        lines.append(line)
        for k, ln in enumerate(lines[:8]):
            draw.text((n_cols * (cell + 4) + 6, y + 4 + 13 * k), ln, fill=(0, 0, 0), font=font)
    canvas.save(path)


def loss_png(history: list[dict], path, width: int = 900, panel_h: int = 220) -> None:
    """One panel per loss series (log scale, raw points and a moving average), x = step within the stage."""
    series: dict[str, list[tuple[int, float]]] = {}
    for h in history:
        for k, v in h.items():
            if k not in ("stage", "step", "elapsed", "lr") and v is not None and math.isfinite(v) and v > 0:
                series.setdefault(f"{h['stage']}/{k}", []).append((h["step"], v))
    order = {"autoencoders": 0, "generator": 1, "edit": 2}
    names = sorted(series, key=lambda n: (order.get(n.split("/")[0], 9), n))
    font = ImageFont.load_default()
    img = Image.new("RGB", (width, max(1, len(names)) * panel_h), (255, 255, 255))
    d = ImageDraw.Draw(img)
    for i, name in enumerate(names):
        pts = series[name]
        y0 = i * panel_h
        x_lo, x_hi = pts[0][0], max(pts[-1][0], pts[0][0] + 1)
        ys = np.log10([v for _, v in pts])
        lo, hi = float(ys.min()), float(ys.max())
        hi = hi if hi > lo else lo + 1e-3
        left, right, top, bottom = 60, width - 10, y0 + 20, y0 + panel_h - 20
        fx = lambda s: left + (s - x_lo) / (x_hi - x_lo) * (right - left)
        fy = lambda v: bottom - (v - lo) / (hi - lo) * (bottom - top)
        d.rectangle([left, top, right, bottom], outline=(180, 180, 180))
        d.text((left, y0 + 4), f"{name}  last={pts[-1][1]:.4g}  min={10 ** lo:.4g}", fill=(0, 0, 0), font=font)
        d.text((4, top), f"{10 ** hi:.3g}", fill=(90, 90, 90), font=font)
        d.text((4, bottom - 10), f"{10 ** lo:.3g}", fill=(90, 90, 90), font=font)
        d.text((right - 60, bottom + 4), f"step {x_hi}", fill=(90, 90, 90), font=font)
        if len(pts) < 2:
            continue
        d.line([(fx(s), fy(v)) for (s, _), v in zip(pts, ys)], fill=(170, 200, 240), width=1)
        k = max(1, len(ys) // 30)
        smooth = np.convolve(ys, np.ones(k) / k, mode="valid")
        d.line([(fx(pts[j + k - 1][0]), fy(v)) for j, v in enumerate(smooth)], fill=(20, 60, 200), width=2)
    img.save(path)
