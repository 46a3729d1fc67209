"""Shot detection and split: a decoded Video -> clips of the configured length, rate and size.

A clip only ever takes frames from inside its shot (after trimming `trim_frames` unstable frames at
each edge), so no frame of a neighbouring shot or of a transition can enter it. Resampling to the
output rate picks, for each output time, the last source frame shown at that time (variable frame
rate sources are handled by their timestamps, not by frame counting)."""

from __future__ import annotations

import hashlib
import re

import cv2
import numpy as np

from .config import CurateConfig
from .shots import ShotParams, detect_shots
from .stages import ClipItem, Rejection, Stage, Video


class DetectShots(Stage):
    """Video -> Video with `transitions` and `shots` filled in (frame-exact, [start, end))."""

    name = "shots"

    def __init__(self, cfg: CurateConfig):
        s = cfg.shots
        self.params = ShotParams(s.cut_ratio, s.cut_min, s.window, s.gradual_min, s.gradual_ratio, s.min_shot_frames)

    def process(self, video: Video):
        video.transitions, video.shots = detect_shots(video.frames, self.params)
        if not video.shots:
            return Rejection(video.input_id, video.source, self.name, "no_shot", "every frame is in a transition")
        return video


def letterbox(frames: np.ndarray, dark: float = 20.0) -> tuple[int, int, int, int]:
    """frames uint8 [T, H, W, 3] -> (top, bottom, left, right) rows/cols of constant dark bars."""
    luma = frames.astype(np.float32).mean(-1)  # [T, H, W]
    peak_rows = luma.max(axis=(0, 2))  # [H]: a bar row is dark in every frame and every column
    peak_cols = luma.max(axis=(0, 1))  # [W]

    def run(v: np.ndarray) -> int:
        n = 0
        while n < len(v) // 2 and v[n] < dark:
            n += 1
        return n

    return run(peak_rows), run(peak_rows[::-1]), run(peak_cols), run(peak_cols[::-1])


def fit_crop(h: int, w: int, out_h: int, out_w: int) -> tuple[int, int, int, int]:
    """The centred (y0, y1, x0, x1) window of an h x w image with the aspect ratio of out_h x out_w."""
    target = out_w / out_h
    if w / h > target:
        cw = max(1, int(round(h * target)))
        x0 = (w - cw) // 2
        return 0, h, x0, x0 + cw
    ch = max(1, int(round(w / target)))
    y0 = (h - ch) // 2
    return y0, y0 + ch, 0, w


def resample(pts: np.ndarray, start: int, end: int, fps: float, n_out: int, t0: float) -> np.ndarray:
    """Source frame indices in [start, end) shown at times t0 + k / fps, k < n_out (nearest previous)."""
    t = t0 + np.arange(n_out) / fps
    idx = np.searchsorted(pts[start:end], t + 1e-6 / fps, side="right") - 1 + start  # small slack for rounding
    return np.clip(idx, start, end - 1)


def slug(text: str, n: int = 24) -> str:
    s = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-")
    return s[:n] or "video"


def input_id(source: str) -> str:
    """A stable id for an input, from the path as listed (the same on every machine and run)."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]


def assign_split(seed: int, iid: str, fractions: dict[str, float]) -> str:
    """All clips of one input share a split (no leakage of a scene across splits); deterministic."""
    u = int(hashlib.sha1(f"{seed}:{iid}".encode()).hexdigest()[:12], 16) / float(16**12)
    acc = 0.0
    for name, frac in fractions.items():
        acc += frac
        if u < acc:
            return name
    return list(fractions)[-1]


class SplitShots(Stage):
    """Video with shots -> clips (ClipItem), each at most `max_s` long, at `fps` and `size`."""

    name = "split"

    def __init__(self, cfg: CurateConfig):
        self.cfg = cfg

    def process(self, video: Video):
        c = self.cfg.clips
        fps = float(c.fps or video.fps)
        out_h, out_w = c.size
        items = []
        stem = slug(video.source.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        split = assign_split(self.cfg.seed, video.input_id, self.cfg.splits)
        for si, (s, e) in enumerate(video.shots):
            s2, e2 = s + c.trim_frames, e - c.trim_frames
            key0 = f"{stem}-{video.input_id}-s{si:03d}"
            if e2 - s2 < 2:
                items.append(Rejection(key0, video.source, self.name, "too_short",
                                       f"shot of {e - s} frames has < 2 after trimming",
                                       {"duration_s": 0.0}, float(video.pts[s]), float(video.pts[e - 1])))
                continue
            frame_dt = float(video.pts[e2 - 1] - video.pts[e2 - 2]) if e2 - s2 >= 2 else 1.0 / video.fps
            dur = float(video.pts[e2 - 1] - video.pts[s2]) + frame_dt
            k = max(1, int(np.ceil(dur / c.max_s - 1e-9)))
            if dur / k < c.min_s:
                k = max(1, int(dur // c.min_s))
            piece = min(dur / k, c.max_s)
            top, bot, left, right = letterbox(video.frames[s2:e2])
            h, w = video.frames.shape[1:3]
            bars = 1.0 - (h - top - bot) * (w - left - right) / float(h * w)
            for pi in range(k):
                t0 = float(video.pts[s2]) + pi * (dur / k)
                # start on a frame: the first source frame shown at or after the piece's start
                t0 = float(video.pts[min(e2 - 1, s2 + int(np.searchsorted(video.pts[s2:e2], t0 - 1e-6)))])
                n_out = max(1, int(np.floor(piece * fps + 1e-6)))
                idx = resample(video.pts, s2, e2, fps, n_out, t0)
                crop = video.frames[idx, top:h - bot, left:w - right]  # [T, h', w', 3]
                y0, y1, x0, x1 = fit_crop(crop.shape[1], crop.shape[2], out_h, out_w)
                crop = crop[:, y0:y1, x0:x1]
                out = np.stack([cv2.resize(f, (out_w, out_h), interpolation=cv2.INTER_AREA) for f in crop])
                item = ClipItem(key=f"{key0}-c{pi:02d}", source=video.source, input_id=video.input_id, shot=si,
                                frames=out, fps=fps, start_s=t0, end_s=t0 + n_out / fps,
                                source_frames=(int(idx[0]), int(idx[-1]) + 1), split=split,
                                work=np.ascontiguousarray(crop),
                                scores={"duration_s": n_out / fps, "letterbox": bars})
                items.append(item)
        return items
