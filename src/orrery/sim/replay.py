"""Re-running a clip's world with other actions: the ground truth of "what if I had pushed the
other way". A clip's world is rebuilt from its scenario, parameters and seed (the same builder and
random draws as `simulate`, so the same bodies in the same places), and its actuated body is
driven by the given commands instead of its own policy. Given the recorded actions, the re-run
reproduces the clip exactly; given the recorded actions up to frame t and others after it, it is
the clip's world continued from its state at frame t under the new commands."""

from __future__ import annotations

import numpy as np

from ..data.camera import Camera
from .render import Renderer
from .scenario import BuildContext, get_scenario
from .world import Trajectory, World


class Replay:
    """A controller that sets the actuated body's velocity to row `frame` of `actions` [T, A]."""

    def __init__(self, index: int, actions: np.ndarray):
        self.index, self.actions = index, np.asarray(actions, dtype=np.float64)

    def __call__(self, world: World, frame: int) -> np.ndarray:
        command = self.actions[min(frame, len(self.actions) - 1)]
        world.bodies[self.index].velocity = (float(command[0]), float(command[1]))
        return command.copy()


def rebuild(meta: dict, size: int | None = None) -> tuple[World, Camera]:
    """The clip's world before its first frame (bodies placed exactly as in the clip)."""
    scenario = get_scenario(meta["scenario"])
    camera = scenario.camera(int(size or meta["size"]))
    ctx = BuildContext(np.random.default_rng(int(meta["seed"])), camera, meta["split"],
                       held_out=tuple(tuple(c) for c in meta.get("held_out", []) or ()),
                       require=tuple(meta["held_out_combo"]) if meta.get("held_out_combo") else None)
    world = scenario.build(dict(meta["params"]), ctx)
    got = [(o.shape, o.colour_id, o.role) for o in world.objects]
    want = [(o["shape"], o["colour_id"], o.get("role", "object")) for o in meta.get("objects", [])]
    if want and got != want:
        raise ValueError(f"clip {meta.get('key', '?')}: rebuilding its world gave other bodies ({got} vs {want}); "
                         "it was made by another version of orrery or without its held-out pairs")
    return world, camera


def actuated_index(world: World) -> int:
    idx = [i for i, o in enumerate(world.objects) if o.role == "pusher"]
    if not idx:
        raise ValueError("this scene has no actuated body (only `push` clips take actions)")
    return idx[0]


def rerun(meta: dict, actions: np.ndarray, n_frames: int | None = None) -> Trajectory:
    """The clip's world driven by `actions` [>= n_frames - 1, A] (row t applied from frame t to t + 1)."""
    world, _ = rebuild(meta)
    n = int(n_frames or meta["n_frames"])
    actions = np.asarray(actions, dtype=np.float64)
    if actions.ndim != 2 or actions.shape[0] < n - 1:
        raise ValueError(f"actions: expected [{n - 1} or more, A], got {list(actions.shape)}")
    world.controller = Replay(actuated_index(world), actions)
    return world.run(n, float(meta["fps"]), float(meta["physics_hz"]))


def counterfactual(meta: dict, start: int, actions: np.ndarray, n_frames: int | None = None) -> Trajectory:
    """The clip continued from its state at frame `start` under `actions` [n - start, A]: the
    recorded commands before `start`, the given ones from it on."""
    recorded = np.asarray(meta["actions"], dtype=np.float64)
    n = int(n_frames or meta["n_frames"])
    new = np.asarray(actions, dtype=np.float64)
    if new.ndim != 2 or new.shape[1] != recorded.shape[1] or new.shape[0] < n - 1 - start:
        raise ValueError(f"actions: expected [{n - 1 - start}, {recorded.shape[1]}] from frame {start}, "
                         f"got {list(new.shape)}")
    return rerun(meta, np.concatenate([recorded[:start], new], axis=0), n)


def render(meta: dict, traj: Trajectory, size: int | None = None, start: int = 0) -> np.ndarray:
    """Frames uint8 [T - start, S, S, 3] of a re-run from frame `start` on, drawn like the clip's own."""
    world, camera = rebuild(meta, size)
    renderer = Renderer(camera, world.statics)
    frames, _ = renderer.render_clip(world.objects, traj.position[start:], traj.angle[start:])
    return frames
