"""Few-step samplers over the variance-exploding view x = x0 + sigma * eps. All share one
signature, `sample_x(denoise, x, sigmas, generator) -> x0`, where `denoise(x, sigma[B]) -> x0_hat`
and `sigmas` decreases to 0, so callers swap them freely."""

from __future__ import annotations

from collections.abc import Callable

import torch

Denoise = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def karras_sigmas(n: int, sigma_min: float, sigma_max: float, rho: float = 7.0,
                  device: torch.device | str = "cpu") -> torch.Tensor:
    """n noise levels from sigma_max down to sigma_min (Karras spacing), then a final 0: [n + 1]."""
    if n < 1:
        raise ValueError(f"sampler steps must be >= 1, got {n}")
    ramp = torch.linspace(0, 1, n, device=device)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sig = (hi + ramp * (lo - hi)) ** rho if n > 1 else torch.tensor([sigma_max], device=device)
    return torch.cat([sig, sig.new_zeros(1)])


def _sigma(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    return s.expand(x.shape[0])


@torch.no_grad()
def sample_euler(denoise: Denoise, x: torch.Tensor, sigmas: torch.Tensor,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """First-order ODE steps; one network call per step."""
    for i in range(len(sigmas) - 1):
        d = (x - denoise(x, _sigma(x, sigmas[i]))) / sigmas[i]
        x = x + d * (sigmas[i + 1] - sigmas[i])
    return x


@torch.no_grad()
def sample_heun(denoise: Denoise, x: torch.Tensor, sigmas: torch.Tensor,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Second-order (Heun) steps; the last step to sigma = 0 is Euler (2n - 1 network calls)."""
    for i in range(len(sigmas) - 1):
        s, s_next = sigmas[i], sigmas[i + 1]
        d = (x - denoise(x, _sigma(x, s))) / s
        x_next = x + d * (s_next - s)
        if s_next > 0:
            d2 = (x_next - denoise(x_next, _sigma(x, s_next))) / s_next
            x_next = x + (d + d2) / 2 * (s_next - s)
        x = x_next
    return x


SAMPLERS = {"euler": sample_euler, "heun": sample_heun}
