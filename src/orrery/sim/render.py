"""Rendering of scenes to anti-aliased RGB frames and exact instance masks (OpenCV, sub-pixel).

The parser in `sim.parse` is this module's inverse: both use `Camera` for the geometry."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .camera import Camera
from .objects import ObjectSpec, StaticSpec, world_vertices
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

    def render(self, objects: Sequence[ObjectSpec], positions: np.ndarray, angles: np.ndarray,
               visible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One frame. positions [N, 2] m, angles [N] rad -> (rgb uint8 [H, W, 3], mask uint8 [H, W])."""
        img = self._background.copy()
        mask = np.zeros(img.shape[:2], dtype=np.uint8)
        scale = self.camera.scale
        for k, obj in enumerate(objects):
            if visible is not None and not visible[k]:
                continue
            colour = PALETTE[obj.colour_id].rgb
            if obj.shape == "circle":
                c = _fixed(self.camera.to_pixel(positions[k]))
                centre = (int(c[0]), int(c[1]))
                r = max(1, int(round(obj.radius * scale * _ONE)))
                cv2.circle(img, centre, r, colour, -1, cv2.LINE_AA, _SHIFT)
                cv2.circle(mask, centre, r, int(obj.id), -1, cv2.LINE_8, _SHIFT)
            else:
                pts = _fixed(self.camera.to_pixel(world_vertices(np.asarray(obj.vertices), positions[k], angles[k])))
                cv2.fillPoly(img, [pts], colour, cv2.LINE_AA, _SHIFT)
                cv2.fillPoly(mask, [pts], int(obj.id), cv2.LINE_8, _SHIFT)
        return img, mask

    def render_clip(self, objects: Sequence[ObjectSpec], positions: np.ndarray, angles: np.ndarray,
                    visible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A clip. positions [T, N, 2], angles [T, N] -> (frames uint8 [T, H, W, 3], masks uint8 [T, H, W])."""
        t = positions.shape[0]
        size = self.camera.size
        frames = np.empty((t, size, size, 3), dtype=np.uint8)
        masks = np.empty((t, size, size), dtype=np.uint8)
        for i in range(t):
            frames[i], masks[i] = self.render(objects, positions[i], angles[i],
                                              None if visible is None else visible[i])
        return frames, masks
