"""Synthetic multi-shot footage with known transitions, drawn with OpenCV: the ground truth for the
shot-detection benchmark and the tests (nothing downloaded).

A shot is a textured, panning background with moving shapes. Transitions: hard cuts, dissolves and
fades through black. Distractors inside shots: fast motion and single-frame flashes.
Ground truth transitions are [start, end) frame ranges: a hard cut at c is (c, c) (c = first frame
of the new shot); a dissolve or fade covers exactly its mixed or darkened frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass
class SynthVideo:
    frames: np.ndarray  # uint8 [N, H, W, 3]
    transitions: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, kind)
    flashes: list[int] = field(default_factory=list)  # frame indices of distractor flashes


def make_shot(rng: np.random.Generator, n: int, h: int, w: int, fast: bool = False,
              n_shapes: int | None = None) -> np.ndarray:
    """One shot: uint8 [n, h, w, 3]. A random palette, a low-frequency texture that pans, and shapes
    that move (`fast`: large shapes crossing the frame in a few frames)."""
    pad = w // 2
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    gy = np.linspace(0, 1, h)[:, None, None]
    canvas = (c0 * (1 - gy) + c1 * gy) * np.ones((1, w + 2 * pad, 1))
    noise = cv2.resize(rng.normal(0, 1, (max(2, h // 8), max(2, (w + 2 * pad) // 8), 3)).astype(np.float32),
                       (w + 2 * pad, h), interpolation=cv2.INTER_CUBIC)
    canvas = np.clip(canvas + 28.0 * noise, 0, 255).astype(np.uint8)
    pan = rng.uniform(-1.0, 1.0) * w / 64.0  # px per frame
    k = int(n_shapes if n_shapes is not None else rng.integers(2, 5))
    pos = rng.uniform(0, 1, (k, 2)) * (w, h)
    speed = (0.12 if fast else 0.02) * w
    vel = rng.normal(0, 1, (k, 2)) * speed
    rad = rng.uniform(0.06, 0.16 if not fast else 0.3, k) * min(h, w)
    cols = rng.integers(0, 256, (k, 3))
    out = np.empty((n, h, w, 3), np.uint8)
    for t in range(n):
        x0 = int(round(pad + np.clip(pan * t, -pad, pad)))
        img = np.ascontiguousarray(canvas[:, x0:x0 + w])
        for j in range(k):
            p = pos[j] + vel[j] * t
            p = np.abs((p + (w, h)) % (2 * np.array([w, h])) - (w, h))  # bounce inside the frame
            centre = (int(p[0]), int(p[1]))
            if j % 2:
                cv2.circle(img, centre, int(rad[j]), cols[j].tolist(), -1, cv2.LINE_AA)
            else:
                r = int(rad[j])
                cv2.rectangle(img, (centre[0] - r, centre[1] - r), (centre[0] + r, centre[1] + r), cols[j].tolist(), -1)
        out[t] = img
    return out


def _mix(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    return np.clip(a.astype(np.float32) * (1 - alpha) + b.astype(np.float32) * alpha + 0.5, 0, 255).astype(np.uint8)


def make_video(rng: np.random.Generator, h: int, w: int, n_shots: int = 5, shot_len: tuple[int, int] = (30, 70),
               kinds: tuple[str, ...] = ("cut", "cut", "dissolve", "fade"), fast_prob: float = 0.3,
               flash_prob: float = 0.3) -> SynthVideo:
    """A multi-shot video with known transitions (see module docstring)."""
    shots = []
    for _ in range(n_shots):
        n = int(rng.integers(shot_len[0], shot_len[1] + 1))
        shots.append(make_shot(rng, n, h, w, fast=bool(rng.random() < fast_prob)))
    frames = list(shots[0])
    trans, flashes = [], []
    for s in shots[1:]:
        kind = str(kinds[int(rng.integers(len(kinds)))])
        s = list(s)
        if kind == "cut":
            trans.append((len(frames), len(frames), "cut"))
        elif kind == "dissolve":
            m = int(rng.integers(8, 21))
            m = min(m, len(s) // 3, len(frames) // 3)
            a_tail = frames[len(frames) - m:]
            del frames[len(frames) - m:]
            start = len(frames)
            for i in range(m):  # every frame of the dissolve is a true mix: 0 < alpha < 1
                frames.append(_mix(a_tail[i], s[i], (i + 1) / (m + 1)))
            s = s[m:]
            trans.append((start, len(frames), "dissolve"))
        else:  # fade out to black, hold, fade in
            fo, hold, fi = (int(rng.integers(6, 13)), int(rng.integers(0, 4)), int(rng.integers(6, 13)))
            fo, fi = min(fo, len(frames) // 3), min(fi, len(s) // 3)
            start = len(frames) - fo
            for i in range(fo):
                frames[start + i] = _mix(frames[start + i], np.zeros_like(frames[0]), (i + 1) / (fo + 1))
            frames.extend(np.zeros_like(frames[0]) for _ in range(hold))
            for i in range(fi):
                s[i] = _mix(np.zeros_like(s[0]), s[i], (i + 1) / (fi + 1))
            trans.append((start, len(frames) + fi, "fade"))
        frames.extend(s)
    video = np.stack(frames)
    # flashes: a single brightened frame well inside a shot
    bounds = [0] + [b for t in trans for b in t[:2]] + [len(video)]
    for t in range(5, len(video) - 5):
        if rng.random() < flash_prob / 40 and min(abs(t - b) for b in bounds) > 6:
            video[t] = _mix(video[t], np.full_like(video[t], 255), 0.75)
            flashes.append(t)
    return SynthVideo(video, trans, flashes)


def match_transitions(pred: list[tuple[int, int]], truth: list[tuple[int, int, str]], tol: int = 1) -> tuple[int, int, int]:
    """Greedy one-to-one matching -> (true positives, false positives, false negatives).

    A hard cut c matches a prediction whose range [s, e] lies within c +- tol (a predicted hard cut
    at c +- tol); a gradual transition [a, b) matches a prediction overlapping [a - tol, b + tol)."""
    used = [False] * len(pred)
    tp = 0
    for a, b, kind in truth:
        lo, hi = (a - tol, a + tol) if kind == "cut" else (a - tol, b + tol)
        for i, (s, e) in enumerate(pred):
            if used[i]:
                continue
            ok = (lo <= s and e <= hi) if kind == "cut" else (s <= hi and e >= lo)
            if ok:
                used[i] = True
                tp += 1
                break
    return tp, len(pred) - tp, len(truth) - tp


def draw_face(img: np.ndarray, cx: int, cy: int, size: int) -> np.ndarray:
    """Draw a cartoon frontal face (skin oval, brows, eyes, nose, mouth) of height ~1.1 * size in place:
    enough of the light/dark layout of a face that OpenCV's frontal-face Haar cascade fires on it."""
    fs = size
    cv2.ellipse(img, (cx, cy), (int(fs * 0.42), int(fs * 0.55)), 0, 0, 360, (200, 170, 150), -1, cv2.LINE_AA)
    ex, ey = int(fs * 0.18), cy - int(fs * 0.1)
    for sgn in (-1, 1):
        cv2.ellipse(img, (cx + sgn * ex, ey), (int(fs * 0.1), int(fs * 0.05)), 0, 0, 360, (40, 30, 30), -1, cv2.LINE_AA)
        cv2.line(img, (cx + sgn * ex - int(fs * .12), ey - int(fs * .1)), (cx + sgn * ex + int(fs * .12), ey - int(fs * .1)),
                 (60, 40, 30), max(1, fs // 25), cv2.LINE_AA)
    cv2.line(img, (cx, ey + int(fs * .05)), (cx, cy + int(fs * .15)), (170, 130, 115), max(1, fs // 30))
    cv2.ellipse(img, (cx, cy + int(fs * .28)), (int(fs * .14), int(fs * .04)), 0, 0, 360, (120, 50, 50), -1, cv2.LINE_AA)
    return img
