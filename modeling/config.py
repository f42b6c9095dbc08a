"""Model configuration: one dataclass per component plus ModelConfig, and the named presets.

Presets:
- `fixture`: tiny, random init, 32 px images; the test bundle (well under 3 MB).
- `nano`: 64 px, the shipped CPU model (fp32 bundle <= 36 MB).
- `blip3o_next_like`: the shapes of the published model, to show the config scales; never instantiated
  in tests.

The vocabulary is one id space: text ids [0, text_vocab_size) (special tokens first, then byte-level BPE;
unused tail ids are allowed), then image codes [image_code_offset, image_code_offset + codebook_size).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

SPECIAL_TOKENS = ("<|pad|>", "<|bos|>", "<|eos|>", "<|img_start|>", "<|img_end|>", "<|ref_start|>", "<|ref_end|>")

# The nano model's edit template puts the instruction before the reference codes, so reference code i and
# output code i are always the same distance apart (code_count + 2 positions). With the instruction between
# them (the default template) that distance varies with the instruction's length and the AR has to count
# its way to "the same grid cell"; measured on the first nano checkpoint, teacher-forced, it copied an
# unchanged reference code only 53 % of the time. A fixed offset is a plain relative-position lookup (RoPE).
EDIT_TEMPLATE_PROMPT_FIRST = "<|bos|>Edit the image: {prompt}<|ref_start|>{ref}<|ref_end|><|img_start|>"


@dataclass
class TextTokenizerConfig:
    vocab_size: int = 512  # ids reserved for text + special tokens; the trained BPE may use fewer
    max_prompt_tokens: int = 32
    template_generate: str = "<|bos|>Generate an image: {prompt}<|img_start|>"
    template_edit: str = "<|bos|><|ref_start|>{ref}<|ref_end|>Edit the image: {prompt}<|img_start|>"


@dataclass
class ImageTokenizerConfig:
    """FSQ autoencoder (TA-Tok stand-in). grid = image_size / 2**len(channels)."""

    channels: list[int] = field(default_factory=lambda: [16, 32, 32])
    fsq_levels: list[int] = field(default_factory=lambda: [4, 4, 4])

    @property
    def codebook_size(self) -> int:
        return math.prod(self.fsq_levels)

    @property
    def downsample(self) -> int:
        return 2 ** len(self.channels)


@dataclass
class ARConfig:
    layers: int = 2
    hidden_size: int = 64
    heads: int = 4
    kv_heads: int = 2
    head_dim: int = 16
    ffn_size: int = 128
    max_positions: int = 128
    rope_theta: float = 10000.0
    norm_eps: float = 1e-6
    tie_embeddings: bool = False


@dataclass
class ConnectorConfig:
    out_dim: int = 64
    norm_eps: float = 1e-6


@dataclass
class DiTConfig:
    width: int = 64
    depth: int = 2
    heads: int = 4
    patch_size: int = 2
    mlp_ratio: float = 2.0
    ref_connector_dim: int = 64  # width of the small connector that turns reference latents into cond tokens
    timestep_scale: float = 1000.0  # the graph embeds t * timestep_scale (t in [0, 1])
    norm_eps: float = 1e-6
    # Add the connector output of code cell k to DiT token k (needs the code grid == the DiT's token grid).
    spatial_cond: bool = False


@dataclass
class VAEConfig:
    """Conv KL-VAE, 4x down (two stride-2 stages). kl_weight is small: a near-AE with a well-behaved latent."""

    channels: list[int] = field(default_factory=lambda: [16, 32])
    latent_channels: int = 4
    kl_weight: float = 1e-6
    scaling_factor: float = 1.0  # set from the trained encoder's latent statistics: 1 / std
    shift_factor: float = 0.0  # ... and the mean


@dataclass
class SamplingConfig:
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    # Classifier-free guidance on the AR logits, against the same template with an empty prompt:
    # uncond + cfg_scale·(cond − uncond), before the other processors. 1 = off (one AR row per item).
    # Only a model trained with emptied prompts (modeling/train/stages.py PROMPT_DROP) has a meaningful
    # unconditional branch.
    cfg_scale: float = 1.0
    # The same for the edit template (its twin keeps the reference codes). Apart because guidance trades
    # the region an edit should keep for the instruction (measured in the nano model's checkpoint README).
    edit_cfg_scale: float = 1.0
    # Edits keep what the AR keeps: the cells whose sampled code equals the reference's code are blended back
    # from the reference's latents at every DiT step and copied from the reference's pixels at the end (the
    # inpaint path with a mask the AR chose). The design: "unchanged regions should copy the reference".
    edit_keep_unchanged: bool = False
    # The AR's temperature for the edit template (None = `temperature`). Apart because an edit copies most
    # codes: sampled at full temperature the AR strays from codes it would keep (teacher-forced it keeps
    # 0.93 of them, sampled 0.78), and every stray cell is repainted (measured in the nano checkpoint README).
    edit_temperature: float | None = None


@dataclass
class SchedulerConfig:
    type: str = "flow_match_euler"
    steps: int = 20
    shift: float = 1.0
    cfg_scale: float = 2.0


@dataclass
class ModelConfig:
    name: str = "atelier-fixture"
    variant: str = "fixture"
    image_size: int = 32
    text: TextTokenizerConfig = field(default_factory=TextTokenizerConfig)
    image_tokenizer: ImageTokenizerConfig = field(default_factory=ImageTokenizerConfig)
    ar: ARConfig = field(default_factory=ARConfig)
    connector: ConnectorConfig = field(default_factory=ConnectorConfig)
    dit: DiTConfig = field(default_factory=DiTConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)

    # Derived quantities (not stored; computed from the above).
    @property
    def image_code_offset(self) -> int:
        return self.text.vocab_size

    @property
    def codebook_size(self) -> int:
        return self.image_tokenizer.codebook_size

    @property
    def vocab_total(self) -> int:
        return self.text.vocab_size + self.codebook_size

    @property
    def code_grid(self) -> tuple[int, int]:
        g = self.image_size // self.image_tokenizer.downsample
        return (g, g)

    @property
    def code_count(self) -> int:
        gh, gw = self.code_grid
        return gh * gw

    @property
    def cond_length(self) -> int:
        return self.code_count + 1  # <|img_start|> + the codes

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        s = self.image_size // 4
        return (self.vae.latent_channels, s, s)

    def validate(self) -> None:
        if self.image_size % self.image_tokenizer.downsample:
            raise ValueError("image_size must be divisible by the image tokenizer's downsampling")
        if self.image_size % 4 or (self.image_size // 4) % self.dit.patch_size:
            raise ValueError("latent size (image_size/4) must be divisible by dit.patch_size")
        if self.ar.heads % self.ar.kv_heads:
            raise ValueError("ar.heads must be a multiple of ar.kv_heads")
        if self.dit.width % self.dit.heads:
            raise ValueError("dit.width must be a multiple of dit.heads")
        if self.dit.spatial_cond:
            g = self.image_size // 4 // self.dit.patch_size
            if self.code_grid != (g, g):
                raise ValueError(f"dit.spatial_cond needs the code grid {self.code_grid} to equal the DiT token grid ({g}, {g})")
        if self.ar.head_dim % 2:
            raise ValueError("ar.head_dim must be even (RoPE)")
        # An edit prompt: template text (<= 32 tokens) + reference codes + prompt + <|img_start|> + codes.
        longest = 32 + 2 * self.code_count + self.text.max_prompt_tokens
        if longest > self.ar.max_positions:
            raise ValueError(f"ar.max_positions={self.ar.max_positions} is too small for an edit sequence "
                             f"(needs {longest})")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @staticmethod
    def from_dict(d: dict) -> "ModelConfig":
        sub = {
            "text": TextTokenizerConfig, "image_tokenizer": ImageTokenizerConfig, "ar": ARConfig,
            "connector": ConnectorConfig, "dit": DiTConfig, "vae": VAEConfig, "sampling": SamplingConfig,
            "scheduler": SchedulerConfig,
        }
        known = {f.name for f in dataclasses.fields(ModelConfig)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        kwargs = {}
        for k, v in d.items():
            if k in sub:
                fields = {f.name for f in dataclasses.fields(sub[k])}
                bad = set(v) - fields
                if bad:
                    raise ValueError(f"unknown keys in config.{k}: {sorted(bad)}")
                kwargs[k] = sub[k](**v)
            else:
                kwargs[k] = v
        cfg = ModelConfig(**kwargs)
        cfg.validate()
        return cfg


def fixture() -> ModelConfig:
    """Tiny random-init model for tests and the TypeScript engine's fixtures (32 px, 4x4 codes)."""
    cfg = ModelConfig(
        name="atelier-fixture", variant="fixture", image_size=32,
        text=TextTokenizerConfig(vocab_size=320, max_prompt_tokens=16),
        image_tokenizer=ImageTokenizerConfig(channels=[8, 16, 16], fsq_levels=[4, 4, 4]),
        ar=ARConfig(layers=2, hidden_size=48, heads=4, kv_heads=2, head_dim=12, ffn_size=96, max_positions=96),
        connector=ConnectorConfig(out_dim=40),
        dit=DiTConfig(width=48, depth=2, heads=4, patch_size=2, mlp_ratio=2.0, ref_connector_dim=16),
        vae=VAEConfig(channels=[16, 16], latent_channels=4),
        sampling=SamplingConfig(temperature=1.0, top_k=24, top_p=0.9),
        scheduler=SchedulerConfig(steps=4, shift=2.0, cfg_scale=2.5),
    )
    cfg.validate()
    return cfg


