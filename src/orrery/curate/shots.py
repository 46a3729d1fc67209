"""Shot boundary detection: hard cuts and gradual transitions (fades, dissolves), frame-exact.

Two signals per frame, both on a 32x32 thumbnail:
  * a colour histogram (HSV, 8x8x8 bins): blind to where things are, so motion barely moves it;
  * a tiny 8x8 colour image: sees layout changes that keep the palette.
Hard cuts: the consecutive-frame difference spikes over its local median (adaptive threshold) and the
content does not come back a few frames later (a flash or a one-frame glitch does).
Gradual transitions: the difference between the mean of the `w` frames before and the `w` frames
after peaks over its local baseline; the transition span is then every frame that is close to
neither the shot before nor the shot after, so no mixed frame ends up in a clip.

Output: transitions as [start, end) frame ranges (a hard cut at frame c is [c, c): no frame
belongs to it; c is the first frame of the new shot) and the shots between them."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_HBINS = (8, 8, 8)
GBASE_Q = 25.0  # percentile of the gradual-transition baseline


@dataclass(frozen=True)
class ShotParams:
    cut_ratio: float = 3.0
    cut_min: float = 0.08
    window: int = 12
    gradual_min: float = 0.25
    gradual_ratio: float = 2.5
    min_shot_frames: int = 6


def frame_features(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """frame uint8 [H, W, 3] RGB -> (histogram float32 [512] summing to 1, thumb float32 [8*8*3] in [0, 1])."""
    small = cv2.resize(frame, (32, 32), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(_HBINS), [0, 180, 0, 256, 0, 256]).ravel()
    hist /= max(float(hist.sum()), 1.0)
    thumb = cv2.resize(small, (8, 8), interpolation=cv2.INTER_AREA).astype(np.float32).ravel() / 255.0
    return hist.astype(np.float32), thumb


def features(frames) -> tuple[np.ndarray, np.ndarray]:
    """Iterable of frames -> (hists [N, 512], thumbs [N, 192])."""
    hs, ts = [], []
    for f in frames:
        h, t = frame_features(f)
        hs.append(h)
        ts.append(t)
    return np.stack(hs), np.stack(ts)


def _dist(ha, ta, hb, tb) -> np.ndarray:
    """Combined distance in [0, 1]: half the histogram L1 distance (total variation) and the mean
    absolute thumbnail difference scaled so that unrelated images land near 1."""
    dh = 0.5 * np.abs(ha - hb).sum(-1)
    dt = np.minimum(1.0, np.abs(ta - tb).mean(-1) * 4.0)
    return 0.5 * dh + 0.5 * dt


def _local_median(x: np.ndarray, half: int, exclude: int = 1, q: float = 50.0) -> np.ndarray:
    """The q-th percentile (default: median) of x over [t-half, t+half] without [t-exclude, t+exclude]."""
    n = len(x)
    out = np.empty(n, dtype=np.float64)
    for t in range(n):
        lo, hi = max(0, t - half), min(n, t + half + 1)
        vals = np.concatenate([x[lo:max(lo, t - exclude)], x[min(hi, t + exclude + 1):hi]])
        out[t] = (np.median(vals) if q == 50.0 else np.percentile(vals, q)) if len(vals) else 0.0
    return out


def detect_transitions(hists: np.ndarray, thumbs: np.ndarray, p: ShotParams = ShotParams()) -> list[tuple[int, int]]:
    """Features of N frames -> sorted, disjoint transitions [start, end) (hard cut: start == end)."""
    n = len(hists)
    if n < 2:
        return []
    # d[t]: distance between frame t-1 and frame t (d[0] = 0)
    d = np.zeros(n)
    d[1:] = _dist(hists[:-1], thumbs[:-1], hists[1:], thumbs[1:])
    base = _local_median(d, half=max(8, 2 * p.window), exclude=1)
    cuts = []
    for t in range(1, n):
        if d[t] < p.cut_min or d[t] < p.cut_ratio * (base[t] + 0.01):
            continue
        if t + 1 < n and d[t + 1] > d[t]:
            continue  # the next frame is the larger jump
        if d[t - 1] > d[t]:
            continue
        # a flash or a glitch: a frame shortly after looks like the frame before again
        k = np.arange(t + 1, min(n, t + 4))
        if len(k) and np.min(_dist(hists[t - 1], thumbs[t - 1], hists[k], thumbs[k])) < 0.5 * d[t]:
            continue
        # the way back from a flash: frame t looks like a frame shortly before t-1
        k = np.arange(max(0, t - 4), t - 1)
        if len(k) and np.min(_dist(hists[t], thumbs[t], hists[k], thumbs[k])) < 0.5 * d[t]:
            continue
        cuts.append(t)

    w = p.window
    found: list[tuple[int, int]] = [(c, c) for c in cuts]
    if n >= 2 * w + 2:
        # g[t]: mean of frames [t-w, t) against mean of frames [t, t+w)
        ch = np.cumsum(np.vstack([np.zeros((1, hists.shape[1])), hists]), 0)
        ct = np.cumsum(np.vstack([np.zeros((1, thumbs.shape[1])), thumbs]), 0)
        g = np.zeros(n)
        ts = np.arange(w, n - w + 1)
        hb, ha = (ch[ts] - ch[ts - w]) / w, (ch[ts + w] - ch[ts]) / w
        tb, ta = (ct[ts] - ct[ts - w]) / w, (ct[ts + w] - ct[ts]) / w
        g[ts] = _dist(hb, tb, ha, ta)
        # a low percentile: in a video with transitions close together, their own peaks would lift a median
        gbase = _local_median(g, half=4 * w, exclude=w, q=GBASE_Q)
        for t in ts:
            lo, hi = max(0, t - w), min(n, t + w + 1)
            if g[t] < p.gradual_min or g[t] < p.gradual_ratio * (gbase[t] + 0.01) or g[t] < g[lo:hi].max():
                continue
            res = _gradual_span(hists, thumbs, t, w)
            if res is None:
                continue  # the two sides are not different shots
            (a, b), total = res
            near = [c for c in cuts if a - 1 <= c <= b + 1 or abs(t - c) <= w]
            # a hard cut that carries most of the change across the window wins over the span (the
            # span then only reflects motion next to the cut), unless the frames at the cut are
            # much darker than both sides: a jump through black inside a fade
            lit = min(thumbs[max(0, t - 2 * w):max(1, t - w)].mean(), thumbs[min(n - 1, t + w):t + 2 * w].mean())
            if any(d[c] >= 0.5 * total and min(thumbs[c - 1].mean(), thumbs[c].mean()) > 0.5 * lit for c in near):
                continue
            for c in near:
                found.remove((c, c))
                cuts.remove(c)
            found.append((a, b))
    return _merge(sorted(found), p.min_shot_frames)


def _gradual_span(hists, thumbs, c: int, w: int) -> tuple[tuple[int, int], float] | None:
    """Frames around peak c that are close to neither side's reference (the mean of w frames at
    distance w..2w), i.e. frames mixing both shots or passing through black."""
    n = len(hists)
    a0, a1 = max(0, c - 2 * w), max(1, c - w)
    b0, b1 = min(n - 1, c + w), min(n, c + 2 * w)
    ra_h, ra_t = hists[a0:a1].mean(0), thumbs[a0:a1].mean(0)
    rb_h, rb_t = hists[b0:b1].mean(0), thumbs[b0:b1].mean(0)
    da = _dist(ra_h, ra_t, hists, thumbs)  # [n]
    db = _dist(rb_h, rb_t, hists, thumbs)
    # how far frames of each reference window stray from their own mean (motion inside the shot)
    tol_a = 1.5 * float(da[a0:a1].max()) + 0.02
    tol_b = 1.5 * float(db[b0:b1].max()) + 0.02
    total = float(_dist(ra_h, ra_t, rb_h, rb_t))
    if total < 0.5 * max(tol_a, tol_b):
        return None
    # a fade is also recognised by light: frames darker than their side's reference are in it
    lum = thumbs.mean(1)
    dark_a, dark_b = 0.93 * float(lum[a0:a1].min()), 0.93 * float(lum[b0:b1].min())
    start = c
    while start > a0 and (da[start - 1] > tol_a or lum[start - 1] < dark_a):
        start -= 1
    end = c
    while end < b1 and (db[end] > tol_b or lum[end] < dark_b):
        end += 1
    if end > start and lum[start:end].min() < 0.8 * max(dark_a, dark_b):
        # through black: the fade goes on for as long as the light keeps changing or stays black
        black = 0.5 * max(dark_a, dark_b)
        while start > 0 and (abs(lum[start - 1] - lum[start]) > 0.01 or lum[start - 1] < black):
            start -= 1
        while end < n and (abs(lum[end] - lum[end - 1]) > 0.01 or lum[end] < black):
            end += 1
    if end <= start:  # the peak sits on a single step between the references: a soft cut
        return (c, c), total
    return (start, end), total


def _merge(trans: list[tuple[int, int]], min_gap: int) -> list[tuple[int, int]]:
    """Overlapping transitions, or ones closer than `min_gap` frames, become one."""
    out: list[tuple[int, int]] = []
    for s, e in trans:
        if out and s - out[-1][1] < min_gap:
            ps, pe = out[-1]
            out[-1] = (min(ps, s), max(pe, e))
        else:
            out.append((s, e))
    return out


def shots_from_transitions(n: int, transitions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """N frames and transitions -> shots [start, end) between them (non-empty)."""
    shots, cur = [], 0
    for s, e in transitions:
        if s > cur:
            shots.append((cur, s))
        cur = max(cur, e)
    if cur < n:
        shots.append((cur, n))
    return shots


def detect_shots(frames, p: ShotParams = ShotParams()) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """frames uint8 [N, H, W, 3] -> (transitions, shots), all as [start, end) frame ranges."""
    hists, thumbs = features(frames)
    trans = detect_transitions(hists, thumbs, p)
    return trans, shots_from_transitions(len(hists), trans)
