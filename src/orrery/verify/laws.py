"""The laws a video is checked against, each from the video alone (pixels and frames).

Every law returns a `Law`: a violation score (0 = the law holds exactly; 1 = the largest departure
the parser's own noise can explain, so > 1 is a violation) and the frames where it broke.

- `free_flight`: every free body (touching nothing) accelerates by one field shared by all bodies
  at all times (gravity, plus a linear drag that can only slow them); a parabola through five free
  frames fits (no teleports or unexplained kicks). Bodies of a scene with anchor points (a
  pendulum's pivot, a spring's mount: the rod and spring are not drawn) and driven bodies (the
  layout's pusher) are held to the fit alone.
- `energy`: a passive contact (no anchor, no driven body) does not raise the kinetic energy of the
  bodies taking part; velocities at the contact come from the free parabolas before and after.
- `momentum`: a contact between bodies alone (no scenery) keeps their total momentum, masses
  following from sizes (areas: one density); and momentum changes only through contacts: a body
  touching nothing neither changes velocity (stops in mid-air, starts on its own) nor jumps (a
  teleport).
- `persistence`: objects neither appear nor vanish inside the view.
- `rigidity`: a body keeps its size (area) and shape (elongation) while seen whole.
- `interpenetration`: discs do not overlap each other; no body covers the scenery.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .motion import Field, Fit
from .scene import CONTACT_PX, Scene

Z_ACC = 3.0  # standard errors of a window's acceleration from the field that break free flight
ACC_FLOOR = 0.02  # px/frame^2 added to that standard error (rounding of the field itself)
Z_KINK = 4.0  # residual of a window's parabola, in units of the noise, that breaks it
ENERGY_REL = 0.05  # share of the kinetic energy in play a contact may seem to gain
MOMENTUM_REL = 0.3  # share of the momentum exchanged a contact may seem to lose or make
Z_BAND = 2.0  # noise bands an energy or momentum excess must clear
MAX_GAP = 10  # frames of contact between two free segments that still make one collision
JUMP = 0.8  # a jump of this many body radii (and JUMP_PX) in one frame, there and back, is a teleport
JUMP_PX = 2.0
JUMP_SIDE = 4  # frames on each side of a boundary whose parabolas must meet
KICK_Z = 3.0  # standard errors of a velocity change, touching nothing, that break momentum
KICK_FLOOR = 0.05  # px/frame added to that tolerance
SEAM_FRAMES = 2  # an absence this short next to another body is the parser's, not a vanishing
EDGE_PX = 1.0  # px (and 1.5 frames of motion) inside the border for appearing or vanishing to count


@dataclass
class Law:
    name: str
    score: float
    frames: list[int] = field(default_factory=list)
    detail: str = ""

    @property
    def broken(self) -> bool:
        return self.score > 1.0


def free_flight(scene: Scene, wins: list[Fit], long: list[Fit], fld: Field) -> Law:
    """Short windows find kinks; long windows (or short ones where no long one reaches) are
    compared with the field."""
    worst, frames, what = 0.0, set(), ""
    covered = {(w.k, t) for w in long for t in range(w.s, w.e)}
    checks = [(w, True, not all((w.k, t) in covered for t in range(w.s, w.e))) for w in wins]
    checks += [(w, False, True) for w in long]
    for w, kink, acc in checks:
        s_kink = w.kink / Z_KINK if kink else 0.0
        s_acc = 0.0
        if acc and not (scene.tethered[w.k] or scene.driven[w.k]) and fld.n >= 1:
            dev = np.linalg.norm(w.acc - fld.acc(w.vel(w.centre)))
            s_acc = dev / (Z_ACC * (w.acc_sigma + ACC_FLOOR))
        s = max(s_kink, s_acc)
        if s > 1.0:
            frames.update(range(w.s, w.e))
        if s > worst:
            worst = s
            what = (f"colour {scene.tracks.colour_ids[w.k]}: " + (
                f"acceleration {np.round(w.acc, 3).tolist()} px/frame^2 vs the field {np.round(fld.g, 3).tolist()}"
                if s_acc >= s_kink else f"no parabola fits frames {w.s}-{w.e - 1} ({w.rms:.2f} px off)"))
    return Law("free_flight", float(worst), sorted(frames), what)


def _vel_sigma(f: Fit, t: float) -> float:
    tau = np.arange(f.s, f.e) - f.centre
    x = np.stack([np.ones_like(tau), tau, tau * tau], 1)
    inv = np.linalg.inv(x.T @ x)
    d = t - f.centre
    return float(f.noise * np.sqrt(max(inv[1, 1] + 4 * d * d * inv[2, 2] + 4 * d * inv[1, 2], 0.0)))


def episodes(scene: Scene, segs: list[Fit]) -> list[dict]:
    """Contacts between two free segments of a body: {frames, bodies, before, after, scenery}."""
    by_k: dict[int, list[Fit]] = {}
    for f in segs:
        by_k.setdefault(f.k, []).append(f)
    out, seen = [], set()
    for k, fs in by_k.items():
        fs.sort(key=lambda f: f.s)
        for a, b in zip(fs[:-1], fs[1:], strict=True):
            gap = range(a.e, b.s)
            # a body leaves free flight by touching something (drawn or, at the border, not)
            if not 0 < len(gap) <= MAX_GAP or not scene.tracks.visible[a.e:b.s, k].all():
                continue
            border = not scene.inview[a.e:b.s, k].all()
            if not (scene.contact[a.e:b.s, k].any() or border):
                continue
            reach = CONTACT_PX + 1.0 + float(np.linalg.norm(a.vel(a.e)))  # a fast body strikes between frames
            partners = {int(j) for t in gap for j in np.flatnonzero(scene.gap[t, k] <= reach)}
            bodies = tuple(sorted({k} | partners))
            key = (bodies, a.e // 3)
            if key in seen:
                continue
            seen.add(key)
            tc = 0.5 * (a.e - 1 + b.s)
            pairs = {k: (a, b)}
            for j in partners:
                before = [f for f in by_k.get(j, []) if f.e <= b.s and f.e >= a.e - MAX_GAP]
                after = [f for f in by_k.get(j, []) if f.s >= a.e and f.s <= b.s + MAX_GAP]
                if not before or not after:
                    pairs = {}
                    break
                pairs[j] = (before[-1], after[0])
            if not pairs:
                continue
            scen = border or bool((scene.gap_scenery[a.e:b.s, list(bodies)] <= reach).any())
            out.append({"frames": list(gap), "bodies": bodies, "pairs": pairs, "tc": tc, "scenery": scen})
    return out


def energy(scene: Scene, segs: list[Fit], fld: Field) -> Law:
    """Mechanical energy per unit mass, E = |v|^2 / 2 - g . p (g the field), is what a free
    parabola keeps; a passive contact may only lower the bodies' total. Each body's E is read at the
    end of its free segment before the contact and the start of the one after (no extrapolation
    across the contact, whose instant is not seen)."""
    worst, frames, what = 0.0, set(), ""
    g = fld.g
    for ep in episodes(scene, segs):
        if any(scene.tethered[k] or scene.driven[k] for k in ep["bodies"]):
            continue
        d_e, e_play, band = 0.0, 0.0, 0.0
        for k, (a, b) in ep["pairs"].items():
            m = scene.mass[k]
            ta, tb = a.e - 1, b.s
            va, vb = a.vel(ta), b.vel(tb)
            pa, pb = a.pos(ta), b.pos(tb)
            d_e += m * ((0.5 * vb @ vb - g @ pb) - (0.5 * va @ va - g @ pa))
            e_play += m * (0.5 * max(va @ va, vb @ vb) + abs(g @ (pb - pa)))
            for v, f, tt in ((va, a, ta), (vb, b, tb)):
                sv = _vel_sigma(f, tt)
                band += m * (np.linalg.norm(v) * sv + sv * sv + np.linalg.norm(g) * f.noise)
        s = d_e / (ENERGY_REL * e_play + Z_BAND * band + 1e-9)
        if s > 1.0:
            frames.update(ep["frames"])
        if s > worst:
            worst = s
            what = f"contact at frames {ep['frames'][0]}-{ep['frames'][-1]}: mechanical energy +{d_e / max(e_play, 1e-9):.0%} of that in play"
    return Law("energy", float(max(worst, 0.0)), sorted(frames), what)


def momentum(scene: Scene, segs: list[Fit], fld: Field) -> Law:
    worst, frames, what = 0.0, set(), ""
    for ep in episodes(scene, segs):
        if ep["scenery"] or len(ep["pairs"]) < 2 or any(scene.driven[k] or scene.tethered[k] for k in ep["bodies"]):
            continue
        tc, dp, scale, band = ep["tc"], np.zeros(2), 0.0, 0.0
        for k, (a, b) in ep["pairs"].items():
            m = scene.mass[k]
            dv = b.vel(tc) - a.vel(tc)
            dp += m * dv
            scale += m * np.linalg.norm(dv)
            band += m * np.hypot(_vel_sigma(a, tc), _vel_sigma(b, tc))
        s = np.linalg.norm(dp) / (MOMENTUM_REL * scale + Z_BAND * band + 1e-9)
        if s > 1.0:
            frames.update(ep["frames"])
        if s > worst:
            worst, what = s, f"contact at frames {ep['frames'][0]}-{ep['frames'][-1]}: momentum off by {np.linalg.norm(dp) / max(scale, 1e-9):.0%} of the exchange"
    for s, at, why in (_jumps(scene), _kicks(scene, fld)):
        if s > worst:
            worst, what = s, why
        frames.update(at)
    return Law("momentum", float(worst), sorted(frames), what)


def _kicks(scene: Scene, fld: Field) -> tuple[float, list[int], str]:
    """Velocity changes with nothing to cause them: where a body touches nothing for JUMP_SIDE
    frames on each side of a frame boundary, the velocities of lines through the two sides must
    differ by what the field does over the time between them (a body that stops in mid-air, or
    starts moving on its own, breaks this)."""
    from .motion import free_frames, noise_px

    free = free_frames(scene)
    c = scene.tracks.centroid_px
    noise = noise_px(scene)
    n = JUMP_SIDE
    tau = np.arange(n) - (n - 1) / 2
    ss = float((tau * tau).sum())
    worst, frames, what = 0.0, [], ""
    for k in np.flatnonzero(~(scene.driven | scene.tethered)):  # a tether (rod, spring) may pull hard
        for j in range(n, c.shape[0] - n + 1):
            if not free[j - n:j + n, k].all():
                continue
            vb = (tau[:, None] * c[j - n:j, k]).sum(0) / ss
            va = (tau[:, None] * c[j:j + n, k]).sum(0) / ss
            dv = float(np.linalg.norm(va - vb - fld.acc(0.5 * (va + vb)) * n))
            s = dv / (KICK_Z * noise[k] * np.sqrt(2.0 / ss) + KICK_FLOOR)
            if s > 1.0:
                frames.append(j)
            if s > worst:
                worst, what = s, f"colour {scene.tracks.colour_ids[k]} changes velocity by {dv:.2f} px/frame at frame {j} touching nothing"
    return worst, frames, what


def _jumps(scene: Scene) -> tuple[float, list[int], str]:
    """Position jumps. The parabolas through the JUMP_SIDE frames before and after each frame
    boundary must meet somewhere within the frame interval between them: a collision changes a
    body's velocity at some instant but never its position; a teleport leaves a gap everywhere."""
    c = scene.tracks.centroid_px
    vis = scene.tracks.visible
    worst, frames, what = 0.0, [], ""
    for k in range(c.shape[1]):
        limit = max(JUMP_PX, JUMP * scene.radius[k])
        seen = np.flatnonzero(vis[:, k])
        for i in range(JUMP_SIDE - 1, seen.size - JUMP_SIDE):
            lo, hi = seen[i - JUMP_SIDE + 1:i + 1], seen[i + 1:i + 1 + JUMP_SIDE]
            if hi[0] - lo[-1] > 2 or lo[-1] - lo[0] > JUMP_SIDE or hi[-1] - hi[0] > JUMP_SIDE:
                continue  # one frame may be missing at the boundary (hidden behind another body)
            taus = np.linspace(lo[-1], hi[0], 5)
            before = np.polynomial.polynomial.polyfit(lo.astype(float), c[lo, k], 2)
            after = np.polynomial.polynomial.polyfit(hi.astype(float), c[hi, k], 2)
            pb = np.polynomial.polynomial.polyval(taus, before).T  # [5, 2]
            pa = np.polynomial.polynomial.polyval(taus, after).T
            gap = float(np.min(np.linalg.norm(pb - pa, axis=-1)))
            s = gap / limit
            j = int(hi[0])
            if s > 1.0:
                frames.append(j)
            if s > worst:
                worst, what = s, f"colour {scene.tracks.colour_ids[k]} jumps {gap:.1f} px at frame {j}"
    return worst, frames, what


