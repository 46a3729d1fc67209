"""Latent normalisation: the per-channel mean and standard deviation of a continuous tokenizer's
latents over data, stored in the model's buffers (and so in the checkpoint and its sidecar), so
that a latent diffusion model works on unit-variance latents."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from .model import VideoTokenizer, to_video


@torch.no_grad()
def fit_latent_stats(model: VideoTokenizer, batches: Iterable[np.ndarray | torch.Tensor]) -> tuple[list, list]:
    """Accumulate exact (float64) per-channel moments of `model.encode` over uint8 batches
    [B, T, H, W, 3]; write them into the model's buffers and return (mean, std) as lists."""
    device = model.latent_mean.device
    n = 0
    s1 = torch.zeros(model.cfg.code_dim, dtype=torch.float64)
    s2 = torch.zeros_like(s1)
    for frames in batches:
        z = model.encode(to_video(frames).to(device)).double().cpu()  # [B, C, t, h, w]
        s1 += z.sum(dim=(0, 2, 3, 4))
        s2 += (z * z).sum(dim=(0, 2, 3, 4))
        n += z.numel() // z.shape[1]
    if n == 0:
        raise ValueError("fit_latent_stats: no batches")
    mean = s1 / n
    std = (s2 / n - mean**2).clamp_min(1e-12).sqrt()
    model.latent_mean.copy_(mean.float())
    model.latent_std.copy_(std.float())
    return mean.tolist(), std.tolist()
