"""The PyTorch twin of the TypeScript LoRA trainer (src-main/trainer/loop.ts): same draws, same loop.

    python -m modeling.lora.twin --bundle DIR --synthetic 4 --settings '{"steps": 12}' --out curve.json
    python -m modeling.lora.twin --bundle DIR --run-dir RUN --out curve.json      # a TS run's own data

Everything random comes from the bundle's Rng as src-main/trainer/draws.ts defines it (stream 2 = LoRA
init, 2·step + 3 = the step's t / condition drop / noise per item, 2·epoch + 4 = the epoch's shuffle), the
loss is the DiT's flow-matching MSE with the LoRA (modeling/lora/network.py), the optimizer is
torch.optim.AdamW after clip_grad_norm_, at the same warm-up + cosine/constant learning rate. So the two
implementations must produce the same loss curve up to float rounding, which tests check.

`--synthetic N` makes N data items from Rng(seed 1234, streams 100+i) (x0 ~ N(0,1) latents, cond ~ N(0,1));
`--run-dir` reads a TS run's run.json and its cached prepared items (x0 latents + caption condition).
The output JSON holds the settings, the data (synthetic only, so the TS test can load it), the loss per
step and a checksum of the final LoRA.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from ..config import ModelConfig
from ..sampling import Rng
from .network import LoraDiT, freeze
from .weights import dit_from_onnx

DEFAULTS = {"rank": 4, "alpha": 4.0, "steps": 12, "batch": 2, "learningRate": 1e-2, "warmupSteps": 3,
            "schedule": "cosine", "seed": 7, "condDropProb": 0.25, "weightDecay": 0.01, "maxGradNorm": 1.0}


def epoch_order(seed: int, epoch: int, n: int) -> list[int]:
    rng = Rng(seed, 2 * epoch + 4)
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = math.floor(rng.uniform() * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def batch_items(seed: int, step: int, batch: int, n: int) -> list[int]:
    out = []
    for j in range(batch):
        k = step * batch + j
        out.append(epoch_order(seed, k // n, n)[k % n])
    return out


def step_draws(seed: int, step: int, batch: int, size: int, drop_prob: float):
    rng = Rng(seed, 2 * step + 3)
    out = []
    for _ in range(batch):
        t = float(np.float32(1.0 / (1.0 + math.exp(-rng.normal()))))
        drop = rng.uniform() < drop_prob
        noise = rng.normals((size,))
        out.append((t, drop, noise))
    return out


def initial_lora(seed: int, targets, rank: int) -> list[torch.Tensor]:
    rng = Rng(seed, 2)
    params = []
    for t in targets:
        bound = 1.0 / math.sqrt(t.in_features)
        down = np.array([(2 * rng.uniform() - 1) * bound for _ in range(rank * t.in_features)], dtype=np.float32)
        params += [torch.from_numpy(down.reshape(rank, t.in_features)), torch.zeros(t.out_features, rank)]
    return params


def learning_rate(step: int, total: int, base: float, warmup: int, schedule: str) -> float:
    if warmup > 0 and step < warmup:
        return base * (step + 1) / warmup
    if schedule == "constant":
        return base
    progress = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * progress))


def train(lora_dit: LoraDiT, x0: np.ndarray, cond: np.ndarray, settings: dict, log=None) -> dict:
    s = {**DEFAULTS, **settings}
    n = x0.shape[0]
    shape = x0.shape[1:]
    size = int(np.prod(shape))
    params = [p.requires_grad_(True) for p in initial_lora(s["seed"], lora_dit.targets, s["rank"])]
    opt = torch.optim.AdamW(params, lr=s["learningRate"], betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=s["weightDecay"], foreach=False)
    scale = torch.tensor([s["alpha"] / s["rank"]])
    losses = []
    compute = 0.0  # forward + backward + clip + AdamW only (the draws are pure-Python Rng calls, slow)
    t0 = time.perf_counter()
    for step in range(s["steps"]):
        items = batch_items(s["seed"], step, s["batch"], n)
        draws = step_draws(s["seed"], step, s["batch"], size, s["condDropProb"])
        xb = torch.from_numpy(np.stack([x0[i] for i in items]))
        noise = torch.from_numpy(np.stack([d[2].reshape(shape) for d in draws]))
        t = torch.tensor([d[0] for d in draws], dtype=torch.float32)
        cb = torch.from_numpy(np.stack([np.zeros_like(cond[i]) if d[1] else cond[i] for i, d in zip(items, draws)]))
        pairs = [(params[2 * i], params[2 * i + 1]) for i in range(len(params) // 2)]
        tc = time.perf_counter()
        opt.zero_grad()
        loss = lora_dit.loss(pairs, scale, xb, noise, t, cb, torch.zeros_like(xb))
        loss.backward()
        if s["maxGradNorm"] > 0:
            torch.nn.utils.clip_grad_norm_(params, s["maxGradNorm"])
        for g in opt.param_groups:
            g["lr"] = learning_rate(step, s["steps"], s["learningRate"], s["warmupSteps"], s["schedule"])
        opt.step()
        losses.append(float(loss.detach()))
        compute += time.perf_counter() - tc
        if log:
            log(f"step {step + 1}: loss {losses[-1]:.6f}")
    seconds = time.perf_counter() - t0
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    return {"settings": s, "losses": losses, "steps_per_second": s["steps"] / seconds,
            "compute_steps_per_second": s["steps"] / compute,
            "final_abs_sum": float(flat.abs().sum()), "final_first": [float(v) for v in flat[:8]]}


def synthetic_data(cfg: ModelConfig, n: int) -> tuple[np.ndarray, np.ndarray]:
    c, h, w = cfg.latent_shape
    x0 = np.stack([Rng(1234, 100 + i).normals((c, h, w)) for i in range(n)])
    cond = np.stack([Rng(1234, 200 + i).normals((cfg.cond_length, cfg.connector.out_dim)) for i in range(n)])
    return x0, cond


def run_dir_data(run_dir: Path, cfg: ModelConfig) -> tuple[np.ndarray, np.ndarray, dict]:
    """x0/cond of a TS run in dataset order, read from its cache (keys as src-main/trainer/preprocess.ts)."""
    import hashlib

    from safetensors.numpy import load_file

    run = json.loads((run_dir / "run.json").read_text())
    items = run["items"]
    # 'sampled' conditions: 4 AR samples per image, each one item, in this order (preprocess.ts).
    variants = [f"\0sampled-{k}" for k in range(4)] if run["settings"].get("condition") == "sampled" else [""]
    x0, cond = [], []
    for it in items:
        for v in variants:
            key = hashlib.sha256(f"atelier-lora-cache-v1\0{run['bundle']['hash']}\0{it['imageSha256']}\0{it['caption']}{v}"
                                 .encode()).hexdigest()
            t = load_file(str(run_dir / "cache" / f"{key}.safetensors"))
            x0.append(t["x0"])
            cond.append(t["cond"])
    return np.stack(x0), np.stack(cond), run["settings"]


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch twin of the TypeScript LoRA trainer")
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--synthetic", type=int, help="train on N synthetic items")
    ap.add_argument("--run-dir", help="train on a TS run's cached data with its settings")
    ap.add_argument("--settings", default="{}", help="JSON settings (TS names) over the defaults")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    root = Path(args.bundle)
    meta = json.loads((root / "bundle.json").read_text())
    cfg = ModelConfig.from_dict(meta["config"])
    lora_dit = LoraDiT(freeze(dit_from_onnx(root / meta["graphs"]["dit"]["file"], cfg)))
    settings = json.loads(args.settings)
    out: dict = {}
    if args.run_dir:
        x0, cond, run_settings = run_dir_data(Path(args.run_dir), cfg)
        settings = {**{k: run_settings[k] for k in DEFAULTS}, **settings}
    else:
        x0, cond = synthetic_data(cfg, args.synthetic or 4)
        out["data"] = {"x0": x0.ravel().tolist(), "cond": cond.ravel().tolist(), "count": int(x0.shape[0])}
    result = train(lora_dit, x0, cond, settings)
    out.update(result)
    Path(args.out).write_text(json.dumps(out) + "\n")
    print(f"{len(result['losses'])} steps, loss {result['losses'][0]:.4f} -> {result['losses'][-1]:.4f}, "
          f"{result['steps_per_second']:.1f} steps/s")


if __name__ == "__main__":
    main()
