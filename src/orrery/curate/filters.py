"""Clip filters. Each measures one score (kept in the manifest whether the clip passes or not) and
rejects the clip when the score is outside the configured threshold.

Scores, all on the output frames:
  duration_s   clip length in seconds
  letterbox    fraction of the source frame in black bars (measured before the bars are cropped)
  pixel_std    mean over frames of the luma standard deviation (blank frames have ~0)
  motion       mean optical-flow magnitude, px/frame (OpenCV DIS, ultrafast preset)
  camera_dx/dy median flow: the global (camera) motion, px/frame
  sharpness    mean Laplacian variance of the luma (low = blurry)
  luma         mean luma in [0, 255]; clipped: fraction of pixels at 0-2 or 253-255"""

from __future__ import annotations

import cv2
import numpy as np

from .config import FilterConfig
from .stages import ClipItem, Stage


def luma(frames: np.ndarray) -> np.ndarray:
    """uint8 [T, H, W, 3] RGB -> float32 [T, H, W] BT.601 luma."""
    return frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def flow_stats(frames: np.ndarray, max_pairs: int = 16) -> tuple[float, float, float]:
    """Mean flow magnitude and median flow (dx, dy) in px/frame over up to `max_pairs` consecutive pairs."""
    if len(frames) < 2:
        return 0.0, 0.0, 0.0
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    pairs = np.unique(np.linspace(0, len(frames) - 2, min(max_pairs, len(frames) - 1)).round().astype(int))
    mags, dxs, dys = [], [], []
    for i in pairs:
        flow = dis.calc(grey[i], grey[i + 1], None)  # [H, W, 2]
        mags.append(float(np.linalg.norm(flow, axis=-1).mean()))
        dxs.append(float(np.median(flow[..., 0])))
        dys.append(float(np.median(flow[..., 1])))
    return float(np.mean(mags)), float(np.median(dxs)), float(np.median(dys))


def sharpness(frames: np.ndarray, n: int = 8) -> float:
    idx = np.unique(np.linspace(0, len(frames) - 1, min(n, len(frames))).round().astype(int))
    return float(np.mean([cv2.Laplacian(cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()
                          for i in idx]))


class DurationFilter(Stage):
    name = "duration"

    def __init__(self, min_s: float):
        self.min_s = min_s

    def process(self, item: ClipItem):
        if item.scores["duration_s"] + 1e-9 < self.min_s:
            return item.reject(self.name, "too_short", f"{item.scores['duration_s']:.2f} s < {self.min_s:g} s")
        return item


class LetterboxFilter(Stage):
    name = "letterbox"

    def __init__(self, cfg: FilterConfig):
        self.max = cfg.letterbox_max

    def process(self, item: ClipItem):
        if item.scores["letterbox"] > self.max:
            return item.reject(self.name, "letterbox", f"{item.scores['letterbox']:.0%} of the frame is bars")
        return item


class BlankFilter(Stage):
    name = "blank"

    def __init__(self, cfg: FilterConfig):
        self.min_std = cfg.static_min_std

    def process(self, item: ClipItem):
        std = float(luma(item.frames).reshape(len(item.frames), -1).std(1).mean())
        item.scores["pixel_std"] = std
        if std < self.min_std:
            return item.reject(self.name, "blank", f"luma std {std:.2f} < {self.min_std:g}")
        return item


class ExposureFilter(Stage):
    name = "exposure"

    def __init__(self, cfg: FilterConfig):
        self.cfg = cfg

    def process(self, item: ClipItem):
        y = luma(item.frames)
        mean = float(y.mean())
        clipped = float(((y <= 2.5) | (y >= 252.5)).mean())
        item.scores["luma"], item.scores["clipped"] = mean, clipped
        if mean < self.cfg.exposure_min:
            return item.reject(self.name, "underexposed", f"mean luma {mean:.1f} < {self.cfg.exposure_min:g}")
        if mean > self.cfg.exposure_max:
            return item.reject(self.name, "overexposed", f"mean luma {mean:.1f} > {self.cfg.exposure_max:g}")
        if clipped > self.cfg.clipped_max:
            return item.reject(self.name, "clipped", f"{clipped:.0%} of pixels clipped")
        return item


class MotionFilter(Stage):
    name = "motion"

    def __init__(self, cfg: FilterConfig):
        self.cfg = cfg

    def process(self, item: ClipItem):
        mag, dx, dy = flow_stats(item.frames)
        item.scores.update(motion=mag, camera_dx=dx, camera_dy=dy)
        if mag < self.cfg.motion_min:
            return item.reject(self.name, "static", f"mean flow {mag:.3f} px/frame < {self.cfg.motion_min:g}")
        if mag > self.cfg.motion_max:
            return item.reject(self.name, "too_much_motion", f"mean flow {mag:.2f} px/frame > {self.cfg.motion_max:g}")
        return item


class BlurFilter(Stage):
    """The absolute floor here; the dataset-percentile floor is applied once all clips are scored."""

    name = "blur"

    def __init__(self, cfg: FilterConfig):
        self.min = cfg.blur_min

    def process(self, item: ClipItem):
        s = sharpness(item.frames)
        item.scores["sharpness"] = s
        if s < self.min:
            return item.reject(self.name, "blurry", f"Laplacian variance {s:.1f} < {self.min:g}")
        return item


def percentile_floor(values: list[float], percentile: float) -> float:
    """The dataset-calibrated blur threshold: the given percentile of the sharpness of all clips."""
    if percentile <= 0 or not values:
        return -np.inf
    return float(np.percentile(np.asarray(values, np.float64), percentile))
