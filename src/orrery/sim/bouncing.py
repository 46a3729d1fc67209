"""Small rendered clips with known object positions, for the tokenizer's tests and benchmark and
for training without a dataset folder: coloured discs moving ballistically (optional gravity) and
bouncing off the walls of the view, drawn with the project's `Renderer` (anti-aliased, sub-pixel)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.camera import Camera
from ..data.objects import ObjectSpec
from .palette import PALETTE
from .render import Renderer


@dataclass
class SyntheticClips:
    frames: np.ndarray  # uint8 [N, T, H, W, 3]
    positions: np.ndarray  # float64 [N, T, K, 2], pixel (column, row) of each disc centre
    colour_ids: np.ndarray  # int [N, K], palette id of each disc (distinct within a clip)
    radius_px: np.ndarray  # float64 [N, K]
    masks: np.ndarray  # uint8 [N, T, H, W], 0 = background, k = disc k (1-based, as in datasets)


def bouncing_discs(n_clips: int, n_frames: int, size: int, rng: np.random.Generator, *, n_objects: int = 3,
                   gravity: float = 0.0, fps: float = 15.0) -> SyntheticClips:
    """Render `n_clips` clips of `n_frames` frames of `size` px: discs of radius 5-10 % of the view
    with speeds up to one view per 2 s. Positions are exact (the renderer draws to 1/16 px)."""
    if n_objects > len(PALETTE):
        raise ValueError(f"n_objects: at most {len(PALETTE)} (palette size), got {n_objects}")
    cam = Camera(0.0, 0.0, 1.0, size)
    renderer = Renderer(cam)
    dt = 1.0 / fps
    frames = np.empty((n_clips, n_frames, size, size, 3), dtype=np.uint8)
    masks = np.empty((n_clips, n_frames, size, size), dtype=np.uint8)
    positions = np.empty((n_clips, n_frames, n_objects, 2))
    colours = np.empty((n_clips, n_objects), dtype=np.int64)
    radii = np.empty((n_clips, n_objects))
    for c in range(n_clips):
        ids = rng.choice(len(PALETTE), size=n_objects, replace=False)
        r = rng.uniform(0.05, 0.10, size=n_objects)
        objs = [ObjectSpec(id=k + 1, shape="circle", colour_id=int(ids[k]), mass=1.0, moment=1.0, radius=float(r[k]))
                for k in range(n_objects)]
        pos = rng.uniform(r[:, None], 1 - r[:, None], size=(n_objects, 2))
        vel = rng.uniform(-0.5, 0.5, size=(n_objects, 2))
        track = np.empty((n_frames, n_objects, 2))
        for t in range(n_frames):
            track[t] = pos
            vel[:, 1] -= gravity * dt
            pos = pos + vel * dt
            # Reflect off the walls so discs stay whole in view.
            low, high = r[:, None], 1 - r[:, None]
            below, above = pos < low, pos > high
            pos = np.where(below, 2 * low - pos, np.where(above, 2 * high - pos, pos))
            vel = np.where(below | above, -vel, vel)
        frames[c], masks[c] = renderer.render_clip(objs, track, np.zeros((n_frames, n_objects)))
        positions[c] = cam.to_pixel(track)
        colours[c] = ids
        radii[c] = r * cam.scale
    return SyntheticClips(frames, positions, colours, radii, masks)
