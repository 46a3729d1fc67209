"""A DiT (Peebles & Xie) over latent patches, with adaLN-Zero conditioning.

Like `unet.UNet`, a pure network: input channels [B, C_in, h, w] (the noisy target latent stacked
with the context latents) and a conditioning vector [B, D] -> output channels [B, C_out, h, w].
Every block's residual branches are gated by zero-initialised modulation, so the network starts as
the identity on its tokens and the output layer starts at zero."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale[:, None]) + shift[:, None]


class DiTBlock(nn.Module):
    def __init__(self, d: int, heads: int, cond_dim: int):
        super().__init__()
        self.n1 = nn.LayerNorm(d, elementwise_affine=False)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.n2 = nn.LayerNorm(d, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 6 * d))
        nn.init.zeros_(self.ada[1].weight)  # adaLN-Zero: gates start closed
        nn.init.zeros_(self.ada[1].bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        s1, sc1, g1, s2, sc2, g2 = self.ada(cond).chunk(6, dim=1)
        h = _modulate(self.n1(x), s1, sc1)
        x = x + g1[:, None] * self.attn(h, h, h, need_weights=False)[0]
        return x + g2[:, None] * self.mlp(_modulate(self.n2(x), s2, sc2))


class DiT(nn.Module):
    """in_ch -> out_ch on a latent grid of size `grid` (h, w), patches of `patch` x `patch`."""

    def __init__(self, in_ch: int, out_ch: int, cond_dim: int, grid: tuple[int, int], patch: int = 1,
                 d_model: int = 128, depth: int = 4, heads: int = 4):
        super().__init__()
        h, w = grid
        if h % patch or w % patch:
            raise ValueError(f"latent grid {h}x{w} is not divisible by patch {patch}")
        self.patch, self.grid, self.out_ch = patch, grid, out_ch
        self.embed = nn.Linear(in_ch * patch * patch, d_model)
        self.pos = nn.Parameter(torch.randn(1, (h // patch) * (w // patch), d_model) * 0.02)
        self.blocks = nn.ModuleList(DiTBlock(d_model, heads, cond_dim) for _ in range(depth))
        self.norm = nn.LayerNorm(d_model, elementwise_affine=False)
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 2 * d_model))
        self.out = nn.Linear(d_model, out_ch * patch * patch)
        for lin in (self.ada[1], self.out):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        p = self.patch
        h, w = x.shape[-2:]
        if (h, w) != tuple(self.grid):
            raise ValueError(f"latent grid {h}x{w}: this DiT was built for {self.grid[0]}x{self.grid[1]}")
        tokens = rearrange(x, "b c (h p) (w q) -> b (h w) (c p q)", p=p, q=p)
        t = self.embed(tokens) + self.pos
        for blk in self.blocks:
            t = blk(t, cond)
        shift, scale = self.ada(cond).chunk(2, dim=1)
        t = self.out(_modulate(self.norm(t), shift, scale))
        return rearrange(t, "b (h w) (c p q) -> b c (h p) (w q)", h=h // p, w=w // p, p=p, q=p)
