"""Free fall and projectile motion: a ball launched at an angle under uniform gravity, no drag.

x(t) = x0 + v cos(a) t,  y(t) = y0 + v sin(a) t - g t^2 / 2 until it leaves the view."""

from __future__ import annotations

import math

from ...config import ConfigError
from ..params import F, ParamSpace, Region
from ..scenario import BuildContext, Scenario
from .placement import disc_mass


class Projectile(Scenario):
    name = "projectile"
    summary = "A ball launched at an angle falls along a parabola under uniform gravity (no drag)."
    space = ParamSpace([
        F("speed", 4.0, 8.0, min=0.0, max=30.0, unit="m/s", doc="launch speed"),
        F("angle", 30.0, 75.0, min=-90.0, max=90.0, unit="deg", doc="launch angle above horizontal"),
        F("height", 1.0, 3.5, min=0.0, max=8.0, unit="m", doc="launch height"),
        F("radius", 0.6, 0.9, min=0.05, max=2.0, unit="m", doc="ball radius"),
        F("gravity", 9.81, 9.81, min=0.0, max=50.0, unit="m/s^2", doc="gravitational acceleration"),
    ])
    templates = (
        "{mover_cap} is launched at {angle:.0f} degrees and {speed:.1f} m/s and follows a parabola.",
        "Under gravity alone, {mover} flies up and to the right, slows, peaks and falls back down.",
        "A projectile: {mover} thrown from {height:.1f} m high traces a parabolic arc.",
    )

    def validate(self, path: str, train: dict[str, Region], ood: dict[str, Region]) -> None:
        for regions in (train, ood):
            h = max(b for a, b in (regions.get("height") or train["height"]).intervals)
            r = max(b for a, b in (regions.get("radius") or train["radius"]).intervals)
            if h + 2 * r > self.extent:
                raise ConfigError(f"{path}.height", f"a ball of radius {r} m launched from {h} m starts "
                                f"above the top of the {self.extent} m view")

    def build(self, p: dict, ctx: BuildContext):
        w = self.new_world(p, ctx)
        a = math.radians(p["angle"])
        colour = ctx.colours(["circle"])[0]
        x0 = 1.0 + p["radius"]
        w.add_circle((x0, p["height"] + p["radius"]), p["radius"], disc_mass(p["radius"]), colour,
                     velocity=(p["speed"] * math.cos(a), p["speed"] * math.sin(a)))
        return w
