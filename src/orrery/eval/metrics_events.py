"""Physics metrics around collisions: momentum and energy exchanged, restitution, timing.

Same signature as `metrics_motion`: `metric(pred, true, meta) -> float` (per clip, mean over the
collision events that fall in the predicted part of the clip; NaN when there are none).

Velocities around an event at frame f (the frame time nearest the contact) are finite differences
that stay clear of the contact: least-squares lines through rows f-3..f-1 (before) and f+1..f+3
(after), 2 rows where the clip ends. Both prediction
and truth are measured this way, so gravity acting over those frames cancels in the comparison.
Kinetic energy is translational only (spin is not read from pixels)."""

from __future__ import annotations

import numpy as np

from ..sim.parse import Tracks

# energy made by a prediction has its own file (wider windows, a noise band); the names stay here too
from .metrics_energy import ENERGY_GAIN_FLAG, energy_flag, energy_gain  # noqa: F401
from .pairing import pair

MIN_IMPACT_PX = 0.5  # px per frame of normal speed into a contact below which no restitution is read


def _events(pred: Tracks, true: Tracks, meta: dict) -> list[dict]:
    """Events in the predicted rows with two frames on each side, with their rows and columns
    (column -1 = scenery) and masses."""
    masses = {o["id"]: float(o["mass"]) for o in meta.get("objects", [])}
    colour = {o["id"]: int(o["colour_id"]) for o in meta.get("objects", [])}
    out = []
    for e in meta.get("events", []):
        r = int(e["frame"]) - true.start
        if r < max(true.future, 2) or r + 2 >= true.n_frames:  # needs 2 clear rows on each side
            continue
        cols = []
        for body in (int(e.get("a", 0)), int(e.get("b", 0))):
            if body == 0:
                cols.append(-1)
                continue
            hit = np.flatnonzero(true.colour_ids == colour.get(body, -99))
            cols.append(int(hit[0]) if hit.size else -2)  # -2: an object we cannot track
        if -2 in cols or cols == [-1, -1]:
            continue
        out.append({"row": r, "cols": cols, "masses": [masses.get(int(e.get(x, 0)), 0.0) for x in ("a", "b")],
                    "impulse": np.asarray(e.get("impulse", [0.0, 0.0]), dtype=np.float64)})
    return out


def _v(c: np.ndarray, rows: list[int], k: int, fps: float) -> np.ndarray:
    """Least-squares velocity [2] of column k over consecutive rows (a line through 2-3 points)."""
    t = np.asarray(rows, dtype=np.float64) / fps
    x = c[rows, k]
    tm = t - t.mean()
    return (tm[:, None] * (x - x.mean(0))).sum(0) / (tm * tm).sum()


def _windows(r: int, n: int) -> tuple[list[int], list[int]]:
    """Rows before and after the contact at row r: up to 3 each, at least 2, clear of r itself."""
    before = [x for x in (r - 3, r - 2, r - 1) if x >= 0]
    after = [x for x in (r + 1, r + 2, r + 3) if x < n]
    return before, after


def _exchange(c: np.ndarray, vis: np.ndarray, ev: dict, fps: float):
    """(momentum before [2], after [2], KE before, after, sum of |momentum| before) of the event's
    bodies, or None if a frame used is not seen."""
    before, after = _windows(ev["row"], c.shape[0])
    pb, pa, kb, ka, scale = np.zeros(2), np.zeros(2), 0.0, 0.0, 0.0
    for k, m in zip(ev["cols"], ev["masses"], strict=True):
        if k < 0:
            continue
        if not vis[before + after, k].all():
            return None
        vb, va = _v(c, before, k, fps), _v(c, after, k, fps)
        pb, pa = pb + m * vb, pa + m * va
        kb, ka = kb + 0.5 * m * vb @ vb, ka + 0.5 * m * va @ va
        scale += m * float(np.linalg.norm(vb))
    return pb, pa, kb, ka, scale


def _per_event(pred: Tracks, true: Tracks, meta: dict, fn) -> list[float]:
    p = pair(pred, true)
    cp, vp = p.take("centroid"), p.take("visible")
    ok = p.trusted
    vals = []
    for ev in _events(pred, true, meta):
        xp = _exchange(cp, vp & ok, ev, true.fps)
        xt = _exchange(true.centroid, ok, ev, true.fps)
        if xp is None or xt is None:
            continue
        vals.append(fn(ev, xp, xt))
    return vals


