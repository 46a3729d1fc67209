"""Closed-form scenes for calibrating and testing the ruler without the physics engine.

One scene: a red ball thrown on a parabola that bounces on a ledge with restitution `e`; a green
and a blue ball rolling towards each other on the floor that meet in a head-on elastic collision
(equal masses swap velocities); a yellow box spinning in place. Every position is exact (no
integrator), events carry their frame and impulse, and the clip record follows `data.clip`."""

from __future__ import annotations

import numpy as np

from ..data.camera import Camera
from ..data.objects import ObjectSpec, StaticSpec, box_vertices
from ..sim.render import Renderer

G = 9.81
FLOOR = 0.5  # m, top surface of the floor
LEDGE = 3.5  # m, top surface of the ledge the red ball bounces on (x from 3.5 to 8)


def _bounce_track(t: np.ndarray, x0, y0, vx, vy, r, e, floor) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Ball over a floor at height `floor`: positions [T, 2], velocities [T, 2], bounce times."""
    pos, vel, hits = np.zeros((t.size, 2)), np.zeros((t.size, 2)), []
    t0, ya, va = 0.0, y0, vy
    segs = []
    for _ in range(20):  # successive flights
        # ya + va s - g s^2 / 2 = FLOOR + r
        c = ya - floor - r
        s = (va + np.sqrt(va * va + 2 * G * c)) / G
        segs.append((t0, t0 + s, ya, va))
        hits.append(t0 + s)
        t0, ya, va = t0 + s, floor + r, e * (G * s - va)
        if va < 0.2:
            break
    for i, ti in enumerate(t):
        for a, b, ys, vs in segs:
            if ti <= b or (a, b, ys, vs) == segs[-1]:
                s = ti - a
                pos[i] = [x0 + vx * ti, max(ys + vs * s - 0.5 * G * s * s, floor + r)]
                vel[i] = [vx, vs - G * s]
                break
    return pos, vel, hits


def scene(size: int = 64, n_frames: int = 32, fps: float = 30.0, seed: int = 0, e: float = 0.7,
          key: str | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """A closed-form clip: (frames uint8 [T, S, S, 3], masks uint8 [T, S, S], meta)."""
    rng = np.random.default_rng(seed)
    camera = Camera(0.0, 0.0, 8.0, size)
    t = np.arange(n_frames) / fps
    r = 0.45
    objects = [
        ObjectSpec(1, "circle", 0, 1.0, 0.5 * r * r, radius=r),
        ObjectSpec(2, "circle", 1, 1.0, 0.5 * r * r, radius=r),
        ObjectSpec(3, "circle", 2, 1.0, 0.5 * r * r, radius=r),
        ObjectSpec(4, "box", 3, 1.0, 0.2, vertices=box_vertices(1.2, 0.6)),
    ]
    n = len(objects)
    pos, vel = np.zeros((n_frames, n, 2)), np.zeros((n_frames, n, 2))
    ang, angv = np.zeros((n_frames, n)), np.zeros((n_frames, n))
    # ball 1: thrown, bounces
    y0 = rng.uniform(5.4, 6.0)
    pos[:, 0], vel[:, 0], hits = _bounce_track(t, rng.uniform(4.0, 4.4), y0, rng.uniform(1.5, 2.5),
                                               rng.uniform(-1.0, 1.0), r, e, LEDGE)
    # balls 2 and 3 roll at constant speed and swap velocities when they touch
    u2, u3 = rng.uniform(2.5, 3.5), -rng.uniform(2.5, 3.5)
    x2, x3 = rng.uniform(1.6, 2.0), rng.uniform(5.8, 6.2)
    tc = (x3 - x2 - 2 * r) / (u2 - u3)
    for i, ti in enumerate(t):
        if ti <= tc:
            pos[i, 1], pos[i, 2] = [x2 + u2 * ti, FLOOR + r], [x3 + u3 * ti, FLOOR + r]
            vel[i, 1], vel[i, 2] = [u2, 0], [u3, 0]
        else:
            s = ti - tc
            pos[i, 1] = [x2 + u2 * tc + u3 * s, FLOOR + r]
            pos[i, 2] = [x3 + u3 * tc + u2 * s, FLOOR + r]
            vel[i, 1], vel[i, 2] = [u3, 0], [u2, 0]
    # box: spins in place, high up
    w = rng.uniform(1.0, 2.5)
    pos[:, 3] = [1.8, 6.2]
    ang[:, 3] = rng.uniform(0, np.pi) + w * t
    angv[:, 3] = w
    events = [{"frame": int(round(tc * fps)), "time": float(tc), "a": 2, "b": 3,
               "impulse": [float(u2 - u3), 0.0]}]
    for h in hits:
        if h < t[-1]:  # the floor pushes the ball up (only the impulse's direction is used)
            events.append({"frame": int(round(h * fps)), "time": float(h), "a": 1, "b": 0, "impulse": [0.0, 1.0]})
    events.sort(key=lambda ev: ev["time"])
    statics = [StaticSpec("segment", [[-1.0, FLOOR - 0.1], [9.0, FLOOR - 0.1]], 0.1),
               StaticSpec("segment", [[3.5, LEDGE - 0.1], [9.0, LEDGE - 0.1]], 0.1)]
    frames, masks = Renderer(camera, statics).render_clip(objects, pos, ang)
    masses = np.array([o.mass for o in objects])
    meta = {
        "key": key or f"synthetic{seed:05d}", "split": "test", "source": "simulate", "scenario": "synthetic",
        "params": {"e": e}, "seed": seed, "fps": fps, "n_frames": n_frames, "size": size,
        "camera": camera.to_dict(), "gravity": [0.0, -G], "physics_hz": fps, "ood_axis": None,
        "objects": [o.to_dict() for o in objects], "statics": [s.to_dict() for s in statics],
        "states": {"position": pos.tolist(), "velocity": vel.tolist(), "angle": ang.tolist(),
                   "angular_velocity": angv.tolist()},
        "energy": {"kinetic": (0.5 * masses * (vel**2).sum(-1)).tolist(),
                   "potential": (masses * G * pos[..., 1]).tolist(), "elastic": [0.0] * n_frames},
        "events": events, "actions": None,
        "captions": ["A red ball bounces while a green and a blue ball collide and a yellow box spins."],
        "qa": [],
    }
    return frames, masks, meta


def write_dataset(folder, clips: list[tuple[np.ndarray, np.ndarray, dict]], codec: str = "yuv444p") -> None:
    """A dataset folder (shards + manifest) holding these clips, as `orrery simulate` lays it out."""
    from pathlib import Path

    from ..data.clip import Clip
    from ..data.manifest import write_manifest
    from ..data.shards import write_shard

    folder = Path(folder)
    by_split: dict[str, list] = {}
    for frames, masks, meta in clips:
        by_split.setdefault(meta["split"], []).append(Clip(meta["key"], frames, masks, meta))
    rows = []
    for split, items in by_split.items():
        shard = folder / "shards" / f"{split}-00000.tar"
        write_shard(shard, [(c.key, c.to_sample(codec=codec)) for c in items])
        rows += [{"key": c.key, "split": split, "shard": shard.name, "scenario": c.scenario} for c in items]
    write_manifest(folder / "manifest.parquet", rows)
