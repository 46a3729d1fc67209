"""Side-by-side animations (truth | prediction | error) as GIF bytes, for inline embedding."""

from __future__ import annotations

import io

import numpy as np


def triptych_frames(context: np.ndarray, truth: np.ndarray, pred: np.ndarray, zoom: int = 3) -> np.ndarray:
    """uint8 [Tc + H, S * zoom, (3 S + 4) * zoom, 3]: the context repeated in the first two panels
    (and a dark error panel), then truth | prediction | |truth - prediction| for each future frame."""
    s = truth.shape[1]
    blank = np.zeros_like(context)
    left = np.concatenate([context, truth], 0)
    mid = np.concatenate([context, pred], 0)
    err = np.concatenate([blank, np.abs(truth.astype(np.int16) - pred.astype(np.int16)).astype(np.uint8)], 0)
    sep = np.full((left.shape[0], s, 2, 3), 60, np.uint8)
    panels = np.concatenate([left, sep, mid, sep, err], axis=2)
    # a thin bar under the panels marks the predicted frames (red) vs the context (grey)
    bar = np.zeros((panels.shape[0], 2, panels.shape[2], 3), np.uint8)
    bar[: context.shape[0]] = 90
    bar[context.shape[0]:] = (220, 40, 40)
    out = np.concatenate([panels, bar], axis=1)
    return out.repeat(zoom, axis=1).repeat(zoom, axis=2)


def gif_bytes(frames: np.ndarray, fps: float = 8.0) -> bytes:
    """uint8 [T, H, W, 3] -> looping GIF bytes."""
    from PIL import Image

    imgs = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=int(1000 / fps), loop=0)
    return buf.getvalue()

