"""Baselines behind the `WorldModel` interface, so evaluation never special-cases them.

- copy-last: repeats the last context frame (nothing moves).
- constant-velocity: parses the objects in the context, moves each at its last velocity, redraws
  the scene with the renderer. It reads the scene's static `Layout` from the condition (camera,
  scenery, each object's shape and colour: all visible in the first context frame); motion comes
  from pixels only.
- linear-flow: dense optical flow (Farneback) between the last two context frames, applied again
  at every step: a pixel-motion baseline that knows nothing of objects.
- simulator: the oracle. Replays the exact simulated states and renders them; its error is the
  parser's error (the floor). It is the one model given the states, when it is built
  (`Simulator(truth)`, truth: clip key -> its states); it finds a clip's by the layout's key and
  start frame.
- ActionReplay: the oracle of *other* actions. It re-runs a clip's world (`sim.replay`) with the
  commands it is given and renders what happens: the exact answer to "what if I had pushed the
  other way", the ceiling of the counterfactual test and of planning. Built with the clips'
  records (key -> meta, which hold seeds and parameters), like the simulator oracle with states.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..data.camera import Camera
from ..data.objects import ObjectSpec, StaticSpec
from ..sim.parse import background_image, box_axis, parse_objects
from ..sim.render import Renderer
from .base import Condition, Layout, WorldModel, check_context


def _layouts(condition: Condition | None, batch: int, who: str) -> list[Layout]:
    if condition is None or condition.layouts is None or len(condition.layouts) != batch:
        raise ValueError(f"{who}: needs Condition.layouts (one scene layout per batch item, {batch} here)")
    return condition.layouts


def _scene(layout: Layout, size: int) -> tuple[Camera, list[StaticSpec], list[ObjectSpec]]:
    if layout.camera is None or not layout.objects:
        raise ValueError(f"clip {layout.key or '?'}: no scene layout (camera, objects); "
                         "a curated clip cannot be redrawn by a baseline")
    return layout.camera.resized(size), list(layout.statics), list(layout.objects)


class CopyLast(WorldModel):
    name = "copy-last"

    def rollout(self, context: np.ndarray, horizon: int, condition: Condition | None = None) -> np.ndarray:
        check_context(context, horizon)
        return np.repeat(context[:, -1:], horizon, axis=1)


class ConstantVelocity(WorldModel):
    """Each object keeps the velocity it showed between its last two visible context frames
    (zero if it was seen once) and its last parsed orientation; objects not visible in the last
    context frame are not drawn."""

    name = "constant-velocity"

    def rollout(self, context: np.ndarray, horizon: int, condition: Condition | None = None) -> np.ndarray:
        check_context(context, horizon)
        b, tc, size = context.shape[0], context.shape[1], context.shape[2]
        layouts = _layouts(condition, b, self.name)
        out = np.empty((b, horizon) + context.shape[2:], dtype=np.uint8)
        for i, lay in enumerate(layouts):
            camera, statics, objects = _scene(lay, size)
            tracks = parse_objects(context[i], camera, background_image(camera, statics), fps=lay.fps)
            pos = np.zeros((horizon, len(objects), 2))
            ang = np.zeros((horizon, len(objects)))
            vis = np.zeros((horizon, len(objects)), dtype=bool)
            counts = {}
            for o in objects:
                counts[o.colour_id] = counts.get(o.colour_id, 0) + 1
            for j, o in enumerate(objects):
                if counts[o.colour_id] > 1:
                    continue  # two objects of one colour cannot be told apart in pixels
                k = tracks.column(o.colour_id)
                seen = np.flatnonzero(tracks.visible[:, k])
                if seen.size == 0 or seen[-1] != tc - 1:
                    continue
                last = tracks.centroid[tc - 1, k]
                v = np.zeros(2)
                if seen.size >= 2 and seen[-2] == tc - 2:
                    v = last - tracks.centroid[tc - 2, k]  # metres per frame
                steps = np.arange(1, horizon + 1)[:, None]
                pos[:, j] = last + steps * v
                vis[:, j] = True
                theta = tracks.orientation[tc - 1, k]
                if o.shape != "circle" and not np.isnan(theta):
                    axis = box_axis(o)
                    ang[:, j] = theta - (axis[0] if axis else 0.0)
            out[i] = Renderer(camera, statics).render_clip(objects, pos, ang, vis)[0]
        return out


class LinearFlow(WorldModel):
    """Each pixel keeps moving by the flow measured between the last two context frames: frame j
    after the context is the last frame warped back along j times that flow."""

    name = "linear-flow"

    def rollout(self, context: np.ndarray, horizon: int, condition: Condition | None = None) -> np.ndarray:
        import cv2

        check_context(context, horizon)
        b, tc, h, w = context.shape[:4]
        out = np.repeat(context[:, -1:], horizon, axis=1)
        if tc < 2:
            return out  # no motion to measure: the last frame stays
        grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), -1)
        for i in range(b):
            prev = cv2.cvtColor(context[i, -2], cv2.COLOR_RGB2GRAY)
            last = cv2.cvtColor(context[i, -1], cv2.COLOR_RGB2GRAY)
            # flow from last back to prev: where each pixel of the last frame came from, so pulling
            # from x + j * flow(x) moves content forward by j frames (smooth-flow approximation)
            flow = cv2.calcOpticalFlowFarneback(last, prev, None, 0.5, 3, 7, 3, 5, 1.1, 0)
            for j in range(horizon):
                m = grid + (j + 1) * flow
                out[i, j] = cv2.remap(context[i, -1], m[..., 0], m[..., 1], cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return out


class Simulator(WorldModel):
    """The oracle: renders the clip's exact future states, which it is given when built.

    truth: clip key -> that clip's simulated states ({'position': [T, N, 2], 'angle': [T, N], ...})."""

    name = "simulator"
    needs_truth = True

    def __init__(self, truth: Mapping[str, dict]):
        self.truth = truth

    def rollout(self, context: np.ndarray, horizon: int, condition: Condition | None = None) -> np.ndarray:
        check_context(context, horizon)
        b, tc, size = context.shape[0], context.shape[1], context.shape[2]
        layouts = _layouts(condition, b, self.name)
        out = np.empty((b, horizon) + context.shape[2:], dtype=np.uint8)
        for i, lay in enumerate(layouts):
            states = self.truth.get(lay.key)
            if not states:
                raise ValueError(f"simulator: clip {lay.key or '?'} has no simulated states to replay")
            camera, statics, objects = _scene(lay, size)
            s = lay.start + tc
            pos = np.asarray(states["position"], dtype=np.float64)[s:s + horizon]
            ang = np.asarray(states["angle"], dtype=np.float64)[s:s + horizon]
            if pos.shape[0] < horizon:
                raise ValueError(f"simulator: clip {lay.key} has {len(states['position'])} frames, "
                                 f"fewer than start {s} + horizon {horizon}")
            out[i] = Renderer(camera, statics).render_clip(objects, pos, ang)[0]
        return out


