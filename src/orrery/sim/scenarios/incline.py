"""Block on an incline with Coulomb friction.

Along the slope a = g (sin t - mu cos t) when tan t > mu (it slides), and the block stays put when
tan t <= mu (static friction holds it). Pymunk multiplies the two shapes' friction coefficients, so
the ramp has friction 1 and the block mu. Below the ramp the block slides onto the floor (same mu)
and stops, or meets the right wall."""

from __future__ import annotations

import math

from ..params import F, ParamSpace
from ..scenario import BuildContext, Scenario
from .placement import box_mass

RUN = 8.5  # m: horizontal length of the ramp, shortened for steep ramps so that its top stays in view
MAX_RISE = 8.0  # m
BLOCK_W, BLOCK_H = 1.2, 0.8  # m: wide and low, so it cannot tip below atan(1.5) = 56 degrees
START = 1.0  # m: distance along the slope from the ramp's top to the block's centre


class Incline(Scenario):
    name = "incline"
    summary = "A block on a ramp slides with acceleration g(sin t - mu cos t), or sticks when tan t <= mu."
    shapes = ("box",)
    space = ParamSpace([
        F("angle", 10.0, 40.0, min=0.0, max=50.0, unit="deg", doc="ramp angle above horizontal"),
        F("friction", 0.0, 0.8, min=0.0, max=2.0, doc="friction coefficient mu between block and ramp"),
        F("gravity", 9.81, 9.81, min=0.1, max=50.0, unit="m/s^2", doc="gravitational acceleration"),
    ])
    templates = (
        "{mover_cap} rests on a {angle:.0f} degree ramp with friction coefficient {friction:.2f}; {slides}.",
        "A block on an incline: gravity pulls {mover} down the slope and friction resists; {slides}.",
        "On a slope of {angle:.0f} degrees, {mover} {slides_short}.",
    )

    def geometry(self, angle_deg: float) -> tuple[tuple[float, float], tuple[float, float]]:
        """The ramp's top and bottom surface points (m)."""
        t = math.radians(angle_deg)
        x0, y0 = self.origin
        run = min(RUN, MAX_RISE / math.tan(t)) if t > 0 else RUN
        return (x0, y0 + run * math.tan(t)), (x0 + run, y0)

    def build(self, p: dict, ctx: BuildContext):
        w = self.new_world(p, ctx)
        w.add_box_walls(friction=1.0, ceiling=False)
        t = math.radians(p["angle"])
        top, bottom = self.geometry(p["angle"])
        if p["angle"] > 0:
            w.add_static_polygon([(self.origin[0], self.origin[1]), bottom, top], friction=1.0)
        down = (math.cos(t), -math.sin(t))  # unit vector down the slope
        normal = (math.sin(t), math.cos(t))
        s = START
        cx = top[0] + s * down[0] + (BLOCK_H / 2) * normal[0]
        cy = top[1] + s * down[1] + (BLOCK_H / 2) * normal[1]
        w.add_box((cx, cy), BLOCK_W, BLOCK_H, box_mass(BLOCK_W, BLOCK_H), ctx.colours(["box"])[0],
                  angle=-t, friction=p["friction"], elasticity=0.0)
        return w
