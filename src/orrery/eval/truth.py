"""Ground-truth tracks straight from a clip's meta (exact states, no pixels involved), in the same
`Tracks` layout the parser produces, so every metric compares like with like."""

from __future__ import annotations

import numpy as np

from ..data.camera import Camera
from ..data.objects import ObjectSpec
from ..sim.palette import PALETTE
from ..sim.parse import Tracks, box_axis


class NoGroundTruth(ValueError):
    """The clip carries no simulated states (a curated clip): physics metrics cannot be computed."""


def tracked_objects(meta: dict) -> tuple[list[tuple[int, ObjectSpec]], list[int]]:
    """Objects the parser can follow, as (index in meta order, spec); and the ids of objects left
    out because another object shares their colour (colour is the only identity in pixels)."""
    objs = [ObjectSpec.from_dict(o) for o in meta.get("objects", [])]
    seen: dict[int, int] = {}
    for o in objs:
        seen[o.colour_id] = seen.get(o.colour_id, 0) + 1
    keep = [(i, o) for i, o in enumerate(objs) if seen[o.colour_id] == 1]
    ambiguous = [o.id for o in objs if seen[o.colour_id] > 1]
    return keep, ambiguous


def true_tracks(meta: dict, start: int, stop: int, size: int | None = None, masks: np.ndarray | None = None,
                future: int = 0) -> Tracks:
    """Tracks of clip frames [start, stop) from exact states. `size`: frame size in px (the meta's
    camera is resized to it); `masks` uint8 [T_clip, H, W] refine visibility and occlusion."""
    states = meta.get("states")
    if not states or "position" not in states:
        raise NoGroundTruth(f"clip {meta.get('key', '?')}: no simulated states (curated clip?)")
    camera = Camera.from_dict(meta["camera"])
    if size is not None and size != camera.size:
        camera = camera.resized(size)
    keep, _ = tracked_objects(meta)
    pos = np.asarray(states["position"], dtype=np.float64)[start:stop]  # [T, N, 2]
    ang = np.asarray(states.get("angle", np.zeros(pos.shape[:2])), dtype=np.float64)[start:stop]
    idx = [i for i, _ in keep]
    specs = [o for _, o in keep]
    t, k = pos.shape[0], len(keep)
    p = pos[:, idx] if k else np.zeros((t, 0, 2))
    px = camera.to_pixel(p)
    size_m = np.array([o.size for o in specs], dtype=np.float64)
    # the object's extent from its centre: radius, or the farthest vertex
    reach = np.array([o.radius if o.shape == "circle" else float(np.max(np.linalg.norm(np.asarray(o.vertices), axis=1)))
                      for o in specs], dtype=np.float64) * camera.scale
    n = camera.size
    lo, hi = -0.5, n - 0.5
    inside_any = ((px + reach[None, :, None] > lo) & (px - reach[None, :, None] < hi)).all(-1)
    inside_all = ((px - reach[None, :, None] >= lo) & (px + reach[None, :, None] <= hi)).all(-1)
    visible = inside_any
    complete = inside_all.copy()
    if masks is not None and k:
        m = masks[start:stop]
        if m.shape[1] != n:
            raise ValueError(f"masks: {m.shape[1]} px but frames are {n} px")
        ids = np.array([o.id for o in specs])
        counts = (m[..., None] == ids).sum(axis=(1, 2))  # [T, K]
        nominal = np.pi * (size_m * camera.scale) ** 2
        visible = counts > 0
        # partly hidden behind another object: its pixels would bias the parsed centroid
        complete &= counts >= 0.8 * nominal
    orient = np.full((t, k), np.nan)
    for j, o in enumerate(specs):
        axis = box_axis(o)
        if axis is not None:
            orient[:, j] = (ang[:, idx[j]] + axis[0]) % axis[1]
    elong = np.array([shape_elongation(o) for o in specs], dtype=np.float64)
    size_px = np.broadcast_to(size_m * camera.scale, (t, k)).copy()
    rgb = np.broadcast_to(np.array([PALETTE[o.colour_id].rgb for o in specs], np.float64).reshape(1, k, 3),
                          (t, k, 3)).copy()
    tr = Tracks(colour_ids=np.array([o.colour_id for o in specs], dtype=np.int64), visible=visible,
                centroid_px=px, centroid=p.copy(), area_px=np.pi * size_px**2, size_px=size_px,
                size=np.broadcast_to(size_m, (t, k)).copy(), orientation=orient, colour_rgb=rgb,
                elongation=np.broadcast_to(elong, (t, k)).copy(),
                camera=camera, fps=float(meta["fps"]), start=start, future=future, complete=complete)
    return tr



