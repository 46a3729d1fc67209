"""Reconstruction losses that need no downloaded network: L1, L2, SSIM and an image-gradient term.
All take videos [B, C, T, H, W] in [-1, 1]; SSIM is computed per frame with an 11-tap Gaussian."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange

_C1 = (0.01 * 2.0) ** 2  # SSIM constants for a data range of 2 ([-1, 1])
_C2 = (0.03 * 2.0) ** 2


def _gaussian_window(size: int = 11, sigma: float = 1.5, device=None, dtype=None) -> torch.Tensor:
    x = torch.arange(size, device=device, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return (g / g.sum()).to(dtype or torch.float32)


def ssim_map(x: torch.Tensor, y: torch.Tensor, window: int = 11) -> torch.Tensor:
    """Per-frame SSIM map of videos [B, C, T, H, W] in [-1, 1] -> [B, C, T, H', W'] (valid region;
    frames smaller than the window use a window of the frame's size)."""
    b, t = x.shape[0], x.shape[2]
    size = min(window, x.shape[-1], x.shape[-2])
    size -= (size + 1) % 2  # keep the window odd
    g = _gaussian_window(size, 1.5 * size / 11, x.device, x.dtype)
    c = x.shape[1]
    xf = rearrange(x, "b c t h w -> (b t) c h w")
    yf = rearrange(y, "b c t h w -> (b t) c h w")
    wh = g.view(1, 1, -1, 1).repeat(c, 1, 1, 1)
    ww = g.view(1, 1, 1, -1).repeat(c, 1, 1, 1)

    def blur(z: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(z, wh, groups=c), ww, groups=c)

    mx, my = blur(xf), blur(yf)
    sxx = blur(xf * xf) - mx * mx
    syy = blur(yf * yf) - my * my
    sxy = blur(xf * yf) - mx * my
    s = ((2 * mx * my + _C1) * (2 * sxy + _C2)) / ((mx * mx + my * my + _C1) * (sxx + syy + _C2))
    return rearrange(s, "(b t) c h w -> b c t h w", b=b, t=t)


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of each video: [B, C, T, H, W] x2 -> [B]. Always in float32 or wider: the local
    variances are differences of nearly equal blurred moments, which bf16 autocast turns into
    zeros and negative numbers (and the loss into inf)."""
    dtype = torch.promote_types(x.dtype, torch.float32)
    with torch.autocast(device_type=x.device.type, enabled=False):
        return ssim_map(x.to(dtype), y.to(dtype)).mean(dim=(1, 2, 3, 4))


def gradient_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """L1 between the horizontal and vertical finite differences: sharp edges matter for where an
    object is, more than its flat interior."""
    dx = (x[..., :, 1:] - x[..., :, :-1]) - (y[..., :, 1:] - y[..., :, :-1])
    dy = (x[..., 1:, :] - x[..., :-1, :]) - (y[..., 1:, :] - y[..., :-1, :])
    return dx.abs().mean() + dy.abs().mean()


def reconstruction_loss(recon: torch.Tensor, target: torch.Tensor, *, l1: float, l2: float, ssim_w: float,
                        gradient: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Weighted sum of the terms with non-zero weight -> (total, {term: value (detached)})."""
    terms: dict[str, torch.Tensor] = {}
    total = recon.new_zeros(())
    if l1:
        terms["l1"] = (recon - target).abs().mean()
        total = total + l1 * terms["l1"]
    if l2:
        terms["l2"] = F.mse_loss(recon, target)
        total = total + l2 * terms["l2"]
    if ssim_w:
        terms["ssim"] = ssim(recon, target).mean()
        total = total + ssim_w * (1 - terms["ssim"])
    if gradient:
        terms["gradient"] = gradient_loss(recon, target)
        total = total + gradient * terms["gradient"]
    return total, {k: v.detach() for k, v in terms.items()}