def momentum_change_error(pred: Tracks, true: Tracks, meta: dict) -> float:
    """relative: |dP_pred - dP_true| / sum_i m_i |v_i,before,true| over collisions between two
    objects (the pair's total momentum, normalised by the momentum in play, not by the total which
    is ~0 in a head-on collision; scenery contacts exchange momentum with the world and are left out)."""
    def fn(ev, xp, xt):
        if -1 in ev["cols"]:
            return np.nan
        return float(np.linalg.norm((xp[1] - xp[0]) - (xt[1] - xt[0])) / max(xt[4], 1e-9))
    vals = [v for v in _per_event(pred, true, meta, fn) if not np.isnan(v)]
    return float(np.mean(vals)) if vals else float("nan")


def energy_change_error(pred: Tracks, true: Tracks, meta: dict) -> float:
    """relative: |dKE_pred - dKE_true| / KE_before_true, every collision (scenery included)."""
    vals = _per_event(pred, true, meta, lambda ev, xp, xt: abs((xp[3] - xp[2]) - (xt[3] - xt[2])) / max(xt[2], 1e-9))
    return float(np.mean(vals)) if vals else float("nan")


def restitution_error(pred: Tracks, true: Tracks, meta: dict) -> float:
    """|e_pred - e_true| for bounces on scenery, e = |v_after . n| / |v_before . n| with n the
    contact impulse's direction."""
    p = pair(pred, true)
    cp, vp = p.take("centroid"), p.take("visible")
    ok = p.trusted
    vals = []
    for ev in _events(pred, true, meta):
        if -1 not in ev["cols"] or np.linalg.norm(ev["impulse"]) < 1e-9:
            continue
        k = [c for c in ev["cols"] if c >= 0][0]
        n = ev["impulse"] / np.linalg.norm(ev["impulse"])
        before, after = _windows(ev["row"], true.n_frames)
        rows = before + after
        if not (ok[rows, k].all() and vp[rows, k].all()):
            continue
        es = []
        vb_true = abs(_v(true.centroid, before, k, true.fps) @ n)
        if vb_true * true.camera.scale / true.fps < MIN_IMPACT_PX:
            continue  # a resting body's micro-contacts: no bounce to read a restitution from
        for c in (cp, true.centroid):
            vb, va = _v(c, before, k, true.fps) @ n, _v(c, after, k, true.fps) @ n
            # a prediction that shows (almost) no impact shows no rebound either: e = 0, not a
            # ratio of two numbers near zero (copy-last scored 5e5)
            es.append(abs(va) / abs(vb) if abs(vb) >= 0.1 * vb_true and abs(vb) > 1e-9 else 0.0)
        vals.append(abs(es[0] - es[1]))
    return float(np.mean(vals)) if vals else float("nan")


def _kink(c: np.ndarray, vis: np.ndarray, k: int, lo: int, hi: int, g: np.ndarray, fps: float) -> tuple[int, float]:
    """Row in [lo, hi) where the track bends most (|second difference - g|) and how much (m/s^2)."""
    best, val = -1, 0.0
    for r in range(max(lo, 1), min(hi, c.shape[0] - 1)):
        if not vis[r - 1:r + 2, k].all():
            continue
        a = np.linalg.norm((c[r + 1, k] - 2 * c[r, k] + c[r - 1, k]) * fps * fps - g)
        if a > val:
            best, val = r, a
    return best, val


def collision_timing(pred: Tracks, true: Tracks, meta: dict) -> tuple[float, float]:
    """(mean |frame_pred - frame_true| over detected collisions, fraction of collisions missed).
    The contact frame is where a body's track bends most within 3 frames of the event, found the
    same way in the truth; a prediction bending less than a quarter as much has missed it."""
    p = pair(pred, true)
    cp, vp = p.take("centroid"), p.take("visible")
    ok = p.trusted
    g = np.asarray(meta.get("gravity", [0.0, -9.81]), dtype=np.float64)
    errs, missed, n = [], 0, 0
    for ev in _events(pred, true, meta):
        k = [c for c in ev["cols"] if c >= 0][0]
        lo, hi = ev["row"] - 3, ev["row"] + 4
        rt, at = _kink(true.centroid, ok, k, lo, hi, g, true.fps)
        if rt < 0 or at <= 0:
            continue
        n += 1
        rp, ap = _kink(cp, vp & ok, k, lo, hi, g, true.fps)
        if rp < 0 or ap < 0.25 * at:
            missed += 1
        else:
            errs.append(abs(rp - rt))
    if n == 0:
        return float("nan"), float("nan")
    return (float(np.mean(errs)) if errs else float("nan")), missed / n


def collision_timing_error(pred: Tracks, true: Tracks, meta: dict) -> float:
    """frames: mean |parsed contact frame - true contact frame| over the collisions detected."""
    return collision_timing(pred, true, meta)[0]


def collisions_missed(pred: Tracks, true: Tracks, meta: dict) -> float:
    """fraction of true collisions in the horizon that the prediction shows no bend for."""
    return collision_timing(pred, true, meta)[1]
