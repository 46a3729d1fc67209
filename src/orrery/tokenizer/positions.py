"""The physics check of a tokenizer: where are the objects in a reconstruction, compared with where
they are in the original? Until the evaluation part's `orrery.sim.parse.parse_objects` is used,
positions come from a colour centroid: each palette colour's coverage per pixel is estimated by
projecting the pixel on that colour (anti-aliased edges are blends with the black background), and
the coverage-weighted centroid is sub-pixel accurate for the un-occluded discs of the renderer."""

from __future__ import annotations

import numpy as np

from ..sim.palette import palette_array


def colour_coverage(frames: np.ndarray, colour_id: int, tol: float = 40.0, floor: float = 0.1) -> np.ndarray:
    """uint8 frames [..., H, W, 3] -> coverage in [0, 1] [..., H, W] of palette colour `colour_id`.

    A pixel p counts as a * c (c the colour, a in [0, 1]) when it lies within `tol` (RGB units) of
    that line; other pixels (other objects, scenery, noise far from the colour) count zero. Coverage
    below `floor` counts zero too, and the rest is rescaled to [0, 1]: otherwise the faint noise of
    a lossy reconstruction over the whole dark background would pull every centroid to the middle."""
    c = palette_array()[colour_id].astype(np.float32)
    p = frames.astype(np.float32)
    a = np.clip((p @ c) / float(c @ c), 0.0, 1.0)
    residual = np.linalg.norm(p - a[..., None] * c, axis=-1)
    a = np.clip((a - floor) / (1.0 - floor), 0.0, 1.0)
    return np.where(residual < tol, a, 0.0)


def colour_centroids(frames: np.ndarray, colour_ids: np.ndarray, min_coverage: float = 2.0) -> np.ndarray:
    """frames uint8 [T, H, W, 3], colour ids [K] -> centroids [T, K, 2] as pixel (column, row);
    NaN where a colour covers less than `min_coverage` pixels in a frame."""
    t, h, w, _ = frames.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.full((t, len(colour_ids), 2), np.nan)
    for k, cid in enumerate(colour_ids):
        a = colour_coverage(frames, int(cid)).astype(np.float64)  # [T, H, W]
        mass = a.sum(axis=(1, 2))
        ok = mass >= min_coverage
        out[ok, k, 0] = (a[ok] * cols).sum(axis=(1, 2)) / mass[ok]
        out[ok, k, 1] = (a[ok] * rows).sum(axis=(1, 2)) / mass[ok]
    return out


def position_errors(original: np.ndarray, recon: np.ndarray, colour_ids: np.ndarray) -> dict[str, float]:
    """Distance (px) between colour centroids in the original and the reconstruction of one clip
    (frames uint8 [T, H, W, 3] each). Returns mean and max over found objects, and the fraction of
    objects found in the original that the reconstruction lost entirely."""
    a = colour_centroids(original, colour_ids)
    b = colour_centroids(recon, colour_ids)
    found = ~np.isnan(a[..., 0])
    both = found & ~np.isnan(b[..., 0])
    d = np.linalg.norm(a - b, axis=-1)[both]
    return {"mean_px": float(d.mean()) if d.size else float("nan"),
            "max_px": float(d.max()) if d.size else float("nan"),
            "lost": float(1 - both.sum() / max(1, found.sum())),
            "n": int(both.sum())}
