"""Energy a prediction makes in collisions, beyond what the truth does.

`energy_gain(pred, true, meta)` is, for each collision of the horizon, the change of kinetic energy
the prediction shows minus the change the truth shows, in units of the energy in play (the larger
of the truth's kinetic energy before and after): 0 = the truth's exchange, +1 = one energy-in-play
more than physics gives. It compares with what the truth does, so an actuated pusher that adds
energy is no false alarm; the energy in play, not the energy before, is the unit, so a body at rest
that gets hit does not divide by nearly zero. The largest value over the collisions is returned;
collisions the prediction shows (almost) no motion into are skipped (nothing to gain energy from).

`energy_flag` fires when that excess is beyond ENERGY_GAIN_FLAG of the energy in play **and** beyond
the measurement's own noise band: positions read from pixels carry POSITION_NOISE_PX of error per
frame (a disc's centroid at the floor: 0.03-0.1 px; boxes and codecs more), which makes the kinetic energy of a body moving
at v uncertain by about m (v sigma_v + sigma_v^2); NOISE_Z of those bands, summed over the bodies
before and after, are never flagged. So a slow collision at 32 px, whose energy the pixels cannot
resolve, is not flagged, while a prediction that doubles the speeds is.

Velocities are least-squares lines over up to WINDOW rows on each side of the contact, skipping the
rows next to it (where touching bodies bias each other's centroids), for prediction and truth
alike; within 2 rows of the clip's ends the nearer rows are used."""

from __future__ import annotations

import numpy as np

from ..sim.parse import Tracks
from .pairing import pair

ENERGY_GAIN_FLAG = 0.25  # 25% of the energy in play more than the truth
POSITION_NOISE_PX = 0.15  # px per frame: what a parsed centroid may be off by, frame to frame
NOISE_Z = 2.0  # noise bands (see the module doc) an excess must clear to be flagged
WINDOW = 5  # rows on each side of a contact used for its velocities


def windows(r: int, n: int) -> tuple[list[int], list[int]]:
    """Rows before and after a contact at row r: up to WINDOW each, clear of r - 1 .. r + 1 when
    two such rows exist, else the nearest rows (at least two)."""
    before = [x for x in range(r - 1 - WINDOW, r - 1) if x >= 0]
    after = [x for x in range(r + 2, r + 2 + WINDOW) if x < n]
    if len(before) < 2:
        before = [x for x in (r - 3, r - 2, r - 1) if x >= 0]
    if len(after) < 2:
        after = [x for x in (r + 1, r + 2, r + 3) if x < n]
    return before, after


def _line(c: np.ndarray, rows: list[int], k: int, fps: float) -> tuple[np.ndarray, float]:
    """(least-squares velocity [2] of column k over rows, its standard error per unit position noise)."""
    t = np.asarray(rows, dtype=np.float64) / fps
    tm = t - t.mean()
    ss = float((tm * tm).sum())
    x = c[rows, k]
    return (tm[:, None] * (x - x.mean(0))).sum(0) / ss, 1.0 / np.sqrt(ss)


def _exchanges(pred: Tracks, true: Tracks, meta: dict) -> list[tuple[float, float, float]]:
    """(excess change of KE, energy in play, noise band) per collision measurable in both."""
    from .metrics_events import _events

    p = pair(pred, true)
    cp, vp = p.take("centroid"), p.take("visible")
    ok = p.trusted
    sigma_m = POSITION_NOISE_PX / true.camera.scale
    out = []
    for ev in _events(pred, true, meta):
        before, after = windows(ev["row"], true.n_frames)
        rows = before + after
        dk_p = dk_t = kb_t = ka_t = kb_p = band = 0.0
        seen = True
        for k, m in zip(ev["cols"], ev["masses"], strict=True):
            if k < 0:
                continue
            if not (ok[rows, k].all() and vp[rows, k].all()):
                seen = False
                break
            (vb_p, _), (va_p, _) = _line(cp, before, k, true.fps), _line(cp, after, k, true.fps)
            (vb_t, sb), (va_t, sa) = _line(true.centroid, before, k, true.fps), _line(true.centroid, after, k, true.fps)
            dk_p += 0.5 * m * (va_p @ va_p - vb_p @ vb_p)
            dk_t += 0.5 * m * (va_t @ va_t - vb_t @ vb_t)
            kb_t += 0.5 * m * vb_t @ vb_t
            kb_p += 0.5 * m * vb_p @ vb_p
            ka_t += 0.5 * m * va_t @ va_t
            for v, s in ((vb_t, sb), (va_t, sa)):
                sv = sigma_m * s
                band += m * (float(np.linalg.norm(v)) * sv + sv * sv)
        # a prediction that shows (almost) no motion into the contact has no energy to gain (copy-last)
        if seen and max(kb_t, ka_t) > 0 and kb_p >= 0.01 * kb_t:
            out.append((dk_p - dk_t, max(kb_t, ka_t), band))
    return out


def energy_gain(pred: Tracks, true: Tracks, meta: dict) -> float:
    """signed, energy in play: the largest excess of a collision's change of kinetic energy over the
    truth's (see the module doc); NaN without a measurable collision."""
    vals = [d / e for d, e, _ in _exchanges(pred, true, meta)]
    return float(np.max(vals)) if vals else float("nan")


def energy_flag(pred: Tracks, true: Tracks, meta: dict) -> float:
    """1.0 if some collision makes more than ENERGY_GAIN_FLAG of its energy in play beyond the truth
    and beyond NOISE_Z noise bands; 0.0 if none does; NaN without a measurable collision."""
    xs = _exchanges(pred, true, meta)
    if not xs:
        return float("nan")
    return float(any(d > ENERGY_GAIN_FLAG * e + NOISE_Z * b for d, e, b in xs))
