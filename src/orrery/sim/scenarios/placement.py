"""Placing several objects in a view without overlap, and the shapes scenarios share.

Placement is rejection sampling with the clip's own generator, so a clip's layout depends only on
its seed; a layout that cannot be found raises a ValueError naming what did not fit."""

from __future__ import annotations

import math

import numpy as np

from ...data.camera import Camera

DENSITY = 1.0  # kg/m^2: masses are areas, so a bigger object is visibly heavier


def disc_mass(radius: float) -> float:
    return DENSITY * math.pi * radius**2


def box_mass(width: float, height: float) -> float:
    return DENSITY * width * height


def regular_polygon(n_sides: int, radius: float, rotation: float) -> list[list[float]]:
    """A convex regular polygon [n_sides, 2] of circumradius `radius`, centred on the origin."""
    a = rotation + 2 * math.pi * np.arange(n_sides) / n_sides
    return np.stack([radius * np.cos(a), radius * np.sin(a)], axis=-1).tolist()


def polygon_mass(vertices: list[list[float]]) -> float:
    v = np.asarray(vertices)
    x, y = v[:, 0], v[:, 1]
    return DENSITY * float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def place_discs(rng: np.random.Generator, camera: Camera, radii: list[float], margin: float = 0.1,
                region: tuple[float, float, float, float] | None = None, tries: int = 2000) -> np.ndarray:
    """Centres [N, 2] (m) for bounding discs of `radii`, inside `region` (x0, y0, x1, y1; default the
    camera view) with `margin` between discs and to the region's border."""
    x0, y0, x1, y1 = region or (camera.x0, camera.y0, camera.x0 + camera.extent, camera.y0 + camera.extent)
    centres: list[np.ndarray] = []
    for k, r in enumerate(radii):
        lo = np.array([x0 + r + margin, y0 + r + margin])
        hi = np.array([x1 - r - margin, y1 - r - margin])
        if np.any(hi < lo):
            raise ValueError(f"object {k} of radius {r:.2f} m does not fit in the region {(x0, y0, x1, y1)}")
        for _ in range(tries):
            c = lo + (hi - lo) * rng.random(2)
            if all(np.linalg.norm(c - o) >= r + radii[j] + margin for j, o in enumerate(centres)):
                centres.append(c)
                break
        else:
            raise ValueError(f"could not place {len(radii)} objects of radii up to {max(radii):.2f} m "
                             f"without overlap in {tries} tries; use fewer or smaller objects")
    return np.array(centres).reshape(len(radii), 2)


def pick_shapes(rng: np.random.Generator, n: int, choices: tuple[str, ...], required: str | None) -> list[str]:
    """n shapes drawn from `choices`; if `required` is given, at least one object has that shape."""
    shapes = [choices[int(i)] for i in rng.integers(len(choices), size=n)]
    if required is not None:
        if required not in choices:
            raise ValueError(f"this scenario makes only {list(choices)}, not the required shape {required!r}")
        if required not in shapes:
            shapes[int(rng.integers(n))] = required
    return shapes