def _inside(c: np.ndarray, size: int) -> float:
    return float(np.min([c[0], c[1], size - 1 - c[0], size - 1 - c[1]]))


def persistence(scene: Scene) -> Law:
    tr = scene.tracks
    t, size = tr.visible.shape[0], scene.masks.shape[1]
    events, frames = [], []
    for k in range(tr.visible.shape[1]):
        vis = tr.visible[:, k]
        for r in range(1, t):
            if vis[r] == vis[r - 1]:
                continue
            at = r if vis[r] else r - 1  # the frame where the object is seen next to the change
            c = tr.centroid_px[at, k]
            nb = at + 1 if vis[r] else at - 1  # its other neighbour in the run: where it moves
            step = c - tr.centroid_px[nb, k] if 0 <= nb < t and vis[nb] else np.zeros(2)
            # where it would be in the frame it is missing from: whole inside the view?
            if _inside(c + step, size) - scene.radius[k] < EDGE_PX:
                continue  # it may have crossed the border between two frames
            absent = np.flatnonzero(vis[r:]) if not vis[r] else np.flatnonzero(vis[:at][::-1])
            short = absent.size > 0 and absent[0] <= SEAM_FRAMES
            if short and (scene.gap[at, k] <= CONTACT_PX).any():
                continue  # at a seam with another body the parser may drop a frame or two
            events.append(f"colour {tr.colour_ids[k]} {'appears' if vis[r] else 'vanishes'} at frame {r}")
            # each event is a clear violation: twice the tolerance
            frames.append(r)
    return Law("persistence", 2.0 * len(events), sorted(set(frames)), "; ".join(events[:4]))


