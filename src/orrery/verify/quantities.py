"""Physical quantities measured from a video's pixels alone, in world units through the layout's
camera: what a caption stated, read back (`sim.stated` lists what can be stated).

- `gravity` (m/s^2): the acceleration of the subject's free flight (`motion.field` of its windows);
- `restitution`: |v_after . n| / |v_before . n| at the subject's bounces on scenery (n the
  direction of the velocity change), velocities taken where the free parabolas before and after
  meet (the contact instant, not seen between two frames): the bounce-height ratio's square root;
- `speed` (m/s): the subject's median displacement rate from `start` until it first touches another
  body (rolling on a floor counts): the speed it starts with;
- `heavier` (1.0 or 0.0): whether the subject changed velocity less than the other body in their
  collision (momentum: m_s / m_o = |dv_o| / |dv_s|).
Each is NaN where the video does not show it (no bounce, no free flight, no collision)."""

from __future__ import annotations

import numpy as np

from .laws import episodes
from .motion import LONG_WINDOW, Fit, field, segments, windows
from .scene import CONTACT_PX, Scene, read_scene

QUANTITIES = ("restitution", "gravity", "speed", "heavier")


def _meet(a: Fit, b: Fit) -> float:
    """The instant in [a's last frame, b's first] where the two parabolas come closest."""
    taus = np.linspace(a.e - 1, b.s, 9)
    return float(taus[np.argmin([np.linalg.norm(a.pos(t) - b.pos(t)) for t in taus])])


def _column(scene: Scene, colour: int) -> int | None:
    hit = np.flatnonzero(scene.tracks.colour_ids == colour)
    return int(hit[0]) if hit.size and scene.tracks.visible[:, hit[0]].any() else None


def measure_scene(scene: Scene, scale: float, subject: int, other: int | None = None, start: int = 0) -> dict:
    """{quantity: value} for the body of colour `subject` (and `other`); `scale` px per metre;
    only frames from `start` on count (a prediction after its context)."""
    fps = scene.fps
    k = _column(scene, subject)
    out = dict.fromkeys(QUANTITIES, float("nan"))
    if k is None:
        return out
    wins = [w for w in (windows(scene, LONG_WINDOW) or windows(scene)) if w.e > start and w.k == k]
    fld = field(wins, scene)
    if fld.n:
        out["gravity"] = float(np.linalg.norm(fld.g)) * fps * fps / scale
    segs = [s for s in segments(scene) if s.e > start]
    es, heavier = [], []
    j = None if other is None else _column(scene, other)
    for ep in episodes(scene, segs):
        if k not in ep["pairs"]:
            continue
        a, b = ep["pairs"][k]
        t = _meet(a, b)
        dv = b.vel(t) - a.vel(t)
        if ep["scenery"] and len(ep["pairs"]) == 1 and np.linalg.norm(dv) > 0:
            n = dv / np.linalg.norm(dv)
            es.append(abs(b.vel(t) @ n) / max(abs(a.vel(t) @ n), 1e-9))
        if j is not None and j in ep["pairs"] and not ep["scenery"]:
            a2, b2 = ep["pairs"][j]
            dv2 = b2.vel(t) - a2.vel(t)
            heavier.append(float(np.linalg.norm(dv) < np.linalg.norm(dv2)))
    if es:
        out["restitution"] = float(np.median(es))
    if heavier:
        out["heavier"] = float(np.mean(heavier) >= 0.5)
    alone = ~(scene.gap[:, k] <= CONTACT_PX + 1.0).any(-1)  # rolling on a floor is fine, a collision is not
    free = scene.tracks.visible[:, k] & scene.inview[:, k] & alone
    hit = np.flatnonzero(~alone[start:])  # the initial speed lasts until the first collision
    stop = start + int(hit[0]) if hit.size else len(free)
    c = scene.tracks.centroid_px[:, k]
    steps = [np.linalg.norm(c[t] - c[t - 1]) for t in range(max(start, 1), stop) if free[t] and free[t - 1]]
    if steps:
        out["speed"] = float(np.median(steps)) * fps / scale
    return out


def measure(frames: np.ndarray, fps: float, layout, subject: int, other: int | None = None, start: int = 0) -> dict:
    """Quantities of a video uint8 [T, S, S, 3] (see the module doc); `layout` gives the camera
    (metres per pixel) and the scenery."""
    if layout is None or getattr(layout, "camera", None) is None:
        raise ValueError("measuring in world units needs the scene's layout (its camera)")
    scene = read_scene(frames, fps, layout)
    return measure_scene(scene, layout.camera.resized(frames.shape[1]).scale, subject, other, start)
