"""Impossible edits of true videos: what the verifier must flag.

Each edit takes a simulated clip's record (meta, with its states) and its frames and returns edited
frames, or None where the edit does not apply (no bounce to reverse, nothing in free flight to
flip). All but `reversed` re-render edited states with the clip's own renderer, so nothing but the
physics changes:

- `reversed`: the clip played backwards; damped bounces then gain energy at every bounce
  (bounce clips with a bounce inside the frames);
- `flipped_gravity`: from a third of the way in, every body in free flight falls upwards with the
  same |g| (projectile and bounce clips);
- `teleport`: halfway through, one body jumps by 2.5 times its size towards the middle of the view;
- `vanish`: halfway through, one body seen whole disappears;
- `grow`: from a third of the way in, one body grows steadily to 1.6 times its size.
The body is the first (lowest id) passive body seen whole for STAY frames from the edit's frame
(and, teleported, at its new place): an edit nobody could see is not made."""

from __future__ import annotations

import copy

import numpy as np

from ..data.camera import Camera
from ..data.objects import ObjectSpec, StaticSpec
from ..sim.render import Renderer

EDITS = ("reversed", "flipped_gravity", "teleport", "vanish", "grow")
STAY = 6  # frames the edited body must stay whole in view after the edit (so the edit is seen)


def _scene(meta: dict, size: int):
    cam = Camera.from_dict(meta["camera"]).resized(size)
    statics = [StaticSpec.from_dict(s) for s in meta.get("statics", [])]
    objs = [ObjectSpec.from_dict(o) for o in meta["objects"]]
    pos = np.asarray(meta["states"]["position"], np.float64)
    ang = np.asarray(meta["states"]["angle"], np.float64)
    return cam, statics, objs, pos, ang


def _reach(o: ObjectSpec) -> float:
    return o.radius if o.shape == "circle" else float(np.max(np.linalg.norm(np.asarray(o.vertices), axis=1)))


def _whole(cam: Camera, o: ObjectSpec, p: np.ndarray) -> bool:
    lo, hi = np.array([cam.x0, cam.y0]), np.array([cam.x0, cam.y0]) + cam.extent
    r = _reach(o) + 2.0 / cam.scale
    return bool(np.all(p - r >= lo) and np.all(p + r <= hi))


def _body(cam, objs, pos, k: int, stay: int = 1) -> int | None:
    """The first passive body seen whole in frames k .. k + stay - 1."""
    for j, o in enumerate(objs):
        if o.role == "object" and all(_whole(cam, o, pos[i, j]) for i in range(k, min(k + stay, len(pos)))):
            return j
    return None


def edit(name: str, meta: dict, frames: np.ndarray) -> np.ndarray | None:
    """Frames uint8 [T, S, S, 3] of the clip with the impossible edit `name` (see the module doc),
    or None where it does not apply."""
    if name not in EDITS:
        raise ValueError(f"unknown edit {name!r}; choose from {', '.join(EDITS)}")
    t, size = frames.shape[0], frames.shape[1]
    if name == "reversed":
        bounces = [e for e in meta.get("events", []) if e.get("b", 1) == 0 and 2 <= e["frame"] < t - 3]
        return frames[::-1].copy() if meta.get("scenario") == "bounce" and bounces else None
    cam, statics, objs, pos, ang = _scene(meta, size)
    pos, ang = pos[:t].copy(), ang[:t].copy()
    render = Renderer(cam, statics)
    if name == "flipped_gravity":
        if meta.get("scenario") not in ("projectile", "bounce"):
            return None
        k = t // 3
        g = np.asarray(meta.get("gravity", [0.0, -9.81]), np.float64)
        vel = np.asarray(meta["states"]["velocity"], np.float64)[:t]
        dt = (np.arange(t - k) / float(meta["fps"]))[:, None, None]
        pos[k:] = pos[k] + vel[k] * dt - 0.5 * g * dt * dt
        inside = [all(_whole(cam, o, pos[i, j]) for j, o in enumerate(objs)) for i in range(k, min(k + 5, t))]
        return render.render_clip(objs, pos, ang)[0] if all(inside) else None
    k = t // 2 if name in ("teleport", "vanish") else t // 3
    j = _body(cam, objs, pos, k, STAY)
    if j is None:
        return None
    if name == "teleport":
        centre = np.array([cam.x0, cam.y0]) + cam.extent / 2
        d = centre - pos[k, j]
        d = d / max(np.linalg.norm(d), 1e-9)
        pos[k:, j] += d * 2.5 * _reach(objs[j])
        if not all(_whole(cam, objs[j], pos[i, j]) for i in range(k, min(k + STAY, t))):
            return None
        return render.render_clip(objs, pos, ang)[0]
    if name == "vanish":
        vis = np.ones(pos.shape[:2], dtype=bool)
        vis[k:, j] = False
        return render.render_clip(objs, pos, ang, vis)[0]
    out = np.empty_like(frames)
    for i in range(t):
        grown = list(objs)
        s = 1.0 + 0.6 * max(0, i - k) / max(t - 1 - k, 1)
        o = copy.deepcopy(objs[j])
        o.radius *= s
        o.vertices = [[x * s, y * s] for x, y in o.vertices]
        grown[j] = o
        out[i] = render.render(grown, pos[i], ang[i])[0]
    return out
