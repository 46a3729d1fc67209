"""Pendulum: a ball on a massless rigid rod swings about a fixed pivot under gravity.

For small amplitudes the period is T = 2 pi sqrt(L / g); larger amplitudes lengthen it
(T ~ T0 (1 + a^2/16 + ...)). The rod acts through the ball's centre, so the ball does not spin
and the motion is that of a point mass."""

from __future__ import annotations

import math

from ...config import ConfigError
from ..params import F, ParamSpace, Region
from ..scenario import BuildContext, Scenario
from .placement import disc_mass

PIVOT_HEIGHT = 9.0  # m above the view's bottom


def _hi(regions: dict[str, Region], train: dict[str, Region], name: str) -> float:
    return max(b for a, b in (regions.get(name) or train[name]).intervals)


class Pendulum(Scenario):
    name = "pendulum"
    summary = "A ball on a rod swings about a pivot; small swings have period 2 pi sqrt(L/g)."
    space = ParamSpace([
        F("length", 1.5, 4.0, min=0.1, max=8.5, unit="m", doc="rod length, pivot to ball centre"),
        F("amplitude", 10.0, 60.0, min=0.0, max=90.0, unit="deg", doc="release angle from the vertical"),
        F("gravity", 9.81, 9.81, min=0.1, max=50.0, unit="m/s^2", doc="gravitational acceleration"),
        F("radius", 0.5, 0.7, min=0.05, max=1.0, unit="m", doc="ball radius"),
    ])
    templates = (
        "{mover_cap} swings back and forth on a {length:.1f} m rod like a pendulum.",
        "A pendulum released at {amplitude:.0f} degrees: {mover} swings through the bottom and back.",
        "{mover_cap} hangs from a pivot and oscillates under gravity.",
    )

    def validate(self, path: str, train: dict[str, Region], ood: dict[str, Region]) -> None:
        for regions in (train, ood):
            length, r = _hi(regions, train, "length"), _hi(regions, train, "radius")
            a = math.radians(_hi(regions, train, "amplitude"))
            if length + r > PIVOT_HEIGHT - self.origin[1]:
                raise ConfigError(f"{path}.length", f"a {length} m rod from a pivot {PIVOT_HEIGHT} m high "
                                "swings the ball below the view")
            if length * math.sin(a) + r > self.extent / 2:
                raise ConfigError(f"{path}.amplitude", f"a {length} m rod at {math.degrees(a):.0f} degrees "
                                "swings the ball out of the view")

    def build(self, p: dict, ctx: BuildContext):
        w = self.new_world(p, ctx)
        a = math.radians(p["amplitude"]) * (1 if ctx.rng.random() < 0.5 else -1)
        pivot = (self.origin[0] + self.extent / 2, self.origin[1] + PIVOT_HEIGHT)
        pos = (pivot[0] + p["length"] * math.sin(a), pivot[1] - p["length"] * math.cos(a))
        k = w.add_circle(pos, p["radius"], disc_mass(p["radius"]), ctx.colours(["circle"])[0])
        w.add_rod(k, pivot)
        return w
