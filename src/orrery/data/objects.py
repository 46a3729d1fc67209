"""Descriptions of what is in a scene, independent of the physics engine: the renderer, the
parser and the baselines all work from these, never from pymunk objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Shape = Literal["circle", "box", "polygon"]


@dataclass
class ObjectSpec:
    """One dynamic object. `id` is its value in the instance mask (1..N, 0 is background)."""

    id: int
    shape: Shape
    colour_id: int
    mass: float  # kg
    moment: float  # kg m^2
    radius: float = 0.0  # m, circles
    vertices: list[list[float]] = field(default_factory=list)  # m, body frame, boxes and polygons
    role: str = "object"  # "object", or "pusher" for an actuated body

    @property
    def size(self) -> float:
        """Characteristic size in metres: the radius, or the radius of the area-equivalent disc."""
        if self.shape == "circle":
            return self.radius
        return float(np.sqrt(polygon_area(np.asarray(self.vertices)) / np.pi))

    def to_dict(self) -> dict:
        d = {"id": self.id, "shape": self.shape, "colour_id": self.colour_id, "mass": self.mass,
             "moment": self.moment, "role": self.role, "size": self.size}
        if self.shape == "circle":
            d["radius"] = self.radius
        else:
            d["vertices"] = [list(map(float, v)) for v in self.vertices]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ObjectSpec:
        return cls(id=int(d["id"]), shape=d["shape"], colour_id=int(d["colour_id"]), mass=float(d["mass"]),
                   moment=float(d["moment"]), radius=float(d.get("radius", 0.0)),
                   vertices=[list(v) for v in d.get("vertices", [])], role=d.get("role", "object"))


@dataclass
class StaticSpec:
    """Fixed scenery: a thick segment (walls, floors, ramps) or a polygon, in world coordinates."""

    kind: Literal["segment", "polygon"]
    points: list[list[float]]  # segment: [a, b]; polygon: vertices
    radius: float = 0.0  # segment half-thickness, m

    def to_dict(self) -> dict:
        return {"kind": self.kind, "points": [list(map(float, p)) for p in self.points], "radius": self.radius}

    @classmethod
    def from_dict(cls, d: dict) -> StaticSpec:
        return cls(kind=d["kind"], points=[list(p) for p in d["points"]], radius=float(d.get("radius", 0.0)))


def polygon_area(vertices: np.ndarray) -> float:
    """Area of a simple polygon [V, 2] (shoelace)."""
    x, y = vertices[:, 0], vertices[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def box_vertices(width: float, height: float) -> list[list[float]]:
    """Vertices of a box centred on its body origin, counter-clockwise."""
    w, h = width / 2.0, height / 2.0
    return [[-w, -h], [w, -h], [w, h], [-w, h]]


def world_vertices(local: np.ndarray, position: np.ndarray, angle: float) -> np.ndarray:
    """Body-frame vertices [V, 2] placed at `position` rotated by `angle` (rad, counter-clockwise)."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return np.asarray(local, dtype=np.float64) @ rot.T + np.asarray(position, dtype=np.float64)