def rigidity(scene: Scene) -> Law:
    """Sizes (area) and shapes (elongation) hold while a body is seen whole and alone; and a body
    never covers more area than it did whole and alone (at the border or at a seam it can only
    show less), so a growing body is caught even where it touches something."""
    tr = scene.tracks
    worst, frames, what = 0.0, set(), ""
    alone = ~(scene.gap <= CONTACT_PX).any(-1)
    for k in range(tr.visible.shape[1]):
        clean = np.flatnonzero(tr.visible[:, k] & scene.inview[:, k] & alone[:, k])
        if clean.size < 3 or scene.radius[k] <= 0:
            continue
        tol = 0.06 + 0.6 / scene.radius[k]
        third = max(1, clean.size // 3)
        for name, x, scale in (("area", tr.area_px[:, k], 1.0), ("elongation", tr.elongation[:, k], 0.5)):
            lx = np.log(np.maximum(np.nan_to_num(x, nan=1e-6), 1e-6)) * scale
            lc = lx[clean]
            base = np.median(lc[:third])
            trend = abs(np.median(lc[-third:]) - base)
            spike = np.max(np.abs(lc - np.median(lc)))
            s = max(trend / tol, spike / (2 * tol))
            bad = clean[np.abs(lc - base) > tol].tolist()
            if name == "area":
                seen = np.flatnonzero(tr.visible[:, k])
                smooth = np.array([np.median(lx[seen[max(0, i - 1):i + 2]]) for i in range(seen.size)])
                growth = float(np.max(smooth - base)) if seen.size else 0.0
                s = max(s, growth / tol)
                bad += seen[smooth - base > tol].tolist()
            if s > 1.0:
                frames.update(bad)
            if s > worst:
                worst, what = s, f"colour {tr.colour_ids[k]}: {name} changes by up to {np.exp(s * tol / scale):.2f}x"
    return Law("rigidity", float(worst), sorted(frames), what)


def interpenetration(scene: Scene) -> Law:
    tr = scene.tracks
    worst, frames, what = 0.0, set(), ""
    size = np.array([np.median(tr.size_px[tr.visible[:, k], k]) if tr.visible[:, k].any() else 0.0
                     for k in range(tr.visible.shape[1])])
    rnd = np.flatnonzero(scene.round & (size > 0))
    for i, a in enumerate(rnd):
        for b in rnd[i + 1:]:
            both = tr.visible[:, a] & tr.visible[:, b]
            if not both.any():
                continue
            d = np.linalg.norm(tr.centroid_px[both, a] - tr.centroid_px[both, b], axis=-1)
            depth = size[a] + size[b] - d
            s = float(depth.max() / max(1.0, 0.3 * min(size[a], size[b])))
            if s > 1.0:
                frames.update(np.flatnonzero(both)[depth > max(1.0, 0.3 * min(size[a], size[b]))].tolist())
            if s > worst:
                worst, what = s, f"colours {tr.colour_ids[a]} and {tr.colour_ids[b]} overlap by {depth.max():.1f} px"
    core = _erode(scene.scenery)
    if core.any():
        over = (scene.masks & core[None, :, :, None]).sum(axis=(1, 2))  # [T, K]
        allow = np.maximum(3.0, 0.2 * np.nan_to_num(tr.area_px))
        s_all = over / allow
        if s_all.size and s_all.max() > worst:
            t, k = np.unravel_index(np.argmax(s_all), s_all.shape)
            worst, what = float(s_all.max()), f"colour {tr.colour_ids[k]} covers {int(over[t, k])} px of scenery"
        frames.update(np.flatnonzero((s_all > 1.0).any(1)).tolist())
    return Law("interpenetration", float(worst), sorted(frames), what)


def _erode(mask: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def check_all(scene: Scene) -> list[Law]:
    from .motion import LONG_WINDOW, field, segments, windows

    wins = windows(scene)
    long = windows(scene, LONG_WINDOW)
    fld = field(long or wins, scene)
    segs = segments(scene)
    return [free_flight(scene, wins, long, fld), energy(scene, segs, fld), momentum(scene, segs, fld), persistence(scene),
            rigidity(scene), interpenetration(scene)]
