"""Typed configuration of a video tokenizer: architecture, quantiser and loss weights, with named
size presets (`tiny`, `small`, `base`) that differ only in numbers, and compression presets
written time x height x width ("1x4x4", "4x4x4", "4x8x8")."""

from __future__ import annotations

import math
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

COMPRESSIONS = ("1x4x4", "4x4x4", "4x8x8")


class ConfigError(ValueError):
    """A tokenizer config is invalid; the message names the field path and the reason."""


class TokenizerConfig(BaseModel):
    """Everything that defines a tokenizer's network and its training loss (not the optimiser)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["continuous", "fsq"] = "continuous"
    compression: str = "1x4x4"  # time x height x width
    stem: Literal["haar", "patchify"] = "haar"
    stem_factor: int = 2  # spatial factor of the stem (haar: 2 or 4; patchify: any power of two)
    channels: int = 32  # width of the first stage
    channel_mult: tuple[int, ...] = (1, 2, 2)  # width multipliers per stage (last one repeats)
    blocks: int = 1  # residual blocks per stage
    mid_blocks: int = 1  # residual blocks on each side of the bottleneck attention
    temporal_kernel: int = 3  # causal temporal kernel (frames)
    attention: bool = False  # per-frame self-attention at the bottleneck
    groups: int = 8  # GroupNorm groups (statistics are per frame: see layers.FrameNorm)
    latent_channels: int = 16  # continuous latent channels C
    fsq_levels: tuple[int, ...] = (8, 5, 5, 5)  # finite scalar quantisation levels per dimension
    # Loss weights. The adversarial term is a hook: set weight > 0 and attach a discriminator
    # (`VideoTokenizer.adversary`) to use it; no discriminator ships with orrery yet.
    l1_weight: float = 1.0
    l2_weight: float = 0.0
    ssim_weight: float = 0.2
    gradient_weight: float = 0.2
    adversarial_weight: float = 0.0

    @field_validator("compression")
    @classmethod
    def _compression(cls, v: str) -> str:
        parts = v.lower().split("x")
        if len(parts) != 3 or not all(p.isdigit() and int(p) >= 1 for p in parts):
            raise ValueError(f"expected TxHxW like '4x8x8' (one of {', '.join(COMPRESSIONS)}), got {v!r}")
        t, h, w = (int(p) for p in parts)
        if h != w:
            raise ValueError(f"height and width factors must be equal, got {v!r}")
        for name, f in (("time", t), ("space", h)):
            if f & (f - 1):
                raise ValueError(f"{name} factor must be a power of two, got {f} in {v!r}")
        return f"{t}x{h}x{w}"

    @field_validator("fsq_levels")
    @classmethod
    def _levels(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(level < 2 for level in v):
            raise ValueError(f"each FSQ level must be >= 2 and there must be at least one, got {list(v)}")
        return v

    @field_validator("channel_mult")
    @classmethod
    def _mult(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(m < 1 for m in v):
            raise ValueError(f"multipliers must be >= 1, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> TokenizerConfig:
        positive = ("channels", "blocks", "temporal_kernel", "groups", "latent_channels", "stem_factor")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if self.mid_blocks < 0:
            raise ValueError(f"mid_blocks: must be >= 0, got {self.mid_blocks}")
        if self.stem_factor & (self.stem_factor - 1) or self.stem_factor < 2:
            raise ValueError(f"stem_factor: must be a power of two >= 2, got {self.stem_factor}")
        if self.stem == "haar" and self.stem_factor not in (2, 4):
            raise ValueError(f"stem_factor: the haar stem supports 2 or 4, got {self.stem_factor}")
        if self.space_factor < self.stem_factor:
            raise ValueError(f"compression: space factor {self.space_factor} is below stem_factor {self.stem_factor}")
        for w in self.widths:
            if w % self.groups:
                raise ValueError(f"groups: {self.groups} does not divide stage width {w}")
        for name in ("l1_weight", "l2_weight", "ssim_weight", "gradient_weight", "adversarial_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        return self

    # Derived numbers ---------------------------------------------------------------------------
    @property
    def time_factor(self) -> int:
        return int(self.compression.split("x")[0])

    @property
    def space_factor(self) -> int:
        return int(self.compression.split("x")[1])

    @property
    def space_stages(self) -> int:
        """Stride-2 spatial downsamplings after the stem."""
        return int(math.log2(self.space_factor // self.stem_factor))

    @property
    def time_stages(self) -> int:
        """Causal stride-2 temporal downsamplings."""
        return int(math.log2(self.time_factor))

    @property
    def stages(self) -> int:
        return max(self.space_stages, self.time_stages)

    @property
    def widths(self) -> list[int]:
        """Channel width of each stage, and of the bottleneck last (len = stages + 1)."""
        mult = list(self.channel_mult) + [self.channel_mult[-1]] * (self.stages + 1)
        return [self.channels * m for m in mult[: self.stages + 1]]

    @property
    def code_dim(self) -> int:
        """Channels of the latent grid: C (continuous) or the number of FSQ levels."""
        return self.latent_channels if self.kind == "continuous" else len(self.fsq_levels)

    @property
    def codebook_size(self) -> int:
        return math.prod(self.fsq_levels) if self.kind == "fsq" else 0


PRESETS: dict[str, dict[str, Any]] = {
    # trains in minutes on one CPU core at 32-64 px
    "tiny": {"channels": 16, "channel_mult": (1, 2, 2), "blocks": 1, "mid_blocks": 1, "groups": 4},
    "small": {"channels": 64, "channel_mult": (1, 2, 4), "blocks": 2, "mid_blocks": 1, "groups": 8,
              "attention": True},
    "base": {"channels": 128, "channel_mult": (1, 2, 4, 4), "blocks": 2, "mid_blocks": 2, "groups": 32,
             "attention": True},
}


def _format_error(err: ValidationError, prefix: str) -> str:
    lines = []
    for e in err.errors():
        path = ".".join([prefix, *(str(p) for p in e["loc"])]) if e["loc"] else prefix
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = f"unknown key (known: {', '.join(TokenizerConfig.model_fields)})"
        lines.append(f"{path}: {msg}")
    return "; ".join(lines)


def make_config(preset: str = "tiny", overrides: dict[str, Any] | None = None,
                prefix: str = "tokenizer") -> TokenizerConfig:
    """A preset with overrides applied, validated; errors name the field path."""
    if preset not in PRESETS:
        raise ConfigError(f"{prefix}.preset: unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return config_from_dict({**PRESETS[preset], **(overrides or {})}, prefix=prefix)


def config_from_dict(d: dict[str, Any], prefix: str = "tokenizer") -> TokenizerConfig:
    if not isinstance(d, dict):
        raise ConfigError(f"{prefix}: expected a mapping, got {type(d).__name__}")
    try:
        return TokenizerConfig(**d)
    except ValidationError as err:
        raise ConfigError(_format_error(err, prefix)) from None


def parse_overrides(items: list[str], prefix: str = "tokenizer") -> dict[str, Any]:
    """['channels=32', 'fsq_levels=[8,5,5,5]'] -> {'channels': 32, 'fsq_levels': [8, 5, 5, 5]}.
    Values are read as YAML scalars/lists (safe_load: never code)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{prefix}: override {item!r} is not key=value")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise ConfigError(f"{prefix}.{key.strip()}: cannot read value {value!r} ({e})") from None
    return out
