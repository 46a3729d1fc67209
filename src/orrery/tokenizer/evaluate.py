"""`evaluate_tokenizer`: reconstruct the clips of a dataset split and measure, per clip and then per
scenario: PSNR, SSIM and the physics check (how far the objects parsed from the reconstruction are
from those parsed from the original, in pixels)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .codec import reconstruct
from .model import VideoTokenizer
from .positions import position_errors
from .quality import psnr, ssim_clips


def evaluate_clip(model: VideoTokenizer, frames: np.ndarray, colour_ids: np.ndarray | None,
                  method: str = "parse", camera=None, background: np.ndarray | None = None) -> dict[str, float]:
    """One clip uint8 [T, H, W, 3] -> {psnr, ssim, pos_mean_px, pos_max_px, lost, bpp}."""
    rec = reconstruct(model, frames[None])
    row: dict[str, float] = {"psnr": float(psnr(frames[None], rec)[0]),
                             "ssim": float(ssim_clips(frames[None], rec)[0])}
    if colour_ids is not None and len(colour_ids):
        pe = position_errors(frames, rec[0], colour_ids, method, camera, background)
        row.update(pos_mean_px=pe["mean_px"], pos_max_px=pe["max_px"], lost=pe["lost"], n_positions=pe["n"])
    if model.fsq is not None:
        row["bpp"] = model.bits_per_pixel(*frames.shape[:3])
    return row


def summarise(rows: list[dict[str, Any]], by: str = "scenario") -> list[dict[str, Any]]:
    """Mean of each metric per value of `by` plus an 'all' row (NaN-aware; max for *_max_px)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[str(r.get(by, ""))].append(r)
        groups["all"].append(r)
    out = []
    metrics: list[str] = []  # numeric keys of any row, in first-seen order (some clips have no objects)
    for r in rows:
        metrics += [k for k, v in r.items() if isinstance(v, (int, float)) and k != by and k not in metrics]
    order = sorted(k for k in groups if k != "all") + ["all"]  # the overall row last
    for name, rs in ((k, groups[k]) for k in order):
        s: dict[str, Any] = {by: name, "clips": len(rs)}
        for m in metrics:
            vals = np.array([r.get(m, math.nan) for r in rs], dtype=np.float64)
            vals = vals[np.isfinite(vals)]
            if m == "n_positions":
                s[m] = int(vals.sum())
            elif vals.size == 0:
                s[m] = math.nan
            else:
                s[m] = float(vals.max() if m.endswith("_max_px") else vals.mean())
        out.append(s)
    return out


def evaluate_tokenizer(model: VideoTokenizer, data: str | Path, split: str, *, method: str = "parse",
                       max_clips: int | None = None,
                       on_clip: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Every clip of `split` in the dataset folder `data` (or its first `max_clips`) ->
    {'rows': per clip, 'scenarios': per scenario + 'all'}."""
    from ..data.dataset import ClipStore
    from ..sim.parse import background_image

    store = ClipStore(data, split)
    n = len(store) if max_clips is None else min(max_clips, len(store))
    rows = []
    for i in range(n):
        clip = store.clip(i)
        ids = np.array(sorted({o.colour_id for o in clip.objects}), dtype=np.int64) if clip.objects else None
        background = background_image(clip.camera, clip.statics) if method == "parse" and "camera" in clip.meta \
            else None
        camera = clip.camera if "camera" in clip.meta else None
        s = model.cfg.space_factor
        h, w = clip.frames.shape[1:3]
        if h % s or w % s:
            raise ValueError(f"clip {clip.key}: frames are {h}x{w}, not multiples of {s} "
                             f"(compression {model.cfg.compression})")
        row = {"key": clip.key, "scenario": clip.scenario, "split": split,
               **evaluate_clip(model, clip.frames, ids, method, camera, background)}
        rows.append(row)
        if on_clip:
            on_clip(i + 1, n)
    return {"split": split, "clips": n, "method": method, "rows": rows, "scenarios": summarise(rows)}