def nano() -> ModelConfig:
    """The shipped CPU model: 64 px, 8x8 FSQ codes (1000-code book), 16x16x4 latents."""
    cfg = ModelConfig(
        name="atelier-nano", variant="nano", image_size=64,
        text=TextTokenizerConfig(vocab_size=2048, max_prompt_tokens=32, template_edit=EDIT_TEMPLATE_PROMPT_FIRST),
        image_tokenizer=ImageTokenizerConfig(channels=[32, 48, 64], fsq_levels=[8, 5, 5, 5]),
        ar=ARConfig(layers=6, hidden_size=192, heads=6, kv_heads=2, head_dim=32, ffn_size=480, max_positions=192),
        connector=ConnectorConfig(out_dim=192),
        dit=DiTConfig(width=192, depth=6, heads=6, patch_size=2, mlp_ratio=2.0, ref_connector_dim=96, spatial_cond=True),
        vae=VAEConfig(channels=[32, 64], latent_channels=4, kl_weight=1e-6),
        # AR guidance 2 for text-to-image, none for edits: measured on the shipped model
        # (modeling/checkpoints/nano-cpu-arcfg-2026-11-26/README.md).
        sampling=SamplingConfig(temperature=1.0, top_k=100, top_p=0.95, cfg_scale=2.0, edit_cfg_scale=1.0,
                                edit_keep_unchanged=True, edit_temperature=0.5),
        scheduler=SchedulerConfig(steps=20, shift=2.0, cfg_scale=3.0),
    )
    cfg.validate()
    return cfg


