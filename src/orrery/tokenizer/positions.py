"""The physics check of a tokenizer: where are the objects in a reconstruction, compared with where
they are in the original? Two ways to find them, chosen explicitly:

- 'parse': the project's object parser, `orrery.sim.parse.parse_objects` (knows the scenery
  background, unmixes touching objects): the one to use on dataset clips.
- 'centroid': a self-contained colour centroid on a black background: each palette colour's coverage
  per pixel is estimated by projecting the pixel on that colour (anti-aliased edges are blends with
  black), and the coverage-weighted centroid is sub-pixel accurate for un-occluded discs."""

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


def object_positions(frames: np.ndarray, colour_ids: np.ndarray, method: str = "centroid",
                     camera=None, background: np.ndarray | None = None) -> np.ndarray:
    """frames uint8 [T, H, W, 3] -> positions [T, K, 2] px (column, row), NaN where not found."""
    if method == "centroid":
        return colour_centroids(frames, colour_ids)
    if method == "parse":
        from ..data.camera import Camera
        from ..sim.parse import parse_objects

        cam = camera or Camera(0.0, 0.0, 1.0, frames.shape[1])  # pixel positions do not depend on it
        return parse_objects(frames, cam, background, colour_ids=colour_ids).centroid_px
    raise ValueError(f"method: {method!r} is not one of 'parse', 'centroid'")


def position_errors(original: np.ndarray, recon: np.ndarray, colour_ids: np.ndarray, method: str = "centroid",
                    camera=None, background: np.ndarray | None = None) -> dict[str, float]:
    """Distance (px) between object positions found in the original and in the reconstruction of
    one clip (frames uint8 [T, H, W, 3] each). Returns mean and max over objects found in both, and
    the fraction of objects found in the original that the reconstruction lost entirely."""
    a = object_positions(original, colour_ids, method, camera, background)
    b = object_positions(recon, colour_ids, method, camera, background)
    found = ~np.isnan(a[..., 0])
    both = found & ~np.isnan(b[..., 0])
    d = np.linalg.norm(a - b, axis=-1)[both]
    return {"mean_px": float(d.mean()) if d.size else float("nan"),
            "max_px": float(d.max()) if d.size else float("nan"),
            "lost": float(1 - both.sum() / max(1, found.sum())),
            "n": int(both.sum())}
