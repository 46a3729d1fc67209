"""Uniform motion: balls glide in straight lines at constant velocity (no gravity, no friction).

x(t) = x0 + v t for every ball. Paths are chosen so that no two balls meet and every ball stays
in view for `HORIZON` seconds, so the law holds over the whole clip."""

from __future__ import annotations

import math

import numpy as np

from ...config import ConfigError
from ..params import F, I, ParamSpace, Region
from ..scenario import BuildContext, Scenario
from .placement import disc_mass

HORIZON = 3.0  # s: how long paths stay apart and in view (clips are usually 2-3 s)
RESTARTS = 50
SWEPT_MAX = 1.3


def _min_gap(p: np.ndarray, v: np.ndarray, q: np.ndarray, u: np.ndarray, horizon: float) -> float:
    """Smallest distance between two points moving linearly over [0, horizon]."""
    dp, dv = p - q, v - u
    vv = float(dv @ dv)
    t = 0.0 if vv == 0.0 else min(max(-float(dp @ dv) / vv, 0.0), horizon)
    return float(np.linalg.norm(dp + dv * t))


class UniformMotion(Scenario):
    name = "uniform_motion"
    summary = "Balls move in straight lines at constant speed: with no force there is no acceleration."
    gravity = 0.0
    space = ParamSpace([
        I("count", 1, 3, min=1, max=6, doc="number of balls"),
        F("speed", 0.5, 2.5, min=0.0, max=20.0, unit="m/s", doc="speed of every ball"),
        F("radius", 0.6, 0.9, min=0.05, max=2.0, unit="m", doc="ball radius"),
    ])
    templates = (
        "{objects_cap} {move} in straight lines at a constant speed of {speed:.1f} m/s.",
        "With no gravity and no friction, {objects} keep{s} {their} velocity: uniform motion.",
        "{count_cap} ball{plural} drift{s} across the view without speeding up, slowing down or turning.",
    )

    def validate(self, path: str, train: dict[str, Region], ood: dict[str, Region]) -> None:
        for regions in (train, ood):
            speed = max(b for a, b in (regions.get("speed") or train["speed"]).intervals)
            radius = max(b for a, b in (regions.get("radius") or train["radius"]).intervals)
            room = (self.extent - 2 * radius - 0.4) * math.sqrt(2)
            if speed * HORIZON > room:
                raise ConfigError(f"{path}.speed", f"a ball at {speed} m/s travels {speed * HORIZON:.1f} m in "
                                f"{HORIZON} s, more than the {room:.1f} m the view can hold")
            n = max(b for a, b in (regions.get("count") or train["count"]).intervals)
            # the area the paths sweep, over the free area: layouts were always found up to 1.25 and
            # never above 1.35 (measured over count 3-6, radius 0.6-1.2 m, speed 0.5-2.5 m/s)
            swept = n * (2 * radius + 0.2) * (speed * HORIZON + 2 * radius) / (self.extent - 2 * radius) ** 2
            if swept > SWEPT_MAX:
                raise ConfigError(f"{path}.count", f"{int(n)} balls of radius {radius} m at {speed} m/s need "
                                f"{swept:.2f} times the free area for paths that never cross (at most "
                                f"{SWEPT_MAX}); use fewer, smaller or slower balls")

    @staticmethod
    def _paths(rng: np.random.Generator, n: int, r: float, speed: float, lo: float, hi: float):
        starts: list[np.ndarray] = []
        vels: list[np.ndarray] = []
        for _ in range(n):
            for _ in range(400):
                x = lo + (hi - lo) * rng.random(2)
                a = rng.uniform(0, 2 * math.pi)
                v = speed * np.array([math.cos(a), math.sin(a)])
                end = x + v * HORIZON
                if np.any(end < lo) or np.any(end > hi):
                    continue
                if all(_min_gap(x, v, q, u, HORIZON) > 2 * r + 0.2 for q, u in zip(starts, vels, strict=True)):
                    starts.append(x)
                    vels.append(v)
                    break
            else:
                return None
        return starts, vels

    def build(self, p: dict, ctx: BuildContext):
        w = self.new_world(p, ctx)
        n, r, speed = p["count"], p["radius"], p["speed"]
        lo, hi = self.origin[0] + r + 0.2, self.origin[0] + self.extent - r - 0.2
        for _ in range(RESTARTS):  # sequential placement can paint itself into a corner: start over
            paths = self._paths(ctx.rng, n, r, speed, lo, hi)
            if paths is not None:
                break
        else:
            raise ValueError(f"could not lay out {n} non-crossing paths (radius {r:.2f} m, speed {speed:.2f} m/s) "
                             f"in {RESTARTS} attempts; use fewer, smaller or slower balls")
        starts, vels = paths
        for x, v, colour in zip(starts, vels, ctx.colours(["circle"] * n), strict=True):
            w.add_circle(tuple(x), r, disc_mass(r), colour, velocity=tuple(v))
        return w
