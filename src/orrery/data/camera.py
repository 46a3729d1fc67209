"""Part of the clip record: the map between world coordinates (metres, y up) and pixel coordinates (x right, y down).

Pixel coordinates follow OpenCV: integer coordinates are pixel *centres*, so the pixel in row i,
column j covers [j - 0.5, j + 0.5] x [i - 0.5, i + 0.5]. The mean of a mask's (column, row)
indices is then directly comparable with `Camera.to_pixel`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """A square view of the world rectangle [x0, x0 + extent] x [y0, y0 + extent] on `size` pixels."""

    x0: float
    y0: float
    extent: float  # metres covered by the image side
    size: int  # pixels per side

    @property
    def scale(self) -> float:
        """Pixels per metre."""
        return self.size / self.extent

    def to_pixel(self, xy: np.ndarray) -> np.ndarray:
        """World positions [..., 2] in metres -> pixel coordinates [..., 2] (column, row)."""
        xy = np.asarray(xy, dtype=np.float64)
        s = self.scale
        col = (xy[..., 0] - self.x0) * s - 0.5
        row = (self.y0 + self.extent - xy[..., 1]) * s - 0.5
        return np.stack([col, row], axis=-1)

    def to_world(self, px: np.ndarray) -> np.ndarray:
        """Pixel coordinates [..., 2] (column, row) -> world positions [..., 2] in metres."""
        px = np.asarray(px, dtype=np.float64)
        s = self.scale
        x = (px[..., 0] + 0.5) / s + self.x0
        y = self.y0 + self.extent - (px[..., 1] + 0.5) / s
        return np.stack([x, y], axis=-1)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Camera:
        return cls(x0=float(d["x0"]), y0=float(d["y0"]), extent=float(d["extent"]), size=int(d["size"]))

    def resized(self, size: int) -> Camera:
        """The same view on another number of pixels."""
        return Camera(self.x0, self.y0, self.extent, int(size))
