"""Learning-rate schedule: linear warm-up, then cosine decay to a floor."""

from __future__ import annotations

import math


def warmup_cosine(progress: float, warmup: float, min_ratio: float) -> float:
    """Multiplier of the peak learning rate at `progress` in [0, 1] of training.

    warmup: fraction of training spent ramping linearly from ~0 to 1; min_ratio: the final multiplier.
    Progress is a fraction rather than a step so that a run bounded by wall-clock time (see
    `TrainConfig.time_limit_min`) still ends its decay on time."""
    progress = min(max(progress, 0.0), 1.0)
    if warmup > 0 and progress < warmup:
        return max(progress / warmup, 1e-3)
    span = max(1.0 - warmup, 1e-12)
    t = (progress - warmup) / span
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * t))
