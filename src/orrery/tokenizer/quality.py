"""Image quality of a reconstruction, per clip: PSNR (dB, peak 255) and SSIM (per frame, Gaussian
window, averaged), on uint8 frames exactly as a viewer would see them."""

from __future__ import annotations

import numpy as np
import torch

from .losses import ssim
from .model import to_video


def psnr(original: np.ndarray, recon: np.ndarray) -> np.ndarray:
    """uint8 [N, T, H, W, 3] x2 -> PSNR per clip [N] in dB (inf for identical clips)."""
    if original.shape != recon.shape:
        raise ValueError(f"psnr: shapes differ, {list(original.shape)} vs {list(recon.shape)}")
    err = (original.astype(np.float64) - recon.astype(np.float64)) ** 2
    mse = err.reshape(len(err), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(255.0**2 / mse)


@torch.no_grad()
def ssim_clips(original: np.ndarray, recon: np.ndarray) -> np.ndarray:
    """uint8 [N, T, H, W, 3] x2 -> mean SSIM per clip [N]."""
    if original.shape != recon.shape:
        raise ValueError(f"ssim: shapes differ, {list(original.shape)} vs {list(recon.shape)}")
    return np.array([float(ssim(to_video(original[i:i + 1]).double(), to_video(recon[i:i + 1]).double()))
                     for i in range(len(original))])
