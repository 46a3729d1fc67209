"""Typed configuration of a video tokenizer: architecture, quantiser and loss weights, with named
size presets (`tiny`, `small`, `base`) that differ only in numbers, and compression presets
written time x height x width ("1x4x4", "4x4x4", "4x8x8"). Configs are `orrery.config.Config`
models (unknown keys and wrong types fail with the field path). The defaults are the `tiny` preset."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import ConfigDict, model_validator

from ..config import Config, ConfigError, merge, validate

COMPRESSIONS = ("1x4x4", "4x4x4", "4x8x8")
LOSS_WEIGHTS = ("l1_weight", "l2_weight", "ssim_weight", "gradient_weight", "adversarial_weight", "colour_weight",
                "object_weight")


def parse_compression(v: str) -> tuple[int, int, int]:
    """'4x8x8' -> (4, 8, 8); factors must be powers of two, height = width."""
    parts = str(v).lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise ConfigError("compression", f"expected TxHxW like '4x8x8' (e.g. {', '.join(COMPRESSIONS)}), got {v!r}")
    t, h, w = (int(p) for p in parts)
    if h != w:
        raise ConfigError("compression", f"height and width factors must be equal, got {v!r}")
    for name, f in (("time", t), ("space", h)):
        if f & (f - 1):
            raise ConfigError("compression", f"{name} factor must be a power of two, got {f} in {v!r}")
    return t, h, w


class TokenizerConfig(Config):
    """Everything that defines a tokenizer's network and its training loss (not the optimiser)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["continuous", "fsq"] = "continuous"
    compression: str = "1x4x4"  # time x height x width
    stem: Literal["haar", "patchify"] = "haar"
    stem_factor: int = 2  # spatial factor of the stem (haar: 2 or 4; patchify: any power of two)
    channels: int = 16  # width of the first stage
    channel_mult: tuple[int, ...] = (1, 2, 2)  # width multipliers per stage (last one repeats)
    blocks: int = 1  # residual blocks per stage
    mid_blocks: int = 1  # residual blocks on each side of the bottleneck attention
    temporal_kernel: int = 3  # causal temporal kernel (frames)
    attention: bool = False  # per-frame self-attention at the bottleneck
    groups: int = 4  # GroupNorm groups (statistics are per frame: see layers.FrameNorm)
    latent_channels: int = 16  # continuous latent channels C
    fsq_levels: tuple[int, ...] = (8, 5, 5, 5)  # finite scalar quantisation levels per dimension
    # Loss weights. The adversarial term is a hook: set weight > 0 and attach a discriminator
    # (`VideoTokenizer.adversary`) to use it; no discriminator ships with orrery yet.
    l1_weight: float = 1.0
    l2_weight: float = 0.0
    ssim_weight: float = 0.2
    gradient_weight: float = 0.2
    adversarial_weight: float = 0.0
    # Object terms (`object_loss`): they need the dataset's instance masks, which training then
    # loads. colour: L1 of each object's mean colour; object: L1 over each object's pixels; every
    # object weighs the same however small (docs/tokenizer.md: without them the temporally
    # compressing tokenizers keep shapes and lose colours).
    colour_weight: float = 0.0
    object_weight: float = 0.0

    @model_validator(mode="after")
    def _check(self):
        parse_compression(self.compression)
        if not self.fsq_levels or any(level < 2 for level in self.fsq_levels):
            raise ConfigError("fsq_levels", f"each level must be >= 2, at least one, got {list(self.fsq_levels)}")
        if not self.channel_mult or any(m < 1 for m in self.channel_mult):
            raise ConfigError("channel_mult", f"multipliers must be >= 1, got {list(self.channel_mult)}")
        for name in ("channels", "blocks", "temporal_kernel", "groups", "latent_channels", "stem_factor"):
            if getattr(self, name) < 1:
                raise ConfigError(name, f"must be >= 1, got {getattr(self, name)}")
        if self.mid_blocks < 0:
            raise ConfigError("mid_blocks", f"must be >= 0, got {self.mid_blocks}")
        if self.stem_factor & (self.stem_factor - 1) or self.stem_factor < 2:
            raise ConfigError("stem_factor", f"must be a power of two >= 2, got {self.stem_factor}")
        if self.stem == "haar" and self.stem_factor not in (2, 4):
            raise ConfigError("stem_factor", f"the haar stem supports 2 or 4, got {self.stem_factor}")
        if self.space_factor < self.stem_factor:
            raise ConfigError("compression", f"space factor {self.space_factor} is below stem_factor "
                                             f"{self.stem_factor}")
        for w in self.widths:
            if w % self.groups:
                raise ConfigError("groups", f"{self.groups} does not divide stage width {w}")
        for name in LOSS_WEIGHTS:
            if getattr(self, name) < 0:
                raise ConfigError(name, f"must be >= 0, got {getattr(self, name)}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    # Derived numbers ---------------------------------------------------------------------------
    @property
    def needs_masks(self) -> bool:
        """Whether the loss reads instance masks (an object term is weighted)."""
        return self.colour_weight > 0 or self.object_weight > 0

    @property
    def time_factor(self) -> int:
        return parse_compression(self.compression)[0]

    @property
    def space_factor(self) -> int:
        return parse_compression(self.compression)[1]

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
    "tiny": {},  # the class defaults
    "small": {"channels": 64, "channel_mult": (1, 2, 4), "blocks": 2, "mid_blocks": 1, "groups": 8,
              "attention": True},
    "base": {"channels": 128, "channel_mult": (1, 2, 4, 4), "blocks": 2, "mid_blocks": 2, "groups": 32,
             "attention": True},
}


def make_config(preset: str = "tiny", overrides: dict[str, Any] | None = None,
                path: str = "model") -> TokenizerConfig:
    """A size preset with overrides applied, validated; errors name the field path."""
    if preset not in PRESETS:
        raise ConfigError("preset", f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return config_from_dict(merge(PRESETS[preset], overrides or {}), path)


def config_from_dict(d: dict[str, Any], path: str = "model") -> TokenizerConfig:
    return validate(TokenizerConfig, d, path)