def blip3o_next_like() -> ModelConfig:
    """Shapes of BLIP3o-NEXT (Qwen3-3B-ish AR, 27x27 TA-Tok codes from a 65,536 book, SANA-like DiT).

    Only to show the config scales; never instantiated in tests. FSQ levels 8*8*8*8*4*4 = 65,536 = TA-Tok's
    codebook size (TA-Tok is a VQ; an FSQ with that product is our analogue).
    Image tokenizer downsampling is 2**k; 27 codes per side needs image_size = 27 * 2**k, here 27*16 = 432.
    """
    cfg = ModelConfig(
        name="atelier-blip3o-next-like", variant="blip3o_next_like", image_size=432,
        text=TextTokenizerConfig(vocab_size=151_936, max_prompt_tokens=256),
        image_tokenizer=ImageTokenizerConfig(channels=[128, 256, 512, 512], fsq_levels=[8, 8, 8, 8, 4, 4]),
        ar=ARConfig(layers=36, hidden_size=2048, heads=16, kv_heads=8, head_dim=128, ffn_size=11008,
                    max_positions=4096, rope_theta=1_000_000.0, tie_embeddings=True),
        connector=ConnectorConfig(out_dim=2304),
        dit=DiTConfig(width=2240, depth=20, heads=20, patch_size=1, mlp_ratio=2.5, ref_connector_dim=1024),
        vae=VAEConfig(channels=[128, 256], latent_channels=32),
        sampling=SamplingConfig(temperature=1.0, top_k=1200, top_p=0.95),
        scheduler=SchedulerConfig(steps=30, shift=3.0, cfg_scale=2.0),
    )
    cfg.validate()
    return cfg


PRESETS = {"fixture": fixture, "nano": nano, "blip3o_next_like": blip3o_next_like}


def load_config(name_or_path: str) -> ModelConfig:
    """A preset name or a path to a JSON file written by ModelConfig.to_json()."""
    if name_or_path in PRESETS:
        return PRESETS[name_or_path]()
    p = Path(name_or_path)
    if not p.exists():
        raise FileNotFoundError(f"config {name_or_path!r} is neither a preset ({', '.join(PRESETS)}) nor a file")
    return ModelConfig.from_dict(json.loads(p.read_text()))
