"""Losses on the objects of a clip, read from the dataset's instance masks (`KEY.masks.npz`: 0 =
background, k = object k).

Why: a whole-frame loss is dominated by the black background; a disc of radius 3 px is 0.7 % of a
64 px frame, so a tokenizer that compresses time learns the discs' shapes (edges and SSIM pay for
those) and lets their colours drift to grey, and the parser, which identifies objects by palette
colour, then finds none (docs/tokenizer.md). These terms weigh every object equally, however small:

- `colour_loss`: per object and frame, L1 between the mean colour of the reconstruction and of the
  original inside the object's mask (what the parser reads), averaged over the objects present;
- `object_l1`: per object and frame, the mean L1 over the object's pixels (colour and shape),
  averaged over the objects present.

Both take videos [B, 3, T, H, W] in [-1, 1] and masks uint8/int [B, T, H, W]; both are zero when
no object is in view."""

from __future__ import annotations

import torch

MIN_AREA = 2.0  # px: slivers at the border of the view carry no colour worth matching


def object_masks(masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """masks [B, T, H, W] -> (one-hot float [B, K, T, H, W] of objects 1..K, area [B, K, T])."""
    if masks.ndim != 4:
        raise ValueError(f"masks: expected [B, T, H, W], got {list(masks.shape)}")
    m = masks.long()
    k = int(m.max()) if m.numel() else 0
    ids = torch.arange(1, k + 1, device=m.device).view(1, k, 1, 1, 1)
    onehot = (m[:, None] == ids).float()
    return onehot, onehot.sum(dim=(-2, -1))


def _present(area: torch.Tensor) -> torch.Tensor:
    return area >= MIN_AREA


def _check(recon: torch.Tensor, target: torch.Tensor, masks: torch.Tensor) -> None:
    if recon.shape != target.shape or recon.ndim != 5:
        raise ValueError(f"videos: expected two [B, C, T, H, W] of one shape, got {list(recon.shape)} "
                         f"and {list(target.shape)}")
    b, _, t, h, w = target.shape
    if tuple(masks.shape) != (b, t, h, w):
        raise ValueError(f"masks: expected [{b}, {t}, {h}, {w}] to match the video, got {list(masks.shape)}")


def mean_colours(video: torch.Tensor, onehot: torch.Tensor, area: torch.Tensor) -> torch.Tensor:
    """Mean colour of each object in each frame: [B, C, T, H, W] -> [B, K, T, C] (0 where absent)."""
    sums = torch.einsum("bcthw,bkthw->bktc", video, onehot)
    return sums / area.clamp_min(1.0)[..., None]


def colour_loss(recon: torch.Tensor, target: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Mean over objects present (area >= MIN_AREA px) of |mean colour of recon - of target| (L1 over
    the colour channels, averaged); a scalar."""
    _check(recon, target, masks)
    onehot, area = object_masks(masks.to(recon.device))
    present = _present(area)
    if not bool(present.any()):
        return recon.new_zeros(())
    diff = (mean_colours(recon, onehot, area) - mean_colours(target, onehot, area)).abs().mean(-1)
    return diff[present].mean()


def object_l1(recon: torch.Tensor, target: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Mean over objects present of the mean L1 over the object's pixels; a scalar."""
    _check(recon, target, masks)
    onehot, area = object_masks(masks.to(recon.device))
    present = _present(area)
    if not bool(present.any()):
        return recon.new_zeros(())
    err = (recon - target).abs().mean(1)  # [B, T, H, W]
    per = torch.einsum("bthw,bkthw->bkt", err, onehot) / area.clamp_min(1.0)
    return per[present].mean()
