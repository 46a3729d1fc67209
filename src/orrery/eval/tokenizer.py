"""`evaluate_tokenizer`: reconstruct the clips of a dataset split and score each reconstruction
with the same parser and `METRICS` functions as a world model's prediction (`score_clip`): frame 0
of the reconstruction is the context, frames 1.. are scored against the simulator's states. The
original frames are scored the same way (the floor), so the tokenizer's own cost is the
difference. Per clip, then per scenario: PSNR, SSIM, position error (px, and the floor's), the
share of objects lost, and bits per pixel for discrete tokenizers."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .pairing import nanmean
from .scoring import score_clip


def _mean(rows: list[dict], metric: str) -> float:
    return nanmean([r["value"] for r in rows if r["metric"] == metric])


def _sum(rows: list[dict], metric: str) -> float:
    return float(np.nansum([r["value"] for r in rows if r["metric"] == metric]))


def evaluate_clip(model, frames: np.ndarray, meta: dict, masks: np.ndarray | None = None) -> dict[str, float]:
    """One clip uint8 [T, H, W, 3] with its record -> {psnr, ssim, pos_px, floor_px, lost, bpp}."""
    from ..tokenizer.codec import reconstruct

    row = score_reconstruction(frames, reconstruct(model, frames[None])[0], meta, masks)
    if getattr(model, "fsq", None) is not None:
        row["bpp"] = model.bits_per_pixel(*frames.shape[:3])
    return row


def score_reconstruction(frames: np.ndarray, rec: np.ndarray, meta: dict,
                         masks: np.ndarray | None = None) -> dict[str, float]:
    """Any codec's reconstruction rec of frames (uint8 [T, H, W, 3] each) -> {psnr, ssim, pos_px,
    floor_px, lost, n_positions}, scored like a prediction whose context is frame 0."""
    scored = score_clip(meta, rec[:1], rec[1:], frames[1:], 0, masks)
    floor = score_clip(meta, frames[:1], frames[1:], frames[1:], 0, masks)
    row = {"psnr": _mean(scored, "psnr"), "ssim": _mean(scored, "ssim")}
    visible = _sum(scored, "objects_visible")
    if visible > 0:
        row.update(pos_px=_mean(scored, "position_error_px"), floor_px=_mean(floor, "position_error_px"),
                   lost=_sum(scored, "objects_lost") / visible, n_positions=int(visible))
    return row


def reconstruction_floor(tokenizer, context: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The floor of a world model over `tokenizer`: fn(context uint8 [B, Tc, ...], truth [B, H, ...])
    -> the tokenizer's reconstruction of the true future [B, H, ...]. Context and future are
    encoded together, padded at the front as the model's rollout pads its context
    (`models.chunks.padded_context`), so chunks fall where the model's predicted chunks fall."""
    from ..models.chunks import padded_context
    from ..tokenizer.codec import reconstruct

    def floor(ctx: np.ndarray, truth: np.ndarray) -> np.ndarray:
        tc = min(context, ctx.shape[1])
        n_pad = padded_context(tc, tokenizer.cfg.time_factor) - tc
        clip = np.concatenate([np.repeat(ctx[:, -tc:][:, :1], n_pad, axis=1), ctx[:, -tc:], truth], axis=1)
        return reconstruct(tokenizer, clip)[:, n_pad + tc:]

    return floor


def summarise(rows: list[dict[str, Any]], by: str = "scenario") -> list[dict[str, Any]]:
    """Mean of each metric per value of `by`, then an 'all' row (NaN-aware; n_positions summed)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[str(r.get(by, ""))].append(r)
        groups["all"].append(r)
    metrics: list[str] = []  # numeric keys of any row, in first-seen order (some clips have no objects)
    for r in rows:
        metrics += [k for k, v in r.items() if isinstance(v, (int, float)) and k != by and k not in metrics]
    out = []
    for name in sorted(k for k in groups if k != "all") + ["all"]:
        rs = groups[name]
        s: dict[str, Any] = {by: name, "clips": len(rs)}
        for m in metrics:
            vals = np.array([r.get(m, math.nan) for r in rs], dtype=np.float64)
            vals = vals[np.isfinite(vals)]
            s[m] = int(vals.sum()) if m == "n_positions" else (float(vals.mean()) if vals.size else math.nan)
        out.append(s)
    return out


def evaluate_tokenizer(model, data: str | Path, split: str, *, max_clips: int | None = None,
                       on_clip: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Every clip of `split` in the dataset folder `data` (or its first `max_clips`) ->
    {'rows': per clip, 'scenarios': per scenario + 'all'}."""
    from ..data.dataset import ClipStore

    store = ClipStore(data, split)
    n = len(store) if max_clips is None else min(max_clips, len(store))
    s = model.cfg.space_factor
    rows = []
    for i in range(n):
        clip = store.clip(i)
        h, w = clip.frames.shape[1:3]
        if h % s or w % s:
            raise ValueError(f"clip {clip.key}: frames are {h}x{w}, not multiples of {s} "
                             f"(compression {model.cfg.compression})")
        rows.append({"key": clip.key, "scenario": clip.scenario, "split": split,
                     **evaluate_clip(model, clip.frames, clip.meta, clip.masks)})
        if on_clip:
            on_clip(i + 1, n)
    return {"split": split, "clips": n, "rows": rows, "scenarios": summarise(rows)}
