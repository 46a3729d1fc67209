"""Rendering of scenes to anti-aliased RGB frames and exact instance masks (OpenCV, sub-pixel).

The parser in `sim.parse` is this module's inverse: both use `Camera` for the geometry."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..data.camera import Camera
from ..data.objects import ObjectSpec, StaticSpec, world_vertices
from .palette import BACKGROUND, PALETTE, SCENERY

_SHIFT = 4  # OpenCV fixed-point bits: positions are drawn to 1/16 px
_ONE = 1 << _SHIFT


def _fixed(px: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(px) * _ONE).astype(np.int32)


class Renderer:
    """Draws objects (in id order, later ones in front) over scenery on a black background."""

    def __init__(self, camera: Camera, statics: Sequence[StaticSpec] = ()):
        self.camera = camera
        self.statics = list(statics)
        self._background = self._draw_background()

    def _draw_background(self) -> np.ndarray:
        size = self.camera.size
        img = np.empty((size, size, 3), dtype=np.uint8)
        img[:] = BACKGROUND
        for st in self.statics:
            pts = self.camera.to_pixel(np.asarray(st.points, dtype=np.float64))
            if st.kind == "segment":
                thick = max(1, int(round(2 * st.radius * self.camera.scale)))
                a, b = _fixed(pts[0]), _fixed(pts[1])
                cv2.line(img, tuple(int(v) for v in a), tuple(int(v) for v in b), SCENERY, thick, cv2.LINE_AA, _SHIFT)
            else:
                cv2.fillPoly(img, [_fixed(pts)], SCENERY, cv2.LINE_AA, _SHIFT)
        return img

    def background(self) -> np.ndarray:
        """The frame with no objects (background and scenery), uint8 [H, W, 3]; a copy."""
        return self._background.copy()

    def render(self, objects: Sequence[ObjectSpec], positions: np.ndarray, angles: np.ndarray,
               visible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One frame. positions [N, 2] m, angles [N] rad -> (rgb uint8 [H, W, 3], mask uint8 [H, W])."""
        frames, masks = self.render_clip(objects, positions[None], angles[None],
                                         None if visible is None else visible[None])
        return frames[0], masks[0]

    def render_clip(self, objects: Sequence[ObjectSpec], positions: np.ndarray, angles: np.ndarray,
                    visible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A clip. positions [T, N, 2] m, angles [T, N] rad -> (frames uint8 [T, H, W, 3], masks uint8 [T, H, W]).

        Objects are drawn in id order (later ones in front); the mask holds the front-most id."""
        t = positions.shape[0]
        size = self.camera.size
        frames = np.broadcast_to(self._background, (t, size, size, 3)).copy()
        masks = np.zeros((t, size, size), dtype=np.uint8)
        centres = _fixed(self.camera.to_pixel(positions))  # [T, N, 2] fixed point, projected once
        for k, obj in enumerate(objects):
            colour = PALETTE[obj.colour_id].rgb
            if obj.shape == "circle":
                r = max(1, int(round(obj.radius * self.camera.scale * _ONE)))
                for i in range(t):
                    if visible is not None and not visible[i, k]:
                        continue
                    c = (int(centres[i, k, 0]), int(centres[i, k, 1]))
                    cv2.circle(frames[i], c, r, colour, -1, cv2.LINE_AA, _SHIFT)
                    cv2.circle(masks[i], c, r, int(obj.id), -1, cv2.LINE_8, _SHIFT)
            else:
                local = np.asarray(obj.vertices, dtype=np.float64)
                for i in range(t):
                    if visible is not None and not visible[i, k]:
                        continue
                    px = self.camera.to_pixel(world_vertices(local, positions[i, k], angles[i, k]))
                    cv2.fillPoly(frames[i], [_fixed(px)], colour, cv2.LINE_AA, _SHIFT)
                    _fill_convex_mask(masks[i], px, int(obj.id))
        return frames, masks


def _fill_convex_mask(mask: np.ndarray, px: np.ndarray, value: int) -> None:
    """Set the pixels whose centres lie inside a convex polygon px [V, 2] (column, row).

    Exact centre sampling: OpenCV's fillPoly also takes edge pixels whose centres are outside,
    which moved a box's mask centroid up to 0.62 px at 64 px."""
    h, w = mask.shape
    c0, r0 = np.maximum(np.floor(px.min(axis=0)).astype(int), 0)
    c1, r1 = np.minimum(np.ceil(px.max(axis=0)).astype(int), [w - 1, h - 1])
    if c1 < c0 or r1 < r0:
        return
    cols = np.arange(c0, c1 + 1, dtype=np.float64)[None, :]
    rows = np.arange(r0, r1 + 1, dtype=np.float64)[:, None]
    a, b = px, np.roll(px, -1, axis=0)
    # the sign of the cross product of each edge with the pixel centre; inside = same side of all
    cross = [(b[j, 0] - a[j, 0]) * (rows - a[j, 1]) - (b[j, 1] - a[j, 1]) * (cols - a[j, 0]) for j in range(len(px))]
    inside = np.logical_and.reduce([c >= 0 for c in cross]) | np.logical_and.reduce([c <= 0 for c in cross])
    mask[r0:r1 + 1, c0:c1 + 1][inside] = value

