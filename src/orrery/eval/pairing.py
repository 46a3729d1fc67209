"""Pairing parsed tracks with ground-truth tracks: colour is an object's identity in pixels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..sim.parse import Tracks


@dataclass
class Pair:
    """Predicted and true arrays over the same rows [T] and the true objects' columns [K]."""

    pred: Tracks
    true: Tracks
    cols: np.ndarray  # [K] column of each true object in `pred`, -1 where pred does not track it

    @property
    def future(self) -> int:
        return self.true.future

    @property
    def horizon(self) -> int:
        return self.true.n_frames - self.true.future

    def take(self, name: str) -> np.ndarray:
        """pred.<name> re-indexed to the true columns (NaN / False where not tracked)."""
        arr = getattr(self.pred, name)
        out_shape = (arr.shape[0], len(self.cols)) + arr.shape[2:]
        fill = False if arr.dtype == bool else np.nan
        out = np.full(out_shape, fill, dtype=arr.dtype if arr.dtype == bool else np.float64)
        ok = self.cols >= 0
        out[:, ok] = arr[:, self.cols[ok]]
        return out

    @property
    def trusted(self) -> np.ndarray:
        """bool [T, K]: rows where the true centroid is exactly what a parser can see."""
        return self.true.complete if self.true.complete is not None else self.true.visible


def pair(pred: Tracks, true: Tracks) -> Pair:
    if pred.n_frames != true.n_frames:
        raise ValueError(f"tracks: prediction has {pred.n_frames} frames, truth {true.n_frames}")
    cols = np.array([int(np.flatnonzero(pred.colour_ids == c)[0]) if (pred.colour_ids == c).any() else -1
                     for c in true.colour_ids], dtype=np.int64)
    return Pair(pred, true, cols)


def nanmean(x, axis=None):
    """Mean ignoring NaN; NaN (no warning) where nothing is left."""
    x = np.asarray(x, dtype=np.float64)
    n = np.sum(~np.isnan(x), axis=axis)
    s = np.nansum(x, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan) if np.ndim(s) else (float(s / n) if n else float("nan"))
