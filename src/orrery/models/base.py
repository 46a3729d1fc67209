"""The one interface every world model and every baseline implements, so evaluation never
special-cases any of them, and what a rollout may be conditioned on.

Ground truth stays out of reach: a `Condition` carries only what any model may see — the prompt,
the actions, and each clip's static `Layout` (camera, scenery, object shapes and colours, frame
rate), never its states. The simulator oracle is the one model that knows the states, and it is
handed them when it is built (`models.baselines.Simulator(truth)`), not through a rollout."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from ..data.camera import Camera
from ..data.objects import ObjectSpec, StaticSpec


@dataclass(frozen=True)
class Layout:
    """What is visible of a scene without knowing how it moves: everything a first frame shows.

    key:    the clip's key (the oracle looks its states up by it; nothing else may);
    start:  the clip frame index of the first context frame."""

    key: str
    camera: Camera | None
    fps: float
    statics: tuple[StaticSpec, ...] = ()
    objects: tuple[ObjectSpec, ...] = ()
    start: int = 0

    @classmethod
    def from_meta(cls, meta: dict, start: int = 0) -> Layout:
        """The static part of a clip's record (`Clip.meta`); its states are not read."""
        camera = Camera.from_dict(meta["camera"]) if "camera" in meta else None
        return cls(key=str(meta.get("key", "")), camera=camera, fps=float(meta.get("fps") or 0.0),
                   statics=tuple(StaticSpec.from_dict(s) for s in meta.get("statics", [])),
                   objects=tuple(ObjectSpec.from_dict(o) for o in meta.get("objects", [])), start=int(start))


@dataclass
class Condition:
    """What a rollout may be conditioned on, besides the context frames.

    text:    one prompt per batch item, or None.
    actions: float32 [B, Tc + horizon, A]; row t is the command applied from frame t to t + 1 of
             the rollout (frame 0 = the first context frame). See `models.conditioning` for which
             rows a model uses to predict a frame.
    layouts: one `Layout` per batch item, or None."""

    text: list[str] | None = None
    actions: np.ndarray | None = None
    layouts: list[Layout] | None = field(default=None)

    def subset(self, idx: list[int]) -> Condition:
        """The condition of some batch items."""
        return Condition(text=None if self.text is None else [self.text[j] for j in idx],
                         actions=None if self.actions is None else self.actions[idx],
                         layouts=None if self.layouts is None else [self.layouts[j] for j in idx])


class WorldModel(ABC):
    """Predicts future frames from past ones."""

    name: str = "world-model"

    @abstractmethod
    def rollout(self, context: np.ndarray, horizon: int, condition: Condition | None = None) -> np.ndarray:
        """context uint8 [B, Tc, H, W, 3] -> the next `horizon` frames, uint8 [B, horizon, H, W, 3]."""


def check_context(context: np.ndarray, horizon: int) -> None:
    """Validate rollout arguments with a clear message (shared by all implementations)."""
    if not isinstance(context, np.ndarray) or context.dtype != np.uint8 or context.ndim != 5 or context.shape[-1] != 3:
        got = f"{getattr(context, 'dtype', type(context).__name__)} {list(getattr(context, 'shape', []))}"
        raise ValueError(f"context: expected uint8 [B, Tc, H, W, 3], got {got}")
    if context.shape[1] < 1:
        raise ValueError("context: needs at least one frame")
    if horizon < 1:
        raise ValueError(f"horizon: must be >= 1, got {horizon}")


def check_trained_size(inputs: dict | None, context: np.ndarray) -> None:
    """Frames of another size than the model was trained on are refused (a fully convolutional
    network would run on them, at any cost, and predict garbage). `inputs`: the run's record of
    its training data (`frame_size` [H, W]); None for runs that did not record it."""
    size = (inputs or {}).get("frame_size")
    if size and list(context.shape[2:4]) != list(size):
        raise ValueError(f"context: frames are {context.shape[3]}x{context.shape[2]} pixels, but the model was "
                         f"trained on {size[1]}x{size[0]}; resize the clip first")


def check_rollout_inputs(model: WorldModel, n_frames: int, size: tuple[int, int], fps: float,
                         actions: np.ndarray | None, horizon: int, name: str, actions_name: str = "--actions") -> None:
    """What a user hands `rollout` checked against the model, before any work: at least its
    context length of frames, its training frame size [H, W] and frame rate (when the run recorded
    them), and actions of its shape [context + horizon, A] (or none for a model without actions)."""
    inputs = getattr(model, "inputs", None) or {}
    tc = int(getattr(model, "context_frames", 1))
    if n_frames < tc:
        raise ValueError(f"{name}: {n_frames} frame(s), but the model predicts from {tc} context frames; give a "
                         f"clip of at least {tc} frames")
    want = inputs.get("frame_size")
    if want and list(size) != list(want):
        raise ValueError(f"{name}: frames are {size[1]}x{size[0]} pixels, but the model was trained on "
                         f"{want[1]}x{want[0]}; resize the clip first")
    rate = inputs.get("fps")
    if rate and fps and abs(fps - rate) > 0.01 * rate:
        raise ValueError(f"{name}: {fps:g} fps, but the model was trained at {rate:g} fps; resample the clip first")
    a_dim = int(getattr(model, "action_dim", 0) or 0)
    if actions is None:
        if a_dim:
            raise ValueError(f"{actions_name}: the model was trained with {a_dim} action value(s) per step; give "
                             f"[{tc} + {horizon}, {a_dim}] actions (context + horizon rows)")
        return
    if not a_dim:
        raise ValueError(f"{actions_name}: the model was trained without actions; leave them out")
    if actions.ndim != 2 or actions.shape[1] != a_dim or actions.shape[0] < tc + horizon:
        raise ValueError(f"{actions_name}: expected [{tc + horizon}, {a_dim}] actions (context + horizon rows of "
                         f"{a_dim} values), got {list(actions.shape)}")
    if not np.isfinite(actions).all():
        raise ValueError(f"{actions_name}: contains NaN or inf")
