"""Parsing videos made anywhere: what `parse_objects` does, made robust to a generator's colour
pipeline and codec.

`parse_video` reads objects like the renderer's inverse does, with four additions:

1. **calibration** (`sim.calibrate`): the palette and background the video shows (hue, saturation,
   brightness, contrast, gamma), estimated from the video's own object interiors; the scene's
   known colours (its layout) explain them first;
2. **solid evidence**: a colour is found in a frame only where it has at least `FREE_MIN` core
   pixels (near-opaque) that touch no other colour's core (within two pixels for colours the scene
   is not known to hold). A codec that subsamples chroma (yuv420p) desaturates the rim of every
   object, and a rim can pass for another palette colour (yellow's rim reads white, magenta's
   purple; blue bleeding into a grey floor reads purple); a rim has no pixel clear of the object
   it surrounds;
3. **track continuity**: a colour counts in a frame only if it is found in `PERSIST` consecutive
   frames around it (a codec's stray blotch flickers; an object persists). The colours left are
   solved again without the others, so rim pixels return to their object or to nothing;
4. **one body per colour**: each colour keeps its largest connected blob of coverage per frame,
   so a stray fragment elsewhere cannot pull an object's centroid.

Measured (`benchmarks/artefacts.py`): see docs/eval.md."""

from __future__ import annotations

import cv2
import numpy as np

from ..data.camera import Camera
from .calibrate import calibrate
from .parse import CORE_ALPHA, Tracks, _grow, check_inputs, coverage, measure

FREE_MIN = 2  # core pixels clear of every other colour's core that make a colour found in a frame
PERSIST = 2  # consecutive frames (around each frame) a colour must be found in to count there


def _found(core: np.ndarray, strict: np.ndarray) -> np.ndarray:
    """bool [T, K]: colours with at least FREE_MIN core pixels clear of every other colour's core:
    by one pixel, or by two for the `strict` [K] colours (those the scene is not known to hold)."""
    n = core.sum(-1, dtype=np.int16)[..., None]  # [T, H, W, 1] colours with a core at each pixel
    others = (n - core) > 0  # [T, H, W, K] other colours' cores
    near = _grow(others, 1)
    near[..., strict] = _grow(others[..., strict], 2)
    return (core & ~near).sum(axis=(1, 2)) >= FREE_MIN


def _persistent(found: np.ndarray, run: int) -> np.ndarray:
    """bool [T, K]: frames that lie in a run of at least `run` consecutive found frames (all found
    frames when the video is shorter than `run`)."""
    t = found.shape[0]
    if t < run or run <= 1:
        return found.copy()
    out = np.zeros_like(found)
    for k in range(found.shape[1]):
        r = 0
        while r < t:
            if not found[r, k]:
                r += 1
                continue
            s = r
            while r < t and found[r, k]:
                r += 1
            if r - s >= run:
                out[s:r, k] = True
    return out


def _main_blob(weights: np.ndarray) -> None:
    """Keep, per frame and colour, the connected blob of coverage holding the most weight (in place)."""
    t, _, _, k = weights.shape
    for ti in range(t):
        for ki in range(k):
            w = weights[ti, :, :, ki]
            if not w.any():
                continue
            n, lab = cv2.connectedComponents((w > 0).astype(np.uint8), connectivity=8)
            if n <= 2:
                continue
            mass = np.bincount(lab.ravel(), weights=w.ravel(), minlength=n)
            mass[0] = -1.0
            w[lab != int(mass.argmax())] = 0.0


def parse_video(frames: np.ndarray, camera: Camera, background: np.ndarray | None = None, expected=None,
                fps: float = 0.0, keep_weights: bool = False, start: int = 0, future: int = 0,
                palette: np.ndarray | None = None) -> Tracks:
    """Objects in frames uint8 [T, H, W, 3] from any source, one track per palette colour (see the
    module doc). `background`: the scene as rendered without objects (black by default);
    `expected`: colour ids the scene is known to hold (its layout), or None."""
    camera, pal0 = check_inputs(frames, camera, palette)
    k = len(pal0)
    cal = calibrate(frames, background, pal0, expected)
    pal = np.clip(np.round(cal.palette), 0, 255).astype(np.uint8)
    _, core = coverage(frames, cal.background, pal)
    strict = np.ones(k, dtype=bool)
    if expected is not None:
        strict[[int(c) for c in expected if 0 <= int(c) < k]] = False
    found = _persistent(_found(core, strict), PERSIST)
    keep = np.flatnonzero(found.any(0))
    weights = np.zeros(frames.shape[:3] + (k,), np.float32)
    core = np.zeros(frames.shape[:3] + (k,), bool)
    if keep.size:
        w2, c2 = coverage(frames, cal.background, pal[keep])
        weights[..., keep], core[..., keep] = w2, c2
    weights *= found[:, None, None, :]
    _main_blob(weights)
    core &= weights >= CORE_ALPHA
    return measure(frames, weights, core, np.arange(k), camera, fps, keep_weights, start, future)


def concat_tracks(a: Tracks, b: Tracks) -> Tracks:
    """Tracks of a's frames followed by b's (same colours and camera); `start` and `future` from a."""
    if not np.array_equal(a.colour_ids, b.colour_ids):
        raise ValueError("tracks: the two parts track different colours")
    cat = {name: np.concatenate([getattr(a, name), getattr(b, name)], axis=0)
           for name in ("visible", "centroid_px", "centroid", "area_px", "size_px", "size", "orientation",
                        "colour_rgb", "elongation")}
    weights = None
    if a.weights is not None and b.weights is not None:
        weights = np.concatenate([a.weights, b.weights], axis=0)
    return Tracks(colour_ids=a.colour_ids, camera=a.camera, fps=a.fps, start=a.start, future=a.future,
                  weights=weights, **cat)
