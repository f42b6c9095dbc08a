"""Smoke-test the training losses of a preset on CUDA under bf16 autocast (a few steps each, with timings).

    python -m modeling.gpu_smoke [--config nano] [--batch 128] [--steps 20]
"""

from __future__ import annotations

import argparse
import time

import torch

from .config import load_config
from .model import AtelierModel, count_parameters


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="nano")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args(argv)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = load_config(args.config)
    model = AtelierModel(cfg).to(dev).train()
    print(f"{cfg.name} on {dev}: {count_parameters(model) / 1e6:.2f} M parameters")
    b, s = args.batch, cfg.image_size
    g = torch.Generator(device=dev).manual_seed(0)
    images = torch.rand(b, 3, s, s, device=dev, generator=g) * 2 - 1
    c, h, w = cfg.latent_shape
    x0 = torch.randn(b, c, h, w, device=dev, generator=g)
    seq = 40 + cfg.code_count
    ids = torch.randint(0, cfg.vocab_total, (b, seq), device=dev, generator=g)
    labels = ids.roll(-1, 1)
    labels[:, : seq - cfg.code_count] = -100
    hidden = torch.randn(b, cfg.cond_length, cfg.ar.hidden_size, device=dev, generator=g)
    cases = {
        "vae": (model.vae, lambda: model.vae.loss(images)),
        "image_tokenizer": (model.image_tokenizer, lambda: model.image_tokenizer.loss(images)),
        "ar": (model.ar, lambda: model.ar.loss(ids, labels)),
        "dit+connector": (model, lambda: model.dit.loss(x0, model.connector(hidden))),
    }
    for name, (module, fn) in cases.items():
        opt = torch.optim.AdamW(module.parameters(), lr=1e-3)
        losses = []
        for i in range(args.steps):
            if i == 2:
                if dev == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=dev == "cuda"):
                loss = fn()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        dt = (time.perf_counter() - t0) / (args.steps - 2)
        ok = all(torch.isfinite(torch.tensor(losses)))
        print(f"{name:16s} loss {losses[0]:.4f} -> {losses[-1]:.4f} finite={ok} {1 / dt:.1f} steps/s "
              f"({b / dt:.0f} samples/s)")


if __name__ == "__main__":
    main()
