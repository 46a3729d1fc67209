"""The one interface every world model and every baseline implements, so evaluation never
special-cases any of them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass
class Condition:
    """What a rollout may be conditioned on, besides the context frames.

    text:    one prompt per batch item, or None.
    actions: float32 [B, Tc + horizon, A]; row t is the command applied from frame t to t + 1.
    metas:   the clips' ground-truth records (`Clip.meta`), one per batch item, each with
             `rollout_start`: the clip frame index of the first context frame (so the context is
             frames [rollout_start, rollout_start + Tc) and the prediction starts after them).
             Only baselines may read them: the simulator replay (the oracle) reads the states;
             constant-velocity reads only the camera, scenery and object shapes, never the
             states. A learned model must ignore them.
    """

    text: list[str] | None = None
    actions: np.ndarray | None = None
    metas: list[dict] | None = None


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
