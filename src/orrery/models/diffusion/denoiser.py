"""The maths of denoising, independent of any network: preconditioning, training noise levels and
the training loss, for two parametrisations behind one interface.

Both expose the variance-exploding view the samplers use: a noisy state x = x0 + sigma * eps and a
denoiser D(x; sigma) ~ E[x0 | x]. The network is any callable `net(x_in, noise) -> out` on tensors
[B, C, H, W] with `noise` [B]; conditioning (context frames, actions, text) is bound by the caller.

- EDM (Karras et al. 2022), the default: D = c_skip x + c_out F(c_in x, ln(sigma)/4), sigma drawn
  log-normal, loss = |F - (x0 - c_skip x) / c_out|^2 (EDM's weighting, made uniform).
- Rectified flow: x_t = (1 - t) x0 + t eps, F predicts eps - x0, t logit-normal. In the VE view
  t = sigma / (1 + sigma) and x_t = x / (1 + sigma), so the same samplers drive it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from pydantic import Field

from ...config import Config

Net = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class DenoiserConfig(Config):
    """No defaults for the numbers: they depend on what is denoised, so each family states its own
    (whole frames in [-1, 1]: sigma_data ~0.5; residuals of a mean: ~0.1; unit-variance latents: 1)."""

    kind: Literal["edm", "flow"] = "edm"
    sigma_data: float = Field(gt=0, description="std of the clean signal")
    p_mean: float = Field(description="training noise: ln(sigma) ~ N(p_mean, p_std) (EDM); logit(t) (flow)")
    p_std: float = Field(gt=0)


def _b(v: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, 1, 1, 1)


class Denoiser:
    """Wraps a network into D(x; sigma) and gives its training loss."""

    def __init__(self, cfg: DenoiserConfig):
        self.cfg = cfg

    def sample_sigma(self, n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
        z = torch.randn(n, generator=generator, device=device) * self.cfg.p_std + self.cfg.p_mean
        if self.cfg.kind == "edm":
            return z.exp()
        t = torch.sigmoid(z).clamp(1e-4, 1 - 1e-4)
        return t / (1 - t)

    def denoise(self, net: Net, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """x = x0 + sigma * eps [B, C, H, W], sigma [B] -> estimate of x0."""
        sd = self.cfg.sigma_data
        if self.cfg.kind == "edm":
            s = _b(sigma)
            c_in = 1 / (s**2 + sd**2).sqrt()
            c_skip = sd**2 / (s**2 + sd**2)
            c_out = s * sd / (s**2 + sd**2).sqrt()
            return c_skip * x + c_out * net(c_in * x, sigma.log() / 4)
        t = sigma / (1 + sigma)
        x_t = x / _b(1 + sigma)
        return x_t - _b(t) * net(x_t, t)

    def loss(self, net: Net, x0: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Per-item training loss [B] at random noise levels."""
        b = x0.shape[0]
        sigma = self.sample_sigma(b, generator, x0.device)
        eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        if self.cfg.kind == "edm":
            sd = self.cfg.sigma_data
            s = _b(sigma)
            x = x0 + s * eps
            c_in = 1 / (s**2 + sd**2).sqrt()
            c_skip = sd**2 / (s**2 + sd**2)
            c_out = s * sd / (s**2 + sd**2).sqrt()
            target = (x0 - c_skip * x) / c_out
            out = net(c_in * x, sigma.log() / 4)
        else:
            t = sigma / (1 + sigma)
            x_t = (1 - _b(t)) * x0 + _b(t) * eps
            target = eps - x0
            out = net(x_t, t)
        return ((out.float() - target.float()) ** 2).flatten(1).mean(1)
