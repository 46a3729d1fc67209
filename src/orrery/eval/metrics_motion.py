"""Physics metrics on object tracks: where things are, how they move, whether they persist.

Every metric has one signature, `metric(pred, true, meta) -> value`: `pred` the tracks parsed from
a model's frames, `true` the exact tracks from the clip's states (`eval.truth`), both over the same
rows with the prediction starting at row `true.future`. A per-step metric returns float [H] (one
value per future frame, NaN where nothing could be measured); a per-clip metric returns a float.
Velocities are finite differences of positions one frame apart, for the prediction and the truth
alike, so that the oracle scores exactly the parser's error."""

from __future__ import annotations

import numpy as np

from ..sim.parse import Tracks
from .pairing import nanmean, pair


def position_error_px(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] px: distance between parsed and true centroids, mean over objects seen in both."""
    p = pair(pred, true)
    ok = p.trusted & p.take("visible")
    d = np.linalg.norm(p.take("centroid_px") - true.centroid_px, axis=-1)
    return nanmean(np.where(ok, d, np.nan)[p.future:], axis=1)


def position_error_m(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] m: the same distance in world units."""
    return position_error_px(pred, true, meta) / true.camera.scale


def _velocities(c: np.ndarray, ok: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """c [T, K, 2] -> v [T, K, 2] with v[t] = (c[t] - c[t-1]) * fps (row 0 NaN), valid [T, K]."""
    v = np.full_like(c, np.nan)
    v[1:] = (c[1:] - c[:-1]) * fps
    valid = np.zeros_like(ok)
    valid[1:] = ok[1:] & ok[:-1]
    return v, valid


def velocity_error_per_frame(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] m/s: |v_pred(t) - v_true(t)| at each future frame t (per-frame velocities, then the
    error; averaging this over t gives the mean per-frame velocity error)."""
    p = pair(pred, true)
    ok = p.trusted & p.take("visible")
    vp, okp = _velocities(p.take("centroid"), ok, true.fps)
    vt, _ = _velocities(true.centroid, ok, true.fps)
    d = np.linalg.norm(vp - vt, axis=-1)
    return nanmean(np.where(okp, d, np.nan)[p.future:], axis=1)


def velocity_error_time_avg(pred: Tracks, true: Tracks, meta: dict) -> float:
    """m/s: |mean_t v_pred(t) - mean_t v_true(t)| over the horizon (time-averaged velocities, then
    the error), i.e. the error of the mean displacement rate from the last context frame to the
    last predicted one. Objects not seen at both ends are skipped."""
    p = pair(pred, true)
    ok = p.trusted & p.take("visible")
    a, b = p.future - 1, true.n_frames - 1
    if a < 0:
        return float("nan")
    span = (b - a) / true.fps
    both = ok[a] & ok[b]
    cp, ct = p.take("centroid"), true.centroid
    vp = (cp[b] - cp[a]) / span
    vt = (ct[b] - ct[a]) / span
    d = np.linalg.norm(vp - vt, axis=-1)
    return nanmean(np.where(both, d, np.nan))


def free_flight_runs(meta: dict, true: Tracks, min_len: int = 5) -> list[tuple[int, int, int]]:
    """(column k, first row, stop row) of runs of rows in which object k flies freely: its exact
    second differences equal gravity and no collision event is within a frame. Rows start at the
    last context frame so that the whole prediction can be fitted."""
    g = np.asarray(meta.get("gravity", [0.0, -9.81]), dtype=np.float64)
    c = true.centroid
    dt = 1.0 / true.fps
    acc = np.full(c.shape, np.nan)
    acc[1:-1] = (c[2:] - 2 * c[1:-1] + c[:-2]) / dt**2
    tol = 0.05 * np.linalg.norm(g) + 0.05
    free = np.linalg.norm(acc - g, axis=-1) < tol  # [T, K] interior rows only
    ids = [o["id"] for o in meta.get("objects", [])]
    for e in meta.get("events", []):
        r = int(e["frame"]) - true.start
        for body in (e.get("a", 0), e.get("b", 0)):
            if body in ids:
                k = np.flatnonzero(true.colour_ids == meta["objects"][ids.index(body)]["colour_id"])
                if k.size:
                    free[max(r - 1, 0):max(r + 2, 0), k[0]] = False
    ok = true.complete if true.complete is not None else true.visible
    runs = []
    first = max(true.future - 1, 0)
    for k in range(c.shape[1]):
        # a row r is usable when the parabola through r-1, r, r+1 is free flight
        use = np.zeros(c.shape[0], dtype=bool)
        use[first:] = ok[first:, k]
        inner = free[:, k]
        r = first
        while r < c.shape[0]:
            if not use[r]:
                r += 1
                continue
            s = r
            while r + 1 < c.shape[0] and use[r + 1] and inner[r]:
                r += 1
            if r + 1 - s >= min_len:
                runs.append((k, s, r + 1))
            r += 1
    return runs


def _fit_acceleration(c: np.ndarray, fps: float) -> np.ndarray:
    """c [L, 2] positions at consecutive frames -> least-squares constant acceleration [2]."""
    t = np.arange(c.shape[0]) / fps
    a = np.stack([np.ones_like(t), t, t * t], axis=1)
    coef, *_ = np.linalg.lstsq(a, c, rcond=None)
    return 2.0 * coef[2]


def acceleration_error(pred: Tracks, true: Tracks, meta: dict) -> float:
    """m/s^2: |a_pred - a_true| of constant-acceleration fits over the free-flight runs of the
    horizon (a_true is the same fit on the exact states, i.e. gravity). Mean over runs."""
    p = pair(pred, true)
    vis = p.take("visible")
    cp = p.take("centroid")
    errs = []
    for k, s, e in free_flight_runs(meta, true):
        if not vis[s:e, k].all():
            continue
        errs.append(np.linalg.norm(_fit_acceleration(cp[s:e, k], true.fps) - _fit_acceleration(true.centroid[s:e, k], true.fps)))
    return float(np.mean(errs)) if errs else float("nan")


def gravity_recovered(pred: Tracks, true: Tracks, meta: dict) -> float:
    """m/s^2: the vertical acceleration the prediction shows over free flight (compare with
    meta['gravity'][1]); mean over runs."""
    p = pair(pred, true)
    vis = p.take("visible")
    cp = p.take("centroid")
    ays = [_fit_acceleration(cp[s:e, k], true.fps)[1] for k, s, e in free_flight_runs(meta, true) if vis[s:e, k].all()]
    return float(np.mean(ays)) if ays else float("nan")


def objects_lost(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] count: objects the truth shows in full that the prediction does not show at all."""
    p = pair(pred, true)
    lost = p.trusted & ~p.take("visible")
    return lost[p.future:].sum(axis=1).astype(np.float64)


def objects_visible(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] count: objects the truth shows in full (the denominator of objects_lost as a share)."""
    p = pair(pred, true)
    return p.trusted[p.future:].sum(axis=1).astype(np.float64)


def objects_spawned(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] count: palette colours the prediction shows where the truth has no object of that colour
    in view (new objects, or objects that should have left)."""
    scene = {int(o["colour_id"]) for o in meta.get("objects", [])}
    out = np.zeros(true.n_frames - true.future)
    for j, c in enumerate(pred.colour_ids):
        seen = pred.visible[true.future:, j]
        if int(c) in set(true.colour_ids.tolist()):
            k = int(np.flatnonzero(true.colour_ids == c)[0])
            out += seen & ~true.visible[true.future:, k]
        elif int(c) not in scene:  # colours shared by two objects are ambiguous: never counted
            out += seen
    return out


def objects_untracked(pred: Tracks, true: Tracks, meta: dict) -> float:
    """count: objects of the clip left out of every physics metric because another object shares
    their colour (a property of the data, the same for every model; listed so it is not hidden)."""
    from .truth import tracked_objects

    return float(len(tracked_objects(meta)[1]))


def size_drift(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] relative: |size_pred - size_true| / size_true (area-equivalent radius)."""
    p = pair(pred, true)
    ok = p.trusted & p.take("visible")
    rel = np.abs(p.take("size") - true.size) / np.maximum(true.size, 1e-9)
    return nanmean(np.where(ok, rel, np.nan)[p.future:], axis=1)


SHAPE_CAP = 20.0  # elongations beyond this are a smear or a line: capped so one frame cannot dominate


def shape_drift(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] |ln(elongation_pred / elongation_true)|, elongation = sqrt of the ratio of principal
    second moments, capped at SHAPE_CAP (a disc squashed into an ellipse, a box into a square;
    0.1 ~ 10 % change)."""
    p = pair(pred, true)
    ok = p.trusted & p.take("visible")
    e = np.minimum(p.take("elongation"), SHAPE_CAP)
    d = np.abs(np.log(e / true.elongation))
    return nanmean(np.where(ok, d, np.nan)[p.future:], axis=1)


def colour_drift(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] RGB units (0-441): distance of an object's mean core colour from its palette colour."""
    p = pair(pred, true)
    ok = p.trusted & p.take("visible")
    d = np.linalg.norm(p.take("colour_rgb") - true.colour_rgb, axis=-1)
    return nanmean(np.where(ok, d, np.nan)[p.future:], axis=1)


def _periods(true: Tracks, meta: dict) -> np.ndarray:
    """[K] symmetry period of each true object's orientation (pi, pi/2 for squares; pi otherwise)."""
    from ..sim.parse import box_axis
    from .truth import tracked_objects

    period = np.full(len(true.colour_ids), np.pi)
    for j, (_, o) in enumerate(tracked_objects(meta)[0]):
        ax = box_axis(o)
        if ax is not None:
            period[j] = ax[1]
    return period


def _wrap(d: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Angle differences into [-period/2, period/2)."""
    return (d + period / 2) % period - period / 2


def angular_velocity_error(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] rad/s: |w_pred(t) - w_true(t)| of rectangles, w(t) = wrapped orientation change from
    t-1 to t times fps (modulo the shape's symmetry, so spins faster than half a period per frame
    alias the same way in prediction and truth)."""
    p = pair(pred, true)
    period = _periods(true, meta)
    ok = p.trusted & p.take("visible") & ~np.isnan(true.orientation)
    op = p.take("orientation")
    wp = np.full(op.shape, np.nan)
    wt = np.full(op.shape, np.nan)
    wp[1:] = _wrap(op[1:] - op[:-1], period) * true.fps
    wt[1:] = _wrap(true.orientation[1:] - true.orientation[:-1], period) * true.fps
    both = np.zeros_like(ok)
    both[1:] = ok[1:] & ok[:-1]
    d = np.abs(wp - wt)
    return nanmean(np.where(both & ~np.isnan(d), d, np.nan)[p.future:], axis=1)


def orientation_error_deg(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] degrees: orientation error of rectangles, modulo their symmetry (pi, or pi/2 for squares)."""
    p = pair(pred, true)
    ok = p.trusted & p.take("visible") & ~np.isnan(true.orientation)
    period = _periods(true, meta)
    d = (p.take("orientation") - true.orientation) % period
    d = np.minimum(d, period - d)
    return np.degrees(nanmean(np.where(ok & ~np.isnan(d), d, np.nan)[p.future:], axis=1))


def interpenetration_px(pred: Tracks, true: Tracks, meta: dict) -> np.ndarray:
    """[H] px: deepest overlap between two predicted discs (true radii at predicted centroids),
    over pairs of round objects seen in the prediction; 0 when nothing overlaps. A lower bound: the
    front disc hides part of the back one, which pulls the back one's parsed centroid away."""
    from .truth import tracked_objects

    p = pair(pred, true)
    vis = p.take("visible")
    c = p.take("centroid_px")
    specs = [o for _, o in tracked_objects(meta)[0]]
    round_ = [j for j, o in enumerate(specs) if o.shape == "circle"]
    out = np.zeros(true.n_frames - p.future)
    for i, a in enumerate(round_):
        for b in round_[i + 1:]:
            d = np.linalg.norm(c[:, a] - c[:, b], axis=-1)
            depth = (true.size_px[:, a] + true.size_px[:, b]) - d
            depth = np.where(vis[:, a] & vis[:, b] & ~np.isnan(depth), np.maximum(depth, 0.0), 0.0)
            out = np.maximum(out, depth[p.future:])
    return out
