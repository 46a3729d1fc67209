"""Configs of the pixel families. The defaults are the `tiny` preset: what a reader sees here is
what `orrery train world --model pixel` (or `deterministic`) trains; the recipe's other presets
change only numbers.

`MeanConfig` is the deterministic frame predictor (the `deterministic` family, and the mean of
the pixel family's hybrid head); `PixelModelConfig` adds the diffusion head."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...config import ConfigError
from ..diffusion.denoiser import DenoiserConfig
from ..guide import GuideSettings


class MeanConfig(GuideSettings):
    """The last Tc frames (stacked as channels), actions and text -> the next frame's mean."""

    context: int = Field(4, ge=1, description="Tc frames in")
    channels: tuple[int, ...] = Field((32, 64, 64), min_length=1, description="U-Net widths per level")
    blocks: int = Field(1, ge=1)
    warp: bool = Field(True, description="mean = last frame warped by a predicted flow, plus a change")
    mean_loss: Literal["mse", "l1"] = "mse"
    motion_weight: float = Field(4.0, ge=0, description="extra loss weight on pixels that change")
    unroll: int = Field(2, ge=1, description="also train on steps 2..unroll fed the model's own predictions")
    cond_dim: int = Field(64, ge=1)
    action_dim: int = Field(0, ge=0, description="A; set from the data at training time")
    text: bool = True
    text_dim: int = Field(64, ge=1)
    text_dropout: float = Field(0.1, ge=0, le=1)
    guidance: float = Field(1.0, description="classifier-free guidance scale for text (1 = off)")
    ctx_noise_max: float = Field(0.1, ge=0, description="training: context noise std ~ U(0, max), pixels in [-1, 1]")
    ctx_noise_prob: float = Field(0.5, ge=0, le=1, description="share of training items with noisy context")
    ctx_noise_infer: float = Field(0.0, ge=0, description="context noise std assumed (and added) at rollout")
    hflip: bool = Field(False, description="mirror augmentation; ignored when actions exist")

    @property
    def levels(self) -> int:
        """Downsamplings of the deepest U-Net: frame sides must be multiples of 2 ** levels."""
        return len(self.channels) - 1


class PixelModelConfig(MeanConfig):
    """The pixel family: a hybrid (deterministic mean + diffusion residual) or pure diffusion head."""

    head: Literal["hybrid", "diffusion"] = Field(
        "hybrid", description="hybrid: a deterministic mean plus a diffusion residual; diffusion: frames alone")
    residual_channels: tuple[int, ...] = Field((16, 32, 32), min_length=1,
                                               description="hybrid: the residual denoiser's widths")
    denoiser: DenoiserConfig = Field(
        default_factory=lambda: DenoiserConfig(kind="edm", sigma_data=0.1, p_mean=-2.0, p_std=1.2),
        description="hybrid residuals are small (sigma_data 0.1); the `tiny-diffusion` preset sets 0.5")
    sampler: Literal["euler", "heun"] = "euler"
    steps: int = Field(3, ge=1, description="sampler steps")
    sigma_min: float = Field(0.002, gt=0)
    sigma_max: float = Field(1.0, gt=0)
    residual_temperature: float = Field(1.0, ge=0, description="hybrid: scales the residual's initial noise")

    @model_validator(mode="after")
    def _check(self):
        if self.sigma_max <= self.sigma_min:
            raise ConfigError("sigma_max", f"must exceed sigma_min ({self.sigma_min}), got {self.sigma_max}")
        return self

    @property
    def levels(self) -> int:
        return max(len(self.channels), len(self.residual_channels)) - 1
