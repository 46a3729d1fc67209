"""1-D head-on elastic collision of two balls of different mass (the PhyWorld case), no gravity.

Masses are areas (density 1 kg/m^2), so radii set the mass ratio. After the impact
v1' = ((m1 - m2) v1 + 2 m2 v2) / (m1 + m2),  v2' = ((m2 - m1) v2 + 2 m1 v1) / (m1 + m2):
momentum and kinetic energy are conserved. The balls meet at the view's centre at `contact_time`."""

from __future__ import annotations

from ...config import ConfigError
from ..params import F, ParamSpace, Region
from ..scenario import BuildContext, Scenario
from .placement import disc_mass


def _hi(regions: dict[str, Region], train: dict[str, Region], name: str) -> float:
    return max(b for a, b in (regions.get(name) or train[name]).intervals)


class Collision1D(Scenario):
    name = "collision_1d"
    summary = "Two balls of different mass collide head-on elastically: momentum and energy are conserved."
    gravity = 0.0
    space = ParamSpace([
        F("radius_a", 0.5, 1.0, min=0.05, max=2.0, unit="m", doc="radius of the left ball (mass = area)"),
        F("radius_b", 0.5, 1.0, min=0.05, max=2.0, unit="m", doc="radius of the right ball (mass = area)"),
        F("speed_a", 1.0, 3.0, min=0.0, max=10.0, unit="m/s", doc="speed of the left ball, moving right"),
        F("speed_b", 0.0, 2.0, min=0.0, max=10.0, unit="m/s", doc="speed of the right ball, moving left"),
        F("contact_time", 0.5, 1.0, min=0.05, max=5.0, unit="s", doc="time at which the balls meet"),
    ])
    templates = (
        "{objects_cap} move towards each other on a line and collide head-on.",
        "Two balls of different mass, {objects}, meet in an elastic collision and exchange momentum.",
        "A head-on elastic collision: {objects} approach, bounce off each other and move apart.",
    )

    def validate(self, path: str, train: dict[str, Region], ood: dict[str, Region]) -> None:
        for regions in (train, ood):
            t = _hi(regions, train, "contact_time")
            for side in ("a", "b"):
                reach = _hi(regions, train, f"speed_{side}") * t + 2 * _hi(regions, train, f"radius_{side}")
                if reach > self.extent / 2:
                    raise ConfigError(f"{path}.speed_{side}", f"ball {side} would start {reach:.1f} m from the "
                                    f"centre, outside the {self.extent} m view; lower its speed or contact_time")
            lo_a = min(a for a, b in (regions.get("speed_a") or train["speed_a"]).intervals)
            lo_b = min(a for a, b in (regions.get("speed_b") or train["speed_b"]).intervals)
            if lo_a + lo_b <= 0:
                raise ConfigError(f"{path}.speed_a", "speed_a + speed_b can be 0: the balls would never meet")

    def build(self, p: dict, ctx: BuildContext):
        w = self.new_world(p, ctx)
        ra, rb, t = p["radius_a"], p["radius_b"], p["contact_time"]
        xc = self.origin[0] + self.extent / 2
        y = self.origin[1] + self.extent / 2 + ctx.rng.uniform(-1.5, 1.5)
        ca, cb = ctx.colours(["circle", "circle"])
        w.add_circle((xc - ra - p["speed_a"] * t, y), ra, disc_mass(ra), ca, velocity=(p["speed_a"], 0.0))
        w.add_circle((xc + rb + p["speed_b"] * t, y), rb, disc_mass(rb), cb, velocity=(-p["speed_b"], 0.0))
        return w
