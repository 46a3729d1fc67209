"""Image metrics, secondary to the physics ones: PSNR, SSIM, per-object mask IoU (as Cosmos
reports it) and Physics-IQ-style IoU of motion masks.

Frame metrics take `(pred_frames, true_frames, meta)` with frames uint8 [H + 1, S, S, 3] whose row 0
is the last context frame (the same in both; motion masks need a frame before the first predicted
one) and return float [H] per predicted frame, or a float per clip."""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ..sim.parse import Tracks
from .pairing import nanmean

MOTION_THRESHOLD = 30  # summed |RGB| change that counts as motion; well above encoding noise (~6)


def psnr(pred_frames: np.ndarray, true_frames: np.ndarray, meta: dict) -> np.ndarray:
    """[H] dB (scikit-image's peak_signal_noise_ratio, data range 255), capped at 100 for
    identical frames."""
    out = []
    for p, t in zip(pred_frames[1:], true_frames[1:], strict=True):
        if np.array_equal(p, t):
            out.append(100.0)
            continue
        out.append(min(float(peak_signal_noise_ratio(t, p, data_range=255)), 100.0))
    return np.array(out)


def ssim(pred_frames: np.ndarray, true_frames: np.ndarray, meta: dict) -> np.ndarray:
    """[H] structural similarity, 1 = identical: scikit-image's structural_similarity with the
    settings of Wang et al. 2004 (Gaussian window, sigma 1.5, population covariance), over the
    three colour channels, so the figures compare with published ones."""
    return np.array([structural_similarity(t, p, channel_axis=-1, data_range=255, gaussian_weights=True,
                                           sigma=1.5, use_sample_covariance=False)
                     for p, t in zip(pred_frames[1:], true_frames[1:], strict=True)], dtype=np.float64)


def motion_masks(frames: np.ndarray) -> np.ndarray:
    """frames uint8 [T, S, S, 3] -> bool [T - 1, S, S]: where frame t+1 differs from frame t."""
    d = np.abs(frames[1:].astype(np.int16) - frames[:-1].astype(np.int16)).sum(-1)
    return d > MOTION_THRESHOLD


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else float("nan")


def motion_iou_spatial(pred_frames: np.ndarray, true_frames: np.ndarray, meta: dict) -> float:
    """IoU of where anything moved at any time over the horizon (Physics-IQ's spatial IoU)."""
    return _iou(motion_masks(pred_frames).any(0), motion_masks(true_frames).any(0))


def motion_iou_spatiotemporal(pred_frames: np.ndarray, true_frames: np.ndarray, meta: dict) -> np.ndarray:
    """[H] IoU of where things moved at each step (Physics-IQ's spatiotemporal IoU, per frame;
    NaN where neither moved)."""
    mp, mt = motion_masks(pred_frames), motion_masks(true_frames)
    return np.array([_iou(a, b) for a, b in zip(mp, mt, strict=True)])


def mask_iou(pred: Tracks, true_masks: np.ndarray, meta: dict) -> np.ndarray:
    """[H] mean over objects of IoU(parsed mask of the object's colour, true instance mask).

    `pred` parsed with keep_weights; true_masks uint8 [T, S, S] over the same rows as `pred`."""
    from .truth import tracked_objects

    pm = pred.masks()[pred.future:]  # [H, S, S, K]
    true_masks = true_masks[pred.future:]
    out = np.full((pm.shape[0], 0), np.nan)
    cols = []
    for _, o in tracked_objects(meta)[0]:
        hit = np.flatnonzero(pred.colour_ids == o.colour_id)
        tm = true_masks == o.id
        p = pm[..., hit[0]] if hit.size else np.zeros_like(tm)
        cols.append([_iou(p[t], tm[t]) for t in range(tm.shape[0])])
    if cols:
        out = np.array(cols).T
    return nanmean(out, axis=1) if out.shape[1] else np.full(pm.shape[0], np.nan)
