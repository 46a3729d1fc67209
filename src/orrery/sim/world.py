"""The physics world of one clip: a pymunk space plus the engine-independent descriptions the
renderer needs, stepped at a fixed substep independent of the frame rate, with ground-truth
readout per frame (states, energies, first-contact collision events, actions).

Restitution in pymunk is the product of the two shapes' elasticities: a ball of elasticity e
against scenery of elasticity 1 bounces with restitution e."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pymunk

from ..data.camera import Camera
from ..data.objects import ObjectSpec, StaticSpec, box_vertices

Controller = Callable[["World", int], "np.ndarray | None"]


@dataclass
class Spring:
    index: int  # object index (into World.objects)
    anchor: tuple[float, float]  # world point the spring is fixed to
    rest_length: float
    stiffness: float
    damping: float


@dataclass
class Trajectory:
    """Ground truth sampled at frame times t = i / fps, i = 0..T-1."""

    position: np.ndarray  # [T, N, 2] m
    velocity: np.ndarray  # [T, N, 2] m/s
    angle: np.ndarray  # [T, N] rad
    angular_velocity: np.ndarray  # [T, N] rad/s
    kinetic: np.ndarray  # [T, N] J
    potential: np.ndarray  # [T, N] J, gravity, zero at y = 0
    elastic: np.ndarray  # [T] J, springs
    events: list[dict] = field(default_factory=list)
    actions: np.ndarray | None = None  # [T, A]


class World:
    """Build a scene with the add_* methods, then `run()` it."""

    def __init__(self, camera: Camera, gravity: tuple[float, float] = (0.0, -9.81), iterations: int = 30):
        self.camera = camera
        self.gravity = (float(gravity[0]), float(gravity[1]))
        self.space = pymunk.Space()
        self.space.gravity = self.gravity
        self.space.iterations = iterations
        self.objects: list[ObjectSpec] = []
        self.bodies: list[pymunk.Body] = []
        self.statics: list[StaticSpec] = []
        self.springs: list[Spring] = []
        self.controller: Controller | None = None
        self._id_of: dict[int, int] = {}  # id(body) -> object id

    # --- building -----------------------------------------------------------------------------
    def _add(self, body: pymunk.Body, shape: pymunk.Shape, spec: ObjectSpec, elasticity: float, friction: float) -> int:
        shape.elasticity = elasticity
        shape.friction = friction
        self.space.add(body, shape)
        self.objects.append(spec)
        self.bodies.append(body)
        self._id_of[id(body)] = spec.id
        return len(self.objects) - 1

    def add_circle(self, position, radius: float, mass: float, colour_id: int, velocity=(0.0, 0.0),
                   angular_velocity: float = 0.0, elasticity: float = 1.0, friction: float = 0.0) -> int:
        """A disc; returns its index. Its mask id is index + 1."""
        moment = pymunk.moment_for_circle(mass, 0.0, radius)
        body = pymunk.Body(mass, moment)
        body.position = tuple(position)
        body.velocity = tuple(velocity)
        body.angular_velocity = angular_velocity
        shape = pymunk.Circle(body, radius)
        spec = ObjectSpec(len(self.objects) + 1, "circle", colour_id, mass, moment, radius=radius)
        return self._add(body, shape, spec, elasticity, friction)

    def add_polygon(self, position, vertices, mass: float, colour_id: int, angle: float = 0.0,
                    velocity=(0.0, 0.0), angular_velocity: float = 0.0, elasticity: float = 1.0,
                    friction: float = 0.0, shape: str = "polygon") -> int:
        """A convex polygon given in its body frame; recentred on its centroid so that the body
        position is the centre of mass (what the mask centroid measures)."""
        v = np.asarray(vertices, dtype=np.float64)
        centroid = _polygon_centroid(v)
        v = v - centroid
        moment = pymunk.moment_for_poly(mass, [tuple(p) for p in v])
        body = pymunk.Body(mass, moment)
        body.position = tuple(position)
        body.angle = angle
        body.velocity = tuple(velocity)
        body.angular_velocity = angular_velocity
        poly = pymunk.Poly(body, [tuple(p) for p in v])
        spec = ObjectSpec(len(self.objects) + 1, shape, colour_id, mass, moment, vertices=v.tolist())
        return self._add(body, poly, spec, elasticity, friction)

    def add_box(self, position, width: float, height: float, mass: float, colour_id: int, **kw) -> int:
        return self.add_polygon(position, box_vertices(width, height), mass, colour_id, shape="box", **kw)

    def add_kinematic_circle(self, position, radius: float, colour_id: int, mass: float = 1.0,
                             elasticity: float = 1.0, friction: float = 0.0) -> int:
        """An actuated disc (a pusher): moved by its velocity command, unmoved by contacts."""
        body = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
        body.position = tuple(position)
        shape = pymunk.Circle(body, radius)
        spec = ObjectSpec(len(self.objects) + 1, "circle", colour_id, mass, 0.0, radius=radius, role="pusher")
        return self._add(body, shape, spec, elasticity, friction)

    def add_wall(self, a, b, radius: float = 0.05, elasticity: float = 1.0, friction: float = 0.0) -> None:
        """Static scenery: a thick segment from a to b (world metres)."""
        seg = pymunk.Segment(self.space.static_body, tuple(a), tuple(b), radius)
        seg.elasticity = elasticity
        seg.friction = friction
        self.space.add(seg)
        self.statics.append(StaticSpec("segment", [list(a), list(b)], radius))

    def add_static_polygon(self, vertices, elasticity: float = 1.0, friction: float = 0.0) -> None:
        poly = pymunk.Poly(self.space.static_body, [tuple(p) for p in vertices])
        poly.elasticity = elasticity
        poly.friction = friction
        self.space.add(poly)
        self.statics.append(StaticSpec("polygon", [list(p) for p in vertices]))

    def add_box_walls(self, elasticity: float = 1.0, friction: float = 0.0, radius: float = 0.1,
                      floor: bool = True, ceiling: bool = True, sides: bool = True) -> None:
        """Walls along the edges of the camera's view (their inner faces at the view's border)."""
        c = self.camera
        x0, y0, x1, y1 = c.x0 - radius, c.y0 - radius, c.x0 + c.extent + radius, c.y0 + c.extent + radius
        if floor:
            self.add_wall((x0, y0), (x1, y0), radius, elasticity, friction)
        if ceiling:
            self.add_wall((x0, y1), (x1, y1), radius, elasticity, friction)
        if sides:
            self.add_wall((x0, y0), (x0, y1), radius, elasticity, friction)
            self.add_wall((x1, y0), (x1, y1), radius, elasticity, friction)

    def add_spring(self, index: int, anchor, rest_length: float, stiffness: float, damping: float = 0.0) -> None:
        """A damped spring from a fixed world point to an object's centre."""
        body = self.bodies[index]
        static = self.space.static_body
        s = pymunk.DampedSpring(static, body, tuple(anchor), (0.0, 0.0), rest_length, stiffness, damping)
        self.space.add(s)
        self.springs.append(Spring(index, (float(anchor[0]), float(anchor[1])), rest_length, stiffness, damping))
        self.statics.append(StaticSpec("segment", [list(anchor), list(anchor)], 0.04))

    def add_rod(self, index: int, pivot) -> None:
        """A massless rigid rod from a fixed pivot to an object's centre (a pendulum)."""
        joint = pymunk.PinJoint(self.space.static_body, self.bodies[index], tuple(pivot), (0.0, 0.0))
        self.space.add(joint)
        self.statics.append(StaticSpec("segment", [list(pivot), list(pivot)], 0.06))

    # --- running ------------------------------------------------------------------------------
    def run(self, n_frames: int, fps: float, physics_hz: float) -> Trajectory:
        """Step the world; states are read at each frame time. Substeps = physics_hz / fps."""
        substeps = int(round(physics_hz / fps))
        if substeps < 1 or abs(substeps * fps - physics_hz) > 1e-6 * physics_hz:
            raise ValueError(f"physics_hz {physics_hz} must be a whole multiple of fps {fps}")
        dt = 1.0 / physics_hz
        n = len(self.objects)
        pos = np.zeros((n_frames, n, 2))
        vel = np.zeros((n_frames, n, 2))
        ang = np.zeros((n_frames, n))
        angv = np.zeros((n_frames, n))
        actions: list[np.ndarray] = []
        events: list[dict] = []
        clock = [0]  # substeps taken; event times are computed from it only when a contact happens

        def post_solve(arbiter: pymunk.Arbiter, space: pymunk.Space, data) -> None:
            if not arbiter.is_first_contact:
                return
            ba, bb = arbiter.bodies
            a, b = self._id_of.get(id(ba), 0), self._id_of.get(id(bb), 0)
            if a == 0 and b == 0:
                return
            if a > b and b != 0 or a == 0:  # order: smaller id first, scenery (0) last
                a, b = b, a
            imp = arbiter.total_impulse
            # an event found while stepping towards frame i + 1 belongs to the nearest frame time
            time = clock[0] * dt
            events.append({"frame": int(round(time * fps)), "time": round(time, 9), "a": int(a), "b": int(b),
                           "impulse": [float(imp.x), float(imp.y)]})

        self.space.on_collision(None, None, post_solve=post_solve)
        c_step, handle = _fast_stepper(self.space)
        checked = False  # the first substep goes through Space.step
        bodies = self.bodies
        states = []  # per frame, per body: (position, velocity, angle, angular velocity), read once
        for i in range(n_frames):
            states.append([(b.position, b.velocity, b.angle, b.angular_velocity) for b in bodies])
            if i == n_frames - 1:
                break
            if self.controller is not None:
                a = self.controller(self, i)
                if a is not None:
                    actions.append(np.asarray(a, dtype=np.float64))
            for _ in range(substeps):  # the hot loop: ~1,000 substeps a clip, no call but Chipmunk's
                clock[0] += 1
                if checked:
                    c_step(handle, dt)
                else:
                    self.space.step(dt)
                    checked = c_step is not None
        if n:
            pos[:] = [[tuple(p) for p, _, _, _ in f] for f in states]
            vel[:] = [[tuple(v) for _, v, _, _ in f] for f in states]
            ang[:] = [[a for _, _, a, _ in f] for f in states]
            angv[:] = [[w for _, _, _, w in f] for f in states]
        traj = Trajectory(pos, vel, ang, angv, *self._energies(pos, vel, angv), events=events)
        if actions:
            actions.append(np.zeros_like(actions[-1]))  # no command after the last frame
            traj.actions = np.stack(actions)
        return traj

    def _energies(self, pos, vel, angv):
        masses = np.array([o.mass if o.role != "pusher" else 0.0 for o in self.objects])
        moments = np.array([o.moment if o.role != "pusher" else 0.0 for o in self.objects])
        kinetic = 0.5 * masses * np.sum(vel**2, axis=-1) + 0.5 * moments * angv**2
        g = np.asarray(self.gravity)
        potential = -masses * (pos @ g)
        elastic = np.zeros(pos.shape[0])
        for s in self.springs:
            d = np.linalg.norm(pos[:, s.index] - np.asarray(s.anchor), axis=-1)
            elastic += 0.5 * s.stiffness * (d - s.rest_length) ** 2
        return kinetic, potential, elastic


def _fast_stepper(space: pymunk.Space) -> tuple[Callable | None, object]:
    """(Chipmunk's step function, the space's handle), or (None, None) on another pymunk layout.
    `run` calls it directly after one checked `Space.step` (which validates the bodies): pymunk's
    Python wrapper (locking, deferred adds and removals, post-step callbacks, none of which a
    running clip uses) cost 3x the physics itself. The collision callbacks are registered in C and
    fire either way; results are identical (tested)."""
    lib = getattr(getattr(pymunk, "_chipmunk", None), "lib", None)
    handle = getattr(space, "_space", None)
    if lib is None or handle is None or not hasattr(lib, "cpSpaceStep"):
        return None, None
    return lib.cpSpaceStep, handle


def _polygon_centroid(v: np.ndarray) -> np.ndarray:
    x, y = v[:, 0], v[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    a = cross.sum() / 2.0
    if abs(a) < 1e-12:
        raise ValueError("polygon has zero area")
    cx = ((x + np.roll(x, -1)) * cross).sum() / (6 * a)
    cy = ((y + np.roll(y, -1)) * cross).sum() / (6 * a)
    return np.array([cx, cy])


__all__ = ["World", "Trajectory", "Spring"]
