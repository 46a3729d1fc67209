"""Building blocks of the causal video autoencoder. Every tensor is video-shaped [B, C, T, H, W].

Causality rule: no layer lets frame t see frame t' > t. Spatial layers act on each frame alone,
temporal convolutions pad only the past (with copies of the first frame, so frame 0 is encoded as
a still image), and normalisation statistics are taken per frame (a GroupNorm over [C, T, H, W]
would leak the future into the past through its mean)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


class FrameNorm(nn.GroupNorm):
    """GroupNorm with statistics per frame: [B, C, T, H, W] -> same."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[0], x.shape[2]
        y = super().forward(rearrange(x, "b c t h w -> (b t) c h w"))
        return rearrange(y, "(b t) c h w -> b c t h w", b=b, t=t)


def spatial_conv(c_in: int, c_out: int, k: int = 3, stride: int = 1) -> nn.Conv3d:
    """A per-frame k x k convolution."""
    return nn.Conv3d(c_in, c_out, (1, k, k), stride=(1, stride, stride), padding=(0, k // 2, k // 2))


class CausalTemporalConv(nn.Module):
    """A per-pixel convolution over time that sees frames t-k+1 .. t (past padded by frame 0)."""

    def __init__(self, c_in: int, c_out: int, k: int = 3):
        super().__init__()
        self.k = k
        self.conv = nn.Conv3d(c_in, c_out, (k, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.k > 1:
            x = F.pad(x, (0, 0, 0, 0, self.k - 1, 0), mode="replicate")
        return self.conv(x)


class ResBlock(nn.Module):
    """Factorised residual block: spatial 3x3 then causal temporal k; the output conv starts at zero
    so a freshly built network is the identity along its residual path (trains stably from step 0)."""

    def __init__(self, c_in: int, c_out: int, groups: int, k_t: int):
        super().__init__()
        self.norm1 = FrameNorm(groups, c_in)
        self.spatial = spatial_conv(c_in, c_out)
        self.norm2 = FrameNorm(groups, c_out)
        self.temporal = CausalTemporalConv(c_out, c_out, k_t)
        nn.init.zeros_(self.temporal.conv.weight)
        nn.init.zeros_(self.temporal.conv.bias)
        self.skip = nn.Identity() if c_in == c_out else nn.Conv3d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.spatial(F.silu(self.norm1(x)))
        h = self.temporal(F.silu(self.norm2(h)))
        return self.skip(x) + h


class FrameAttention(nn.Module):
    """Self-attention among the positions of each frame (causal by construction)."""

    def __init__(self, c: int, groups: int, heads: int = 1):
        super().__init__()
        self.heads = heads
        self.norm = FrameNorm(groups, c)
        self.qkv = nn.Conv3d(c, 3 * c, 1)
        self.out = nn.Conv3d(c, c, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        q, k, v = rearrange(self.qkv(self.norm(x)), "b (three n d) t h w -> three (b t) n (h w) d",
                            three=3, n=self.heads)
        y = F.scaled_dot_product_attention(q, k, v)
        y = rearrange(y, "(b t) n (h w) d -> b (n d) t h w", b=b, t=t, h=h, w=w)
        return x + self.out(y)


class Down(nn.Module):
    """Halve space (stride-2 3x3 conv) and/or time (causal: frames grouped in pairs after padding
    one copy of frame 0, so T = 1 + 2k -> 1 + k and latent j sees frames <= 2j)."""

    def __init__(self, c_in: int, c_out: int, space: bool, time: bool):
        super().__init__()
        self.time = time
        self.spatial = spatial_conv(c_in, c_out, 3, stride=2) if space else spatial_conv(c_in, c_out, 3)
        self.merge = nn.Conv3d(2 * c_out, c_out, 1) if time else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.spatial(x)
        if self.time:
            x = F.pad(x, (0, 0, 0, 0, 1, 0), mode="replicate")
            x = self.merge(rearrange(x, "b c (t two) h w -> b (two c) t h w", two=2))
        return x


class Up(nn.Module):
    """The inverse of `Down`: time 1 + k -> 1 + 2k (each latent frame emits two, the first of the
    first pair is dropped), space x2 by nearest-neighbour then 3x3 conv."""

    def __init__(self, c_in: int, c_out: int, space: bool, time: bool):
        super().__init__()
        self.space, self.time = space, time
        self.split = nn.Conv3d(c_in, 2 * c_in, 1) if time else None
        self.conv = spatial_conv(c_in, c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.time:
            x = rearrange(self.split(x), "b (two c) t h w -> b c (t two) h w", two=2)[:, :, 1:]
        if self.space:
            x = F.interpolate(x, scale_factor=(1, 2, 2), mode="nearest")
        return self.conv(x)


def _haar_filters(channels: int) -> torch.Tensor:
    """Orthonormal 2D Haar analysis filters for each channel: [4 * channels, 1, 2, 2]."""
    ll = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    lh = torch.tensor([[1.0, -1.0], [1.0, -1.0]])
    hl = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    hh = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    bank = torch.stack([ll, lh, hl, hh]) / 2.0  # [4, 2, 2]
    return bank.repeat(channels, 1, 1).unsqueeze(1)


class Stem(nn.Module):
    """Pixels -> a lower-resolution grid with more channels, losslessly and without learning:
    'haar' (one or two levels of an orthonormal Haar wavelet packet, which puts the low-pass
    image in its own channels) or 'patchify' (space-to-depth). [B, 3, T, H, W] -> [B, 3 f^2, T, H/f, W/f]."""

    def __init__(self, kind: str, factor: int, channels: int = 3):
        super().__init__()
        self.kind, self.factor, self.channels = kind, factor, channels
        self.levels = {2: 1, 4: 2}.get(factor, 0) if kind == "haar" else 0
        if kind == "haar":
            for lvl in range(self.levels):
                self.register_buffer(f"haar{lvl}", _haar_filters(channels * 4**lvl), persistent=False)

    @property
    def out_channels(self) -> int:
        return self.channels * self.factor**2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[0], x.shape[2]
        y = rearrange(x, "b c t h w -> (b t) c h w")
        if self.kind == "haar":
            for lvl in range(self.levels):
                f = getattr(self, f"haar{lvl}")
                y = F.conv2d(y, f, stride=2, groups=y.shape[1])
        else:
            y = F.pixel_unshuffle(y, self.factor)
        return rearrange(y, "(b t) c h w -> b c t h w", b=b, t=t)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        b, t = y.shape[0], y.shape[2]
        x = rearrange(y, "b c t h w -> (b t) c h w")
        if self.kind == "haar":
            for lvl in reversed(range(self.levels)):
                f = getattr(self, f"haar{lvl}")
                x = F.conv_transpose2d(x, f, stride=2, groups=x.shape[1] // 4)
        else:
            x = F.pixel_shuffle(x, self.factor)
        return rearrange(x, "(b t) c h w -> b c t h w", b=b, t=t)
