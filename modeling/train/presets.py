"""Training presets: the model size, data pool and time budget of one run.

- `cpu`: a small model (same 64 px pipeline, fewer/narrower layers) that proves the recipe end to end on
  2 CPU cores; not a useful generator.
- `gpu`: H3's `nano` model config on one H100/H200, bf16 autocast, a fixed wall-time budget per stage
  (total training <= 8 minutes).
Budgets are wall time, not steps: a run ends on time whatever the machine's speed. `seconds` scales all
stage budgets together (the device script passes TRAIN_SECONDS).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..config import ARConfig, ConnectorConfig, DiTConfig, ImageTokenizerConfig, ModelConfig, VAEConfig, nano


@dataclass
class StageBudget:
    share: float  # fraction of the run's seconds
    batch: int
    lr: float
    max_steps: int = 10**9  # a cap for tests and smoke runs


@dataclass
class TrainPreset:
    name: str
    model: ModelConfig
    device: str  # "cuda" | "cpu"
    seconds: float  # total training wall time over stages 1-3
    scenes: int  # text-to-image pool size (rendered once, reused every epoch)
    edits: int  # edit-pair pool size
    autocast_bf16: bool
    stages: dict[str, StageBudget] = field(default_factory=dict)
    grid_every_s: float = 60.0  # how often the sample grid is refreshed during training
    checkpoint_every_s: float = 60.0
    seed: int = 0
    # share of text-to-image rows drawn from scenes with a sign (None: as rendered, about 0.3); --sign-share
    sign_share: float | None = None
    # generator components left as they are in stages 2-3 (any of "ar", "connector", "dit"); --freeze. The frozen
    # DiT still passes the flow loss's gradient back to the connector and the AR, so they keep conditioning it.
    frozen: tuple[str, ...] = ()

    def with_seconds(self, seconds: float) -> "TrainPreset":
        return dataclasses.replace(self, seconds=seconds)


def cpu_model() -> ModelConfig:
    """The nano pipeline (64 px, 8x8 codes, 16x16x4 latents) with a model small enough for 2 cores."""
    cfg = nano()
    cfg = dataclasses.replace(
        cfg, name="atelier-nano-cpu", variant="nano-cpu",
        image_tokenizer=ImageTokenizerConfig(channels=[16, 32, 32], fsq_levels=[8, 5, 5, 5]),
        ar=ARConfig(layers=2, hidden_size=96, heads=4, kv_heads=2, head_dim=24, ffn_size=256, max_positions=192),
        connector=ConnectorConfig(out_dim=96),
        dit=DiTConfig(width=96, depth=2, heads=4, patch_size=2, mlp_ratio=2.0, ref_connector_dim=48, spatial_cond=True),
        vae=VAEConfig(channels=[16, 32], latent_channels=4, kl_weight=1e-6),
    )
    cfg.validate()
    return cfg


def cpu(seconds: float = 1800.0) -> TrainPreset:
    return TrainPreset(
        name="cpu", model=cpu_model(), device="cpu", seconds=seconds, scenes=20000, edits=6000,
        autocast_bf16=False,
        stages={"autoencoders": StageBudget(0.2, 32, 2e-3), "generator": StageBudget(0.6, 32, 1e-3),
                "edit": StageBudget(0.2, 24, 5e-4)},
        grid_every_s=max(60.0, seconds / 4), checkpoint_every_s=120.0,
    )


def gpu(seconds: float = 420.0) -> TrainPreset:
    return TrainPreset(
        name="gpu", model=nano(), device="cuda", seconds=seconds, scenes=200_000, edits=60_000,
        autocast_bf16=True,
        stages={"autoencoders": StageBudget(0.2, 256, 2e-3), "generator": StageBudget(0.6, 256, 5e-4),
                "edit": StageBudget(0.2, 192, 3e-4)},
        grid_every_s=90.0, checkpoint_every_s=60.0,
    )


PRESETS = {"cpu": cpu, "gpu": gpu}
