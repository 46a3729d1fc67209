"""Planning episodes and the true world they run in.

An episode is a `push` clip's world (rebuilt exactly from its record by `sim.replay`), a named
pushed object ("the red box": the one nearest the pusher, of a colour no other body has), a goal position at a fixed distance from where that object is when
planning begins, and a budget of T commands. The first `start` commands are the clip's own (they
make the context frames); from frame `start` on the pusher follows the commands the planner
executes. Whether the episode succeeded is read from the simulator's states only: the object's
centre comes within `tolerance` of the goal at some frame of the T steps."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..data.camera import Camera
from ..data.objects import ObjectSpec
from ..sim.palette import PALETTE
from ..sim.replay import render, rerun

GOAL_TRIES = 64  # goal directions drawn before a (clip, distance) is given up as not fitting the view


@dataclass
class Episode:
    index: int
    key: str
    meta: dict  # the clip's record; its `actions` rows before `start` make the context
    target: int  # index of the object to move (into meta["objects"])
    goal: np.ndarray  # [2] m
    distance: float  # m, goal distance from the object's position at frame `start`
    start: int  # the frame where planning begins (the last context frame)
    steps: int  # T: commands the planner may execute
    tolerance: float  # m
    max_speed: float  # m/s, the actuator's limit

    @property
    def colour_id(self) -> int:
        return int(self.meta["objects"][self.target]["colour_id"])

    @property
    def pusher_colour_id(self) -> int:
        return int(next(o["colour_id"] for o in self.meta["objects"] if o.get("role") == "pusher"))

    @property
    def name(self) -> str:
        """The object as a person would name it: 'the red box'."""
        o = self.meta["objects"][self.target]
        return f"the {PALETTE[int(o['colour_id'])].name} {'ball' if o['shape'] == 'circle' else o['shape']}"

    def camera(self, size: int | None = None) -> Camera:
        cam = Camera.from_dict(self.meta["camera"])
        return cam.resized(size) if size else cam


@dataclass
class TrueWorld:
    """The true world of an episode: the commands executed so far (rows 0 .. t - 1) and what the
    simulator made of them. `frame` is the current frame t (the last one observed)."""

    episode: Episode
    commands: np.ndarray  # [t, A] float64
    position: np.ndarray = field(default=None)  # [t + 1, N, 2] m, the simulator's states
    frames: np.ndarray = field(default=None)  # uint8 [t + 1, S, S, 3], rendered exactly

    @classmethod
    def begin(cls, ep: Episode) -> TrueWorld:
        recorded = np.asarray(ep.meta["actions"], dtype=np.float64)[:ep.start]
        w = cls(ep, recorded)
        w._run()
        return w

    @property
    def frame(self) -> int:
        return self.commands.shape[0]

    def execute(self, rows: np.ndarray) -> None:
        """Apply commands [k, A] in the simulator (each for one frame) and observe the result."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, self.commands.shape[1])
        self.commands = np.concatenate([self.commands, rows], axis=0)
        self._run()

    def _run(self) -> None:
        n = self.frame + 1
        pad = np.zeros((1, self.commands.shape[1]))  # no command after the last frame
        traj = rerun(self.episode.meta, np.concatenate([self.commands, pad], axis=0), n)
        self.position = traj.position
        self.frames = render(self.episode.meta, traj)

    @property
    def executed(self) -> int:
        return self.frame - self.episode.start

    def distances(self) -> np.ndarray:
        """The target's distance to the goal at every frame since planning began (states, metres)."""
        ep = self.episode
        return np.linalg.norm(self.position[ep.start:, ep.target] - ep.goal, axis=-1)

    def succeeded(self) -> bool:
        return bool((self.distances() <= self.episode.tolerance).any())


def _reach(o: dict) -> float:
    spec = ObjectSpec.from_dict(o)
    return spec.radius if spec.shape == "circle" else float(np.max(np.linalg.norm(np.asarray(spec.vertices), axis=1)))


def make_episodes(clips: list, distances: tuple[float, ...], n: int, seed: int, start: int, steps: int,
                  tolerance: float, max_speed: float = 4.0, margin: float = 0.3) -> list[Episode]:
    """`n` episodes, cycling through `distances` and the clips. The goal direction is drawn from the episode's own generator,
    among directions that keep the object inside the walls (`margin` m more than its size)."""
    if not clips:
        raise ValueError("planning needs push clips")
    if not distances or min(distances) <= 0:
        raise ValueError(f"distances: expected positive goal distances in metres, got {list(distances)}")
    eps: list[Episode] = []
    i = 0
    misses = 0
    while len(eps) < n:
        clip = clips[i % len(clips)]
        meta = clip.meta if hasattr(clip, "meta") else clip
        d = float(distances[len(eps) % len(distances)])
        i += 1
        ep = _episode(meta, len(eps), i, d, seed, start, steps, tolerance, max_speed, margin)
        if ep is None:
            misses += 1
            if misses > 4 * n + 4 * len(clips):
                raise ValueError(f"goals {d} m away do not fit inside the view for these clips; use shorter "
                                 "distances")
            continue
        eps.append(ep)
    return eps


def _episode(meta: dict, index: int, draw: int, d: float, seed: int, start: int, steps: int, tolerance: float,
             max_speed: float, margin: float) -> Episode | None:
    objects = meta.get("objects", [])
    if not any(o.get("role") == "pusher" for o in objects):
        raise ValueError(f"clip {meta.get('key', '?')}: no actuated body (planning needs push clips)")
    actions = meta.get("actions") or []
    if len(actions) < start:
        raise ValueError(f"clip {meta.get('key', '?')}: {len(actions)} recorded commands, fewer than the "
                         f"{start} that make the context")
    counts: dict[int, int] = {}
    for o in objects:
        counts[o["colour_id"]] = counts.get(o["colour_id"], 0) + 1
    pushed = [k for k, o in enumerate(objects) if o.get("role") != "pusher" and counts[o["colour_id"]] == 1]
    if not pushed:
        return None
    rng = np.random.default_rng([seed, draw])
    where = np.asarray(meta["states"]["position"], dtype=np.float64)[start]
    pusher = next(k for k, o in enumerate(objects) if o.get("role") == "pusher")
    target = min(pushed, key=lambda k: float(np.linalg.norm(where[k] - where[pusher])))  # the nearest one
    here = where[target]
    cam = Camera.from_dict(meta["camera"])
    room = _reach(objects[target]) + margin
    lo, hi = np.array([cam.x0, cam.y0]) + room, np.array([cam.x0, cam.y0]) + cam.extent - room
    for _ in range(GOAL_TRIES):
        a = rng.uniform(0, 2 * math.pi)
        goal = here + d * np.array([math.cos(a), math.sin(a)])
        if (goal >= lo).all() and (goal <= hi).all():
            return Episode(index, str(meta["key"]), meta, target, goal, d, start, steps, tolerance, max_speed)
    return None
