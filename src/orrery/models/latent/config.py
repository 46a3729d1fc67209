"""Config of the latent family (a DiT over a frozen continuous tokenizer's normalised latents).
The defaults are the `tiny` preset."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...config import ConfigError
from ..chunks import latent_context
from ..diffusion.denoiser import DenoiserConfig
from ..guide import GuideSettings


class LatentModelConfig(GuideSettings):
    context: int = Field(4, ge=1, description="Tc video frames in (latent frames when time_factor is 1)")
    time_factor: int = Field(1, ge=1, description="video frames per latent frame (the tokenizer's s_t); "
                                                  "set from the tokenizer")
    latent_channels: int = Field(16, ge=1, description="C, set from the tokenizer")
    grid: tuple[int, int] = Field((8, 8), description="latent h, w; set from the tokenizer and data")
    patch: int = Field(1, ge=1)
    d_model: int = Field(128, ge=1)
    depth: int = Field(4, ge=1)
    heads: int = Field(4, ge=1)
    cond_dim: int = Field(128, ge=1)
    action_dim: int = Field(0, ge=0, description="action values per latent step: A x time_factor (set from "
                                                 "the data)")
    text: bool = True
    text_dim: int = Field(64, ge=1)
    text_dropout: float = Field(0.1, ge=0, le=1)
    guidance: float = 1.0
    ctx_noise_max: float = Field(0.3, ge=0)
    ctx_noise_prob: float = Field(0.5, ge=0, le=1)
    ctx_noise_infer: float = Field(0.0, ge=0)
    head: Literal["diffusion", "hybrid", "mean"] = Field(
        "diffusion", description="diffusion: a DiT denoises the next latent frame; hybrid: a second DiT gives its "
                                 "deterministic mean (the last latent plus a change) and the diffusion DiT only the "
                                 "residual, as the pixel family's hybrid head; mean: that mean DiT alone (no "
                                 "diffusion, half the cost)")
    residual_temperature: float = Field(1.0, ge=0, description="hybrid: scales the residual's initial noise; 0 "
                                                               "returns the mean alone (no sampling)")
    unroll: int = Field(1, ge=1, description="hybrid, mean: also train the mean on steps 2..unroll fed its own "
                                             "predictions (needs latent frames that do not compress time)")
    denoiser: DenoiserConfig = Field(
        default_factory=lambda: DenoiserConfig(kind="edm", sigma_data=1.0, p_mean=-1.2, p_std=1.2),
        description="latents are normalised to unit variance, hence sigma_data 1")
    sampler: Literal["euler", "heun"] = "heun"
    steps: int = Field(4, ge=1)
    sigma_min: float = Field(0.002, gt=0)
    sigma_max: float = Field(20.0, gt=0)

    @property
    def latent_context(self) -> int:
        """Latent frames the DiT sees (`models.chunks.latent_context`: Tc when time_factor is 1)."""
        return latent_context(self.context, self.time_factor)

    @model_validator(mode="after")
    def _check(self):
        if self.sigma_max <= self.sigma_min:
            raise ConfigError("sigma_max", f"must exceed sigma_min ({self.sigma_min}), got {self.sigma_max}")
        if self.d_model % self.heads:
            raise ConfigError("heads", f"{self.heads} does not divide d_model {self.d_model}")
        return self
