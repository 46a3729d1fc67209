"""Finite scalar quantisation (Mentzer et al., 2023): each latent dimension is bounded and rounded
to one of L_i levels, so the codebook is the product grid (e.g. [8, 5, 5, 5] -> 1000 codes) and
needs no learned embedding, no commitment loss and never collapses. Gradients pass the rounding
straight through."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class FSQ(nn.Module):
    """Quantise the last dimension of z (size d = len(levels)) onto the grid of `levels`.

    Codes are the rounded values scaled to [-1, 1]; an index is the mixed-radix number whose
    digits are the per-dimension level numbers (digit 0 = least significant)."""

    def __init__(self, levels: Sequence[int], eps: float = 1e-3):
        super().__init__()
        levels = [int(level) for level in levels]
        if not levels or any(level < 2 for level in levels):
            raise ValueError(f"levels: each must be >= 2, got {levels}")
        self.levels_list = levels
        self.eps = eps
        self.register_buffer("levels", torch.tensor(levels, dtype=torch.int64), persistent=False)
        basis = torch.cumprod(torch.tensor([1] + levels[:-1], dtype=torch.int64), dim=0)
        self.register_buffer("basis", basis, persistent=False)
        # Odd L: values in {-(L-1)/2 .. (L-1)/2}. Even L: {-L/2 .. L/2 - 1} (an offset grid).
        half = torch.tensor([lv // 2 for lv in levels], dtype=torch.float32)
        self.register_buffer("half_width", half, persistent=False)

    @property
    def dim(self) -> int:
        return len(self.levels_list)

    @property
    def codebook_size(self) -> int:
        return math.prod(self.levels_list)

    @property
    def bits_per_code(self) -> float:
        return math.log2(self.codebook_size)

    def bound(self, z: torch.Tensor) -> torch.Tensor:
        """Squash z [..., d] into the open interval whose rounding gives exactly L_i values."""
        lv = self.levels.to(z.dtype)
        half_l = (lv - 1) * (1 + self.eps) / 2
        offset = torch.where(self.levels % 2 == 0, 0.5, 0.0).to(z.dtype)
        shift = torch.atanh(offset / half_l)
        return torch.tanh(z + shift) * half_l - offset

    def quantize(self, z: torch.Tensor) -> torch.Tensor:
        """z [..., d] float -> codes [..., d] in [-1, 1] on the level grid (straight-through)."""
        if z.shape[-1] != self.dim:
            raise ValueError(f"z: last dimension must be {self.dim} (len(levels)), got {list(z.shape)}")
        bounded = self.bound(z.float())
        rounded = bounded + (torch.round(bounded) - bounded).detach()
        return (rounded / self.half_width).to(z.dtype)

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [..., d] on the grid -> indices int64 [...] in [0, codebook_size)."""
        digits = torch.round(codes.float() * self.half_width + self.half_width).to(torch.int64)
        return (digits * self.basis).sum(dim=-1)

    def indices_to_codes(self, indices: torch.Tensor) -> torch.Tensor:
        """indices int [...] -> codes float32 [..., d]."""
        if indices.dtype.is_floating_point:
            raise ValueError(f"indices: expected an integer tensor, got {indices.dtype}")
        if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= self.codebook_size):
            raise ValueError(f"indices: values must lie in [0, {self.codebook_size}), "
                             f"got [{int(indices.min())}, {int(indices.max())}]")
        digits = (indices.to(torch.int64).unsqueeze(-1) // self.basis) % self.levels
        return (digits.float() - self.half_width) / self.half_width

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z [..., d] -> (codes [..., d], indices [...])."""
        codes = self.quantize(z)
        return codes, self.codes_to_indices(codes.detach())
