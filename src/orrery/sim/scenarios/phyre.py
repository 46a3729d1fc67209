"""A combinatorial family of PHYRE-like scenes built from ramps, blocks, balls and walls.

A template is a launcher (how a ball is set moving) times a target (what it runs into):
launchers `ramp` (rolls down a ramp), `drop` (falls onto a slanted deflector), `shelf` (rolls off
a high shelf); targets `tower` (stacked blocks), `dominoes` (standing slabs), `ball` (a resting
ball, with a block behind it). Every launcher and every target appears in several templates, so a spec can hold whole
templates out for test_ood and ask whether a model composes parts it has seen apart.
Layouts jitter with the clip's generator; contacts use the given friction and restitution 0.2."""

from __future__ import annotations

import itertools
import math

from ..params import C, F, ParamSpace
from ..scenario import BuildContext, Scenario
from ..world import World
from .placement import box_mass, disc_mass

LAUNCHERS = ("ramp", "drop", "shelf")
TARGETS = ("tower", "dominoes", "ball")
TEMPLATES = tuple(f"{a}-{b}" for a, b in itertools.product(LAUNCHERS, TARGETS))
ELASTICITY = math.sqrt(0.2)  # per shape: pymunk multiplies the two, giving restitution 0.2


class Phyre(Scenario):
    name = "phyre"
    summary = "A ball set moving by a ramp, a drop or a shelf runs into blocks or another ball."
    shapes = ("circle", "box")
    space = ParamSpace([
        C("template", TEMPLATES, doc="launcher-target combination"),
        F("ball_radius", 0.6, 0.8, min=0.3, max=1.2, unit="m", doc="radius of the launched ball"),
        F("block_size", 0.7, 1.0, min=0.5, max=1.4, unit="m", doc="side of tower blocks, half height of dominoes"),
        F("friction", 0.4, 0.8, min=0.0, max=2.0, doc="friction coefficient of every contact"),
    ])
    templates = (
        "{mover_cap} is set moving by a {launcher} and runs into {target_phrase}.",
        "A {launcher} sends {mover} towards {target_phrase}; {collision_phrase}.",
        "Puzzle scene '{template}': {objects} interact with ramps, walls and the floor.",
    )

    def build(self, p: dict, ctx: BuildContext) -> World:
        launcher, target = p["template"].split("-")
        w = self.new_world(p, ctx)
        mu = math.sqrt(p["friction"])
        w.add_box_walls(elasticity=ELASTICITY, friction=mu, ceiling=False)
        shapes = ["circle"] + {"tower": ["box"] * 3, "dominoes": ["box"] * 3, "ball": ["circle", "box"]}[target]
        # a tower of two blocks is as likely as one of three
        if target == "tower" and ctx.rng.random() < 0.5:
            shapes = shapes[:3]
        colours = ctx.colours(shapes)
        self._launcher(w, launcher, p, ctx, colours[0], mu)
        self._target(w, target, p, ctx, colours[1:], mu)
        return w

    def _launcher(self, w: World, kind: str, p: dict, ctx: BuildContext, colour: int, mu: float) -> None:
        r, rng = p["ball_radius"], ctx.rng
        kw = dict(elasticity=ELASTICITY, friction=mu)
        if kind == "ramp":
            h, run = rng.uniform(3.0, 4.0), rng.uniform(2.5, 3.5)
            w.add_static_polygon([(0.0, 0.0), (run, 0.0), (0.0, h)], elasticity=ELASTICITY, friction=mu)
            length = math.hypot(run, h)
            down, normal = (run / length, -h / length), (h / length, run / length)
            s = rng.uniform(0.8, 1.4)
            pos = (down[0] * s + normal[0] * r, h + down[1] * s + normal[1] * r)
            w.add_circle(pos, r, disc_mass(r), colour, **kw)
        elif kind == "drop":
            a = (rng.uniform(0.3, 0.8), rng.uniform(4.0, 4.8))
            b = (rng.uniform(2.8, 3.4), rng.uniform(1.8, 2.4))
            w.add_wall(a, b, 0.1, ELASTICITY, mu)
            x = rng.uniform(a[0] + 0.8, a[0] + 1.6)
            w.add_circle((x, rng.uniform(6.0, 7.0)), r, disc_mass(r), colour, **kw)
        else:  # shelf
            y, end = rng.uniform(2.5, 4.0), rng.uniform(1.8, 2.5)
            w.add_wall((0.0, y), (end, y), 0.1, ELASTICITY, mu)
            w.add_circle((0.2 + r, y + 0.1 + r), r, disc_mass(r), colour, velocity=(rng.uniform(3.0, 4.5), 0.0), **kw)

    def _target(self, w: World, kind: str, p: dict, ctx: BuildContext, colours: list[int], mu: float) -> None:
        s, rng = p["block_size"], ctx.rng
        kw = dict(elasticity=ELASTICITY, friction=mu)
        if kind == "tower":
            x = rng.uniform(5.0, 7.0)
            for k, colour in enumerate(colours):
                w.add_box((x + rng.uniform(-0.1, 0.1), s * (k + 0.5)), s, s, box_mass(s, s), colour, **kw)
        elif kind == "dominoes":
            x, gap, width = rng.uniform(4.5, 5.3), rng.uniform(1.0, 1.3), 0.6
            for k, colour in enumerate(colours):
                w.add_box((x + k * gap, s), width, 2 * s, box_mass(width, 2 * s), colour, **kw)
        else:  # a resting ball with a block behind it, which it may be knocked into
            r = p["ball_radius"] * rng.uniform(0.8, 1.2)
            x = rng.uniform(5.0, 6.5)
            w.add_circle((x, r), r, disc_mass(r), colours[0], **kw)
            bx = x + r + rng.uniform(1.0, 1.8) + s / 2
            w.add_box((bx, s), s, 2 * s, box_mass(s, 2 * s), colours[1], **kw)