def shape_elongation(spec: ObjectSpec) -> float:
    """sqrt(ratio of principal second moments of area): 1 for discs and regular polygons, w/h for a
    w x h rectangle (Green's theorem on the polygon's vertices)."""
    if spec.shape == "circle":
        return 1.0
    v = np.asarray(spec.vertices, dtype=np.float64)
    x, y = v[:, 0], v[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    a = cross.sum() / 2.0
    cx = ((x + x1) * cross).sum() / (6 * a)
    cy = ((y + y1) * cross).sum() / (6 * a)
    ixx = ((y * y + y * y1 + y1 * y1) * cross).sum() / 12.0 - a * cy * cy  # integral of y^2 about centroid
    iyy = ((x * x + x * x1 + x1 * x1) * cross).sum() / 12.0 - a * cx * cx
    ixy = ((x * y1 + 2 * x * y + 2 * x1 * y1 + x1 * y) * cross).sum() / 24.0 - a * cx * cy
    lam = np.linalg.eigvalsh(np.array([[iyy, ixy], [ixy, ixx]]))
    return float(np.sqrt(lam[1] / lam[0])) if lam[0] > 0 else float("inf")


# ---- can this clip be scored? -----------------------------------------------------------------

STATE_NAMES = ("position", "velocity", "angle", "angular_velocity")


def truth_problem(meta: dict, start: int, stop: int) -> tuple[str, str] | None:
    """Why a clip's ground truth cannot score frames [start, stop), or None when it can.

    Returns (reason, scope): scope 'clip' when nothing of it can be scored (a frame rate or camera
    that is not a positive finite number, states that are NaN, inf, or of the wrong shape), or
    'physics' when only the image metrics can (no simulated states: a curated clip). Every caller
    lists such clips in `skipped`, so no clip drops out of a mean unseen."""
    fps = meta.get("fps")
    if not isinstance(fps, (int, float)) or isinstance(fps, bool) or not np.isfinite(fps) or fps <= 0:
        return f"fps {fps!r} is not a positive finite frame rate", "clip"
    cam = meta.get("camera")
    if cam is not None:
        try:
            c = Camera.from_dict(cam)
        except (KeyError, TypeError, ValueError):
            return "camera: not a {x0, y0, extent, size} record", "clip"
        if not all(np.isfinite([c.x0, c.y0, c.extent])) or c.extent <= 0 or c.size <= 0:
            return f"camera extent {c.extent!r} / size {c.size!r}: not positive and finite", "clip"
    states = meta.get("states")
    if not states:
        return "no simulated states (curated clip?): scored on image metrics only", "physics"
    if cam is None:
        return "states but no camera: positions cannot be placed in the frame", "clip"
    n_obj = len(meta.get("objects") or [])
    for name in STATE_NAMES:
        if name not in states:
            if name == "position":
                return "states without positions", "clip"
            continue
        try:
            arr = np.asarray(states[name], dtype=np.float64)
        except (TypeError, ValueError):
            return f"states.{name}: not a numeric array", "clip"
        want = (2,) if name in ("position", "velocity") else ()
        if arr.ndim != 2 + len(want) or arr.shape[1] != n_obj or arr.shape[2:] != want:
            return (f"states.{name}: shape {list(arr.shape)}, expected [T, {n_obj}"
                    + (", 2]" if want else "]")), "clip"
        if arr.shape[0] < stop:
            return f"states.{name}: {arr.shape[0]} frames, {stop} needed", "clip"
        bad = ~np.isfinite(arr[start:stop])
        if bad.any():
            frame = start + int(np.argwhere(bad)[0][0])
            return f"states.{name}: NaN or inf at frame {frame}", "clip"
    return None
