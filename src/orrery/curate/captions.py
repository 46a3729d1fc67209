"""Captions of curated clips. The captioner is pluggable (`CAPTIONERS`); the default describes what
was measured — dominant colours, brightness, amount of motion, camera motion, duration — so every
word of a caption can be checked against the clip's scores. Clips from `simulate` never come here:
they keep their ground-truth captions."""

from __future__ import annotations

import cv2
import numpy as np

from .stages import ClipItem, Stage

# hue centres on OpenCV's 0-180 scale
_HUES = [(0, "red"), (15, "orange"), (30, "yellow"), (60, "green"), (90, "cyan"), (120, "blue"),
         (150, "purple"), (180, "red")]


def colour_name(h: float, s: float, v: float) -> str:
    """HSV (OpenCV ranges: h 0-180, s and v 0-255) -> a basic colour word."""
    if v < 50:
        return "black"
    if s < 40:
        return "white" if v > 200 else "grey"
    return min(_HUES, key=lambda c: abs(c[0] - h))[1]


def dominant_colours(frames: np.ndarray, k: int = 2) -> list[str]:
    """The k most common colour words over a few frames of uint8 [T, H, W, 3] RGB."""
    idx = np.unique(np.linspace(0, len(frames) - 1, min(4, len(frames))).round().astype(int))
    hsv = np.concatenate([cv2.cvtColor(frames[i], cv2.COLOR_RGB2HSV).reshape(-1, 3) for i in idx]).astype(np.float32)
    words: dict[str, int] = {}
    for h, s, v in hsv[:: max(1, len(hsv) // 2048)]:
        w = colour_name(h, s, v)
        words[w] = words.get(w, 0) + 1
    return [w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def camera_phrase(dx: float, dy: float, still: float = 0.15) -> str:
    if max(abs(dx), abs(dy)) < still:
        return "a still camera"
    # flow to the right means the scene moves right: the camera pans left
    if abs(dx) >= abs(dy):
        return "the camera panning left" if dx > 0 else "the camera panning right"
    return "the camera tilting up" if dy > 0 else "the camera tilting down"


def motion_word(mag: float) -> str:
    return "little" if mag < 0.3 else "moderate" if mag < 1.5 else "fast"


class PropertyCaptioner:
    """Captions from measured properties: several paraphrases of the same facts."""

    def __call__(self, item: ClipItem) -> list[str]:
        s = item.scores
        cols = dominant_colours(item.frames)
        colours = " and ".join(cols)
        light = "dark" if s.get("luma", 128) < 70 else "bright" if s.get("luma", 128) > 180 else "evenly lit"
        cam = camera_phrase(s.get("camera_dx", 0.0), s.get("camera_dy", 0.0))
        mot = motion_word(s.get("motion", 0.0))
        dur = s["duration_s"]
        return [
            f"A {dur:.1f}-second {light} shot in {colours} tones with {mot} motion and {cam}.",
            f"{mot.capitalize()} motion, {cam}; mostly {colours}; {dur:.1f} s.",
            f"Real footage, {dur:.1f} s long: {colours} colours, {light}, {mot} movement, {cam}.",
        ]


CAPTIONERS = {"properties": PropertyCaptioner}


class Caption(Stage):
    name = "caption"

    def __init__(self, captioner: str = "properties"):
        self.captioner = CAPTIONERS[captioner]()

    def process(self, item: ClipItem):
        item.captions = self.captioner(item)
        return item
