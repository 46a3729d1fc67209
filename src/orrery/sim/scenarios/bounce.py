"""Bounce: a ball dropped onto the floor loses a fixed fraction of its speed at every impact.

With restitution e the speed after an impact is e times the speed before it, so successive apex
heights above the floor follow h_{k+1} = e^2 h_k. The floor and side walls have elasticity 1, so
pymunk's restitution (the product of elasticities) is exactly e."""

from __future__ import annotations

from ...config import ConfigError
from ..params import F, ParamSpace, Region
from ..scenario import BuildContext, Scenario
from .placement import disc_mass


class Bounce(Scenario):
    name = "bounce"
    summary = "A ball bounces on the floor; each apex is e^2 times the previous one (restitution e < 1)."
    space = ParamSpace([
        F("height", 1.5, 5.0, min=0.0, max=8.0, unit="m", doc="drop height of the ball's bottom above the floor"),
        F("restitution", 0.5, 0.9, min=0.0, max=1.0, doc="coefficient of restitution against the floor"),
        F("vx", -1.5, 1.5, min=-10.0, max=10.0, unit="m/s", doc="horizontal velocity (side walls reflect it)"),
        F("radius", 0.6, 0.9, min=0.05, max=1.5, unit="m", doc="ball radius"),
        F("gravity", 9.81, 9.81, min=0.1, max=50.0, unit="m/s^2", doc="gravitational acceleration"),
    ])
    templates = (
        "{mover_cap} is dropped from {height:.1f} m and bounces on the floor, each bounce lower than the last.",
        "A bouncing ball: {mover} falls, hits the ground and rebounds with restitution {restitution:.2f}.",
        "{mover_cap} loses energy at every impact with the floor, so its bounces shrink.",
    )

    def validate(self, path: str, train: dict[str, Region], ood: dict[str, Region]) -> None:
        for regions in (train, ood):
            h = max(b for a, b in (regions.get("height") or train["height"]).intervals)
            r = max(b for a, b in (regions.get("radius") or train["radius"]).intervals)
            if h + 2 * r > self.extent:
                raise ConfigError(f"{path}.height", f"a ball of radius {r} m dropped from {h} m starts "
                                f"above the top of the {self.extent} m view")

    def build(self, p: dict, ctx: BuildContext):
        w = self.new_world(p, ctx)
        w.add_box_walls(elasticity=1.0, ceiling=False)
        r = p["radius"]
        x = ctx.rng.uniform(self.origin[0] + r + 0.5, self.origin[0] + self.extent - r - 0.5)
        w.add_circle((x, self.origin[1] + p["height"] + r), r, disc_mass(r), ctx.colours(["circle"])[0],
                     velocity=(p["vx"], 0.0), elasticity=p["restitution"])
        return w
