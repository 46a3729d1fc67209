"""A small conditional U-Net over stacked frames (DIAMOND-style: context frames are channels).

The network is pure function approximation: it maps input channels [B, C_in, H, W] and a
conditioning vector [B, D] to output channels [B, C_out, H, W]. It knows nothing of diffusion;
`diffusion.denoiser` wraps it with the preconditioning."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def _groups(ch: int) -> int:
    for g in (8, 4, 2, 1):
        if ch % g == 0:
            return g
    return 1


class AdaGroupNorm(nn.Module):
    """GroupNorm whose scale and shift come from the conditioning vector (zero-initialised, so the
    block starts as a plain GroupNorm)."""

    def __init__(self, ch: int, cond_dim: int):
        super().__init__()
        self.norm = nn.GroupNorm(_groups(ch), ch, affine=False)
        self.mod = nn.Linear(cond_dim, 2 * ch)
        nn.init.zeros_(self.mod.weight)
        nn.init.zeros_(self.mod.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        scale, shift = self.mod(cond)[:, :, None, None].chunk(2, dim=1)
        return self.norm(x) * (1 + scale) + shift


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, cond_dim: int):
        super().__init__()
        self.n1 = AdaGroupNorm(c_in, cond_dim)
        self.c1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.n2 = AdaGroupNorm(c_out, cond_dim)
        self.c2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        nn.init.zeros_(self.c2.weight)  # residual branch starts at zero: stable first steps
        nn.init.zeros_(self.c2.bias)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.c1(F.silu(self.n1(x, cond)))
        h = self.c2(F.silu(self.n2(h, cond)))
        return self.skip(x) + h


class UNet(nn.Module):
    """channels: width per level (each level halves the resolution after the first);
    blocks: residual blocks per level. Input [B, in_ch, H, W] with H, W divisible by 2^(levels-1)."""

    def __init__(self, in_ch: int, out_ch: int, cond_dim: int, channels: tuple[int, ...] = (32, 64, 64),
                 blocks: int = 1):
        super().__init__()
        self.levels = len(channels)
        self.stem = nn.Conv2d(in_ch, channels[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        c = channels[0]
        skips = []
        for i, w in enumerate(channels):
            level = nn.ModuleList()
            for _ in range(blocks):
                level.append(ResBlock(c, w, cond_dim))
                c = w
            self.down.append(level)
            skips.append(c)
            if i < self.levels - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
        self.mid = nn.ModuleList([ResBlock(c, c, cond_dim), ResBlock(c, c, cond_dim)])
        self.up = nn.ModuleList()
        for i in reversed(range(self.levels)):
            level = nn.ModuleList()
            for j in range(blocks):
                level.append(ResBlock(c + (skips[i] if j == 0 else 0), channels[i], cond_dim))
                c = channels[i]
            self.up.append(level)
        self.out_norm = nn.GroupNorm(_groups(c), c)
        self.out = nn.Conv2d(c, out_ch, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        skips = []
        for i, level in enumerate(self.down):
            for blk in level:
                h = blk(h, cond)
            skips.append(h)
            if i < self.levels - 1:
                h = self.downsample[i](h)
        for blk in self.mid:
            h = blk(h, cond)
        for k, level in enumerate(self.up):
            i = self.levels - 1 - k
            if h.shape[-1] != skips[i].shape[-1]:
                h = F.interpolate(h, size=skips[i].shape[-2:], mode="nearest")
            h = torch.cat([h, skips[i]], dim=1)
            for blk in level:
                h = blk(h, cond)
        return self.out(F.silu(self.out_norm(h)))


def fourier_embedding(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Scalar per item [B] -> sinusoidal features [B, dim] (noise levels, augmentation levels)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=x.device, dtype=torch.float32) / half)
    ang = x.float()[:, None] * freqs[None] * 100.0
    return torch.cat([ang.cos(), ang.sin()], dim=1)
