"""Push: an actuated disc (the pusher) moves by a velocity command and shoves balls and blocks on
a table seen from above (no gravity). The command of each frame is the clip's action, so a world
model can be conditioned on it.

The pusher is kinematic: contacts never deflect it, so its path is a function of the actions
alone. Its commands come from a seeded, smooth random sequence: it steers towards waypoints
(mostly just beyond an object, so that it pushes it) with a speed cap, and each frame's command is
low-pass filtered so it never jumps. Table friction is linear drag on the pushed bodies
(pymunk's space damping); walls keep them in view."""

from __future__ import annotations

import math

import numpy as np

from ...config import ConfigError
from ..params import F, I, ParamSpace, Region
from ..scenario import BuildContext, Scenario
from ..world import World
from .placement import box_mass, disc_mass, pick_shapes, place_discs

PUSHER_RADIUS = 0.6  # m
HOLD = 12  # frames per waypoint
GAIN = 3.0  # 1/s: command = GAIN * (waypoint - position), capped at max_speed
SMOOTH = 0.4  # per-frame low-pass factor of the command
MARGIN = 1.5  # m: waypoints keep the pusher this far inside the view


class Push(Scenario):
    name = "push"
    summary = "An actuated disc follows its velocity commands (the actions) and pushes balls and blocks."
    shapes = ("circle", "box")
    gravity = 0.0
    space = ParamSpace([
        I("count", 2, 3, min=1, max=6, doc="number of pushed bodies"),
        F("max_speed", 2.0, 4.0, min=0.1, max=10.0, unit="m/s", doc="cap on the pusher's speed command"),
        F("drag", 0.5, 1.5, min=0.0, max=10.0, unit="1/s", doc="linear drag of the table on pushed bodies"),
        F("size", 0.6, 0.9, min=0.3, max=1.5, unit="m", doc="radius of balls, half side of blocks"),
    ])
    templates = (
        "The {pusher} is driven around a table among {objects}.",
        "Seen from above, an actuated {pusher} shoves {objects} across a flat surface.",
        "{pusher_cap} follows its commands and bumps into {hit_objects}.",
    )

    def validate(self, path: str, train: dict[str, Region], ood: dict[str, Region]) -> None:
        for regions in (train, ood):
            n = max(b for a, b in (regions.get("count") or train["count"]).intervals)
            s = max(b for a, b in (regions.get("size") or train["size"]).intervals)
            if (n + 1) * math.pi * (1.42 * s + 0.2) ** 2 > 0.35 * self.extent**2:
                raise ConfigError(f"{path}.count", f"{int(n)} bodies of size {s} m and the pusher do not fit "
                                f"in the {self.extent} m view; use fewer or smaller bodies")

    def build(self, p: dict, ctx: BuildContext) -> World:
        w = self.new_world(p, ctx)
        w.space.damping = math.exp(-p["drag"])  # fraction of velocity kept per second
        w.add_box_walls(elasticity=0.5, friction=0.0)
        n, s = p["count"], p["size"]
        shapes = pick_shapes(ctx.rng, n, ("circle", "box"), ctx.required_shape)
        bounds = [PUSHER_RADIUS] + [s * (math.sqrt(2) if sh == "box" else 1.0) for sh in shapes]
        centres = place_discs(ctx.rng, ctx.camera, bounds, margin=0.2)
        colours = ctx.colours(["circle"] + shapes)
        pusher = w.add_kinematic_circle(tuple(centres[0]), PUSHER_RADIUS, colours[0], elasticity=0.5)
        for c, sh, colour in zip(centres[1:], shapes, colours[1:], strict=True):
            if sh == "circle":
                w.add_circle(tuple(c), s, disc_mass(s), colour, elasticity=0.5)
            else:
                w.add_box(tuple(c), 2 * s, 2 * s, box_mass(2 * s, 2 * s), colour, elasticity=0.5,
                          angle=ctx.rng.uniform(0, math.pi / 2))
        w.controller = _Policy(np.random.default_rng(ctx.rng.integers(2**63)), pusher,
                               centres[1:], p["max_speed"], ctx.camera)
        return w


class _Policy:
    """The pusher's smooth random command sequence; called once per frame, in order."""

    def __init__(self, rng: np.random.Generator, index: int, targets: np.ndarray, max_speed: float, camera):
        self.rng, self.index, self.targets, self.max_speed = rng, index, targets, max_speed
        self.lo = np.array([camera.x0, camera.y0]) + MARGIN
        self.hi = np.array([camera.x0, camera.y0]) + camera.extent - MARGIN
        self.command = np.zeros(2)
        self.waypoint = np.zeros(2)

    def _next_waypoint(self, here: np.ndarray) -> np.ndarray:
        if len(self.targets) and self.rng.random() < 0.85:
            # just beyond a body's starting place, seen from the pusher: drive through it
            t = self.targets[int(self.rng.integers(len(self.targets)))]
            d = t - here
            d = d / max(float(np.linalg.norm(d)), 1e-9)
            point = t + d * self.rng.uniform(0.5, 1.5)
        else:
            point = self.lo + (self.hi - self.lo) * self.rng.random(2)
        return np.clip(point, self.lo, self.hi)

    def __call__(self, world: World, frame: int) -> np.ndarray:
        body = world.bodies[self.index]
        here = np.array(body.position)
        if frame % HOLD == 0:
            self.waypoint = self._next_waypoint(here)
        want = GAIN * (self.waypoint - here)
        speed = float(np.linalg.norm(want))
        if speed > self.max_speed:
            want *= self.max_speed / speed
        self.command = self.command + SMOOTH * (want - self.command)
        body.velocity = tuple(self.command)
        return self.command.copy()