class ActionReplay(WorldModel):
    """The simulator driven by the given actions. For item i (clip `layouts[i].key`, rollout frame 0
    = clip frame `layouts[i].start` = s), the clip's world runs with the clip's own recorded commands
    for rows < s and the condition's rows from s on (row j of the rollout = clip row s + j), and
    the frames after the context are rendered. Only scenes with an actuated body (push).

    metas: clip key -> the clip's record (`Clip.meta`; its `actions` give the rows before s)."""

    name = "simulator-actions"
    needs_truth = True

    def __init__(self, metas: Mapping[str, dict]):
        self.metas = metas

    def rollout(self, context: np.ndarray, horizon: int, condition: Condition | None = None) -> np.ndarray:
        from ..sim.replay import render, rerun

        check_context(context, horizon)
        b, tc, size = context.shape[0], context.shape[1], context.shape[2]
        layouts = _layouts(condition, b, self.name)
        need = tc + horizon - 1  # the last predicted frame needs rows up to tc + horizon - 2
        if condition.actions is None or np.shape(condition.actions)[0] != b or np.shape(condition.actions)[1] < need:
            raise ValueError(f"{self.name}: needs Condition.actions [{b}, {tc + horizon}, A] (context + horizon rows)")
        out = np.empty((b, horizon) + context.shape[2:], dtype=np.uint8)
        for i, lay in enumerate(layouts):
            meta = self.metas.get(lay.key)
            if meta is None:
                raise ValueError(f"{self.name}: clip {lay.key or '?'} has no record to re-run")
            s = lay.start
            recorded = meta.get("actions")
            before = np.zeros((0, 2)) if recorded is None else np.asarray(recorded, dtype=np.float64)[:s]
            if before.shape[0] < s:
                raise ValueError(f"{self.name}: clip {lay.key} records {before.shape[0]} commands, fewer than "
                                 f"its start frame {s}")
            given = np.asarray(condition.actions[i], dtype=np.float64)[:need]
            traj = rerun(meta, np.concatenate([before, given], axis=0), s + tc + horizon)
            out[i] = render(meta, traj, size, start=s + tc)
        return out


BASELINES: dict[str, type[WorldModel]] = {
    "copy-last": CopyLast,
    "constant-velocity": ConstantVelocity,
    "simulator": Simulator,
    "linear-flow": LinearFlow,
}


def make_baseline(name: str, truth: Mapping[str, dict] | None = None) -> WorldModel:
    """A baseline by name; KeyError naming the choices otherwise. `truth` (clip key -> states) is
    handed only to the baselines that replay it (the simulator oracle)."""
    if name not in BASELINES:
        raise KeyError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")
    cls = BASELINES[name]
    if getattr(cls, "needs_truth", False):
        if truth is None:
            raise ValueError(f"baseline {name}: the oracle replays the simulated states; it is built by "
                             "evaluation, which holds them")
        return cls(truth)
    return cls()
