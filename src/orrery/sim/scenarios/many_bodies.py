"""Many bodies in a box under gravity: circles, boxes and convex polygons fall, collide, stack and
settle. Restitution and friction are parameters; every contact gets them exactly (pymunk multiplies
the two shapes' coefficients, so every shape and wall carries their square roots). Energy only
leaves the system, so the total mechanical energy never rises and the pile comes to rest."""

from __future__ import annotations

import math

from ...config import ConfigError
from ...data.objects import box_vertices
from ..params import F, I, ParamSpace, Region
from ..scenario import BuildContext, Scenario
from .placement import disc_mass, pick_shapes, place_discs, polygon_mass, regular_polygon

SHAPES = ("circle", "box", "polygon")


class ManyBodies(Scenario):
    name = "many_bodies"
    summary = "Circles, boxes and polygons fall into a box, collide and settle under gravity and friction."
    shapes = SHAPES
    space = ParamSpace([
        I("count", 3, 6, min=1, max=10, doc="number of bodies"),
        F("size", 0.6, 0.9, min=0.1, max=1.5, unit="m", doc="largest body size (radius of the same-area disc)"),
        F("restitution", 0.1, 0.5, min=0.0, max=1.0, doc="coefficient of restitution of every contact"),
        F("friction", 0.3, 0.8, min=0.0, max=2.0, doc="friction coefficient of every contact"),
    ])
    templates = (
        "{objects_cap} fall into a box, bump into each other and come to rest.",
        "{count_cap} bodies of mixed shapes ({objects}) drop under gravity and settle into a pile.",
        "A heap forms as {count} falling shapes collide, slide and stop on the floor.",
    )

    def validate(self, path: str, train: dict[str, Region], ood: dict[str, Region]) -> None:
        for regions in (train, ood):
            n = max(b for a, b in (regions.get("count") or train["count"]).intervals)
            s = max(b for a, b in (regions.get("size") or train["size"]).intervals)
            # a triangle's bounding disc is 1.56 times the same-area disc
            if n * math.pi * (1.56 * s + 0.1) ** 2 > 0.45 * self.extent**2:
                raise ConfigError(f"{path}.count", f"{int(n)} bodies of size {s} m do not fit in the "
                                f"{self.extent} m box without overlap; use fewer or smaller bodies")

    def build(self, p: dict, ctx: BuildContext):
        w = self.new_world(p, ctx)
        e, mu = math.sqrt(p["restitution"]), math.sqrt(p["friction"])
        w.add_box_walls(elasticity=e, friction=mu)
        n = p["count"]
        shapes = pick_shapes(ctx.rng, n, SHAPES, ctx.required_shape)
        bodies = [self._shape(ctx, sh, p["size"] * ctx.rng.uniform(0.7, 1.0)) for sh in shapes]
        centres = place_discs(ctx.rng, ctx.camera, [b[2] for b in bodies], margin=0.1)
        for c, (sh, geom, _), colour in zip(centres, bodies, ctx.colours(shapes), strict=True):
            vel = (ctx.rng.uniform(-1.0, 1.0), ctx.rng.uniform(-1.0, 0.5))
            kw = dict(velocity=vel, elasticity=e, friction=mu)
            if sh == "circle":
                w.add_circle(tuple(c), geom, disc_mass(geom), colour, **kw)
            else:
                w.add_polygon(tuple(c), geom, polygon_mass(geom), colour, angle=ctx.rng.uniform(0, 2 * math.pi),
                              shape=sh, **kw)
        return w

    @staticmethod
    def _shape(ctx: BuildContext, shape: str, s: float) -> tuple[str, object, float]:
        """(shape, radius or vertices, bounding radius) of a body with the area of a disc of radius s."""
        if shape == "circle":
            return shape, s, s
        if shape == "box":
            aspect = ctx.rng.uniform(0.7, 1.4)
            verts = box_vertices(s * math.sqrt(math.pi * aspect), s * math.sqrt(math.pi / aspect))
        else:
            sides = int(ctx.rng.choice([3, 5, 6]))
            # the circumradius whose regular polygon has the area of a disc of radius s
            verts = regular_polygon(sides, s * math.sqrt(2 * math.pi / (sides * math.sin(2 * math.pi / sides))), 0.0)
        return shape, verts, max(math.hypot(*v) for v in verts)
