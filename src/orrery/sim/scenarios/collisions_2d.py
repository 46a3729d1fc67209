"""2-D collisions of several balls in a walled box, no gravity, restitution a parameter.

Every contact (ball-ball and ball-wall) has restitution e: pymunk multiplies the two shapes'
elasticities, so balls and walls both get sqrt(e). e = 1 conserves kinetic energy; e < 1 loses a
fraction 1 - e^2 of the normal relative kinetic energy per impact. Momentum is conserved in
ball-ball impacts; walls exchange momentum with the world."""

from __future__ import annotations

import math

import numpy as np

from ...config import ConfigError
from ..params import F, I, ParamSpace, Region
from ..scenario import BuildContext, Scenario
from .placement import disc_mass, place_discs


class Collisions2D(Scenario):
    name = "collisions_2d"
    summary = "Several balls collide in a box without gravity; restitution e sets how much energy impacts keep."
    gravity = 0.0
    space = ParamSpace([
        I("count", 2, 4, min=2, max=8, doc="number of balls"),
        F("restitution", 0.5, 1.0, min=0.0, max=1.0, doc="coefficient of restitution of every contact"),
        F("speed", 1.5, 4.0, min=0.0, max=15.0, unit="m/s", doc="initial speed of each ball"),
        F("radius", 0.6, 0.9, min=0.05, max=1.5, unit="m", doc="largest ball radius (each is 70-100% of it)"),
    ])
    templates = (
        "{count_cap} balls fly around a closed box and bounce off each other and the walls.",
        "In a box without gravity, {objects} collide with restitution {restitution:.2f}.",
        "Billiard-like collisions of {count} balls: they move in straight lines between impacts.",
    )

    def validate(self, path: str, train: dict[str, Region], ood: dict[str, Region]) -> None:
        for regions in (train, ood):
            n = max(b for a, b in (regions.get("count") or train["count"]).intervals)
            r = max(b for a, b in (regions.get("radius") or train["radius"]).intervals)
            # random packing stalls above ~40% area fill: reject before any work starts
            if n * math.pi * (r + 0.1) ** 2 > 0.4 * self.extent**2:
                raise ConfigError(f"{path}.count", f"{int(n)} balls of radius {r} m cover over 40% of the "
                                f"{self.extent} m box; use fewer or smaller balls")

    def build(self, p: dict, ctx: BuildContext):
        w = self.new_world(p, ctx)
        e = math.sqrt(p["restitution"])
        w.add_box_walls(elasticity=e)
        n = p["count"]
        radii = [p["radius"] * ctx.rng.uniform(0.7, 1.0) for _ in range(n)]
        centres = place_discs(ctx.rng, ctx.camera, radii, margin=0.15)
        middle = centres.mean(axis=0)
        for c, r, colour in zip(centres, radii, ctx.colours(["circle"] * n), strict=True):
            # aim roughly at the others' centre so that impacts happen early in the clip
            others = (middle * n - c) / (n - 1)
            a = math.atan2(*(others - c)[::-1]) + ctx.rng.uniform(-0.5, 0.5)
            v = p["speed"] * np.array([math.cos(a), math.sin(a)])
            w.add_circle(tuple(c), r, disc_mass(r), colour, velocity=tuple(v), elasticity=e)
        return w
