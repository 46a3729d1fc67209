"""Physics-guided sampling: draw several futures, keep the one the physics verifier likes best.

An inference setting of every family's model config (`GuideSettings`): `guide_candidates: N` and
`guide_chunk: k`. The shared rollout (`conditioning.FrameRollout`) then predicts k frames at a
time N times over (each candidate continues the item's own random stream, so candidates differ
for a stochastic head and coincide for a deterministic one), decodes each candidate after the
frames already chosen, scores it with `verify.verify_video` (the laws from pixels, no ground
truth; with the clip's layout when the condition carries one) and keeps the lowest score. N = 1 is
the plain rollout, draw for draw. The cost is N times the network calls and decoding, plus one
verification per candidate and chunk.

`choose(frames, layouts, fps)` is the selection itself: frames uint8 [N, B, T, H, W, 3] (the
recent history followed by each candidate chunk) -> (index [B], scores [N, B])."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..config import Config

VERIFY_FRAMES = 16  # at most this many recent frames (history + chunk) are verified per candidate


class GuideSettings(Config):
    guide_candidates: int = Field(1, ge=1, le=256, description="inference: futures drawn per chunk; the "
                                  "physics verifier keeps the best (1 = plain sampling)")
    guide_chunk: int = Field(1, ge=1, description="inference: frames per guided chunk")


def choose(frames: np.ndarray, layouts: list | None, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Index of the candidate with the lowest verifier score per item, and all scores [N, B]."""
    from ..verify import verify_video

    n, b = frames.shape[:2]
    scores = np.zeros((n, b))
    for i in range(b):
        lay = None if layouts is None else layouts[i]
        rate = float(getattr(lay, "fps", 0.0) or fps)
        if lay is not None and getattr(lay, "camera", None) is None:
            lay = None
        for c in range(n):
            clip = frames[c, i, -VERIFY_FRAMES:]
            scores[c, i] = verify_video(clip, rate, lay).score if clip.shape[0] >= 3 else 0.0
    return scores.argmin(0), scores
