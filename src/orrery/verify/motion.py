"""Motion read from a scene's tracks, in pixels and frames: free-flight windows, free segments and
the acceleration field they share.

- A frame is *free* for an object when it is seen whole, touches nothing (see `scene.contact`) and
  neither do its neighbours in time (a contact bends the track over the frames around it).
- A *window* is WINDOW consecutive free frames of one object with a least-squares parabola
  through them: its acceleration (px/frame^2), its velocity at the centre, how badly the parabola
  fits (a teleport or an unexplained kick cannot be fitted), each with its standard error under a
  position noise of `noise_px` per frame.
- A *segment* is a whole run of free frames (at least MIN_SEGMENT) with one parabola: what an
  object does between two contacts.
- The *field*: one acceleration g common to every free, untethered, undriven object, plus a linear
  drag -c v with 0 <= c <= MAX_DRAG (a table's friction; never a sudden stop): fitted robustly
  (Huber) to all windows. Physics
  says nothing about g's size, only that every free body shares it at all times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scene import Scene

WINDOW = 5  # frames of the parabolas that find kinks
LONG_WINDOW = 8  # frames of the parabolas whose accelerations are compared (where runs are that long)
MIN_SEGMENT = 4
MAX_DRAG = 2.0  # 1/s: the strongest linear drag the field may have (a table's friction is ~0.5-1.5)
NOISE_ROUND_PX = 0.15  # px per frame: a disc's centroid read from pixels
NOISE_OTHER_PX = 0.4  # boxes and polygons: the anti-aliased fill sits up to 0.5 px off their outline


@dataclass
class Fit:
    k: int
    s: int  # first frame
    e: int  # one past the last frame
    coef: np.ndarray  # [3, 2]: p(tau) = c0 + c1 tau + c2 tau^2, tau = frame - centre
    noise: float  # px per frame assumed
    rms: float  # px: residual of the parabola

    @property
    def centre(self) -> float:
        return 0.5 * (self.s + self.e - 1)

    @property
    def acc(self) -> np.ndarray:
        return 2.0 * self.coef[2]

    def vel(self, t: float) -> np.ndarray:
        tau = t - self.centre
        return self.coef[1] + 2.0 * self.coef[2] * tau

    def pos(self, t: float) -> np.ndarray:
        tau = t - self.centre
        return self.coef[0] + self.coef[1] * tau + self.coef[2] * tau * tau

    def _inv(self) -> np.ndarray:
        tau = np.arange(self.s, self.e) - self.centre
        x = np.stack([np.ones_like(tau), tau, tau * tau], 1)
        return np.linalg.inv(x.T @ x)

    @property
    def acc_sigma(self) -> float:
        """Standard error of each acceleration component."""
        return float(2.0 * self.noise * np.sqrt(self._inv()[2, 2]))

    @property
    def vel_sigma(self) -> float:
        """Standard error of each velocity component at the centre."""
        return float(self.noise * np.sqrt(self._inv()[1, 1]))

    @property
    def kink(self) -> float:
        """Residual in units of its expected size under the noise (about 1 for a clean parabola)."""
        dof = max(self.e - self.s - 3, 1)
        return float(self.rms * np.sqrt((self.e - self.s) / dof) / self.noise)


def fit(c: np.ndarray, k: int, s: int, e: int, noise: float) -> Fit:
    """Parabola through centroids c [T, K, 2] of object k over frames [s, e)."""
    tau = np.arange(s, e) - 0.5 * (s + e - 1)
    x = np.stack([np.ones_like(tau), tau, tau * tau], 1)
    y = c[s:e, k]
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    rms = float(np.sqrt(np.mean(np.sum((y - x @ coef) ** 2, -1))))
    return Fit(k, s, e, coef, noise, rms)


def free_frames(scene: Scene) -> np.ndarray:
    """bool [T, K]: seen whole, touching nothing, and no contact in the frames next to it."""
    ok = scene.tracks.visible & scene.inview & ~scene.contact
    near = scene.contact.copy()
    near[1:] |= scene.contact[:-1]
    near[:-1] |= scene.contact[1:]
    return ok & ~near


def noise_px(scene: Scene) -> np.ndarray:
    return np.where(scene.round, NOISE_ROUND_PX, NOISE_OTHER_PX)


def runs(mask: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    """[s, e) of the runs of True in a bool [T] at least min_len long."""
    out, t, r = [], len(mask), 0
    while r < t:
        if not mask[r]:
            r += 1
            continue
        s = r
        while r < t and mask[r]:
            r += 1
        if r - s >= min_len:
            out.append((s, r))
    return out


def windows(scene: Scene, size: int = WINDOW) -> list[Fit]:
    """Parabolas through every `size` consecutive free frames of every object."""
    free = free_frames(scene)
    c = scene.tracks.centroid_px
    noise = noise_px(scene)
    return [fit(c, k, s, s + size, noise[k]) for k in range(free.shape[1])
            for a, b in runs(free[:, k], size) for s in range(a, b - size + 1)]


def segments(scene: Scene) -> list[Fit]:
    free = free_frames(scene)
    c = scene.tracks.centroid_px
    noise = noise_px(scene)
    return [fit(c, k, a, b, noise[k]) for k in range(free.shape[1]) for a, b in runs(free[:, k], MIN_SEGMENT)]


@dataclass
class Field:
    g: np.ndarray  # [2] px/frame^2
    drag: float  # 1/frame
    n: int  # windows it was fitted to

    def acc(self, v: np.ndarray) -> np.ndarray:
        return self.g - self.drag * v


def field(fits: list[Fit], scene: Scene) -> Field:
    """The acceleration field (module doc) of the untethered, undriven objects' windows."""
    use = [f for f in fits if not (scene.tethered[f.k] or scene.driven[f.k])]
    max_drag = MAX_DRAG / scene.fps  # per frame
    if not use:
        return Field(np.zeros(2), 0.0, 0)
    a = np.array([f.acc for f in use])  # [N, 2]
    v = np.array([f.vel(f.centre) for f in use])
    sig = np.array([f.acc_sigma for f in use])
    w = 1.0 / sig**2
    g, c = np.median(a, 0), 0.0
    for _ in range(4):
        # a = g - c v: unknowns gx, gy, c (c >= 0)
        x = np.zeros((2 * len(use), 3))
        x[0::2, 0] = 1.0
        x[1::2, 1] = 1.0
        x[0::2, 2] = -v[:, 0]
        x[1::2, 2] = -v[:, 1]
        y = a.reshape(-1)
        ww = np.repeat(w, 2)
        sol, *_ = np.linalg.lstsq(x * np.sqrt(ww)[:, None], y * np.sqrt(ww), rcond=None)
        g, c = sol[:2], float(np.clip(sol[2], 0.0, max_drag))
        if c != sol[2]:  # drag cannot push, nor stop a body within a few frames: refit g with c fixed
            g = ((a + c * v) * w[:, None]).sum(0) / w.sum()
        z = np.linalg.norm(a - (g - c * v), axis=-1) / sig
        w = np.where(z > 2.0, 2.0 / np.maximum(z, 1e-9), 1.0) / sig**2  # Huber weights
    return Field(np.asarray(g, float), c, len(use))
