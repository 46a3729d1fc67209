"""How exactly each scenario shows its law, and what its clips cost, measured on ground truth.

Prints one table of accuracy figures (the closed-form checks of tests/test_sim_physics.py, taken
over many parameter draws and at the production physics rate), the mask-centroid agreement at 64
px, the per-clip physics cost of every scenario, and the yes/no balance of the QA. The figures in
docs/scenarios.md come from this script.

    .venv/bin/python benchmarks/scenarios.py [--draws 100]
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import orrery.sim.scenarios  # noqa: E402,F401
from orrery.sim.annotate import annotate  # noqa: E402
from orrery.sim.render import Renderer  # noqa: E402
from orrery.sim.scenario import SCENARIOS, BuildContext, get_scenario  # noqa: E402

G = 9.81


def run(name, p, frames, fps, hz, seed=0, size=64):
    s = get_scenario(name)
    cam = s.camera(size)
    w = s.build(p, BuildContext(np.random.default_rng(seed), cam, "train"))
    return w, w.run(frames, fps, hz), cam


def draw(name, rng):
    return get_scenario(name).space.draw(rng)[0]


def crossings(t, x):
    i = np.nonzero((x[:-1] < 0) & (x[1:] >= 0))[0]
    return t[i] - x[i] * (t[i + 1] - t[i]) / (x[i + 1] - x[i])


def projectile(draws, rng):
    rows = []
    for hz in (240, 480, 960):
        worst_ratio, worst = 0.0, 0.0
        for _ in range(draws):
            p = draw("projectile", rng)
            _, tr, _ = run("projectile", p, 32, 15, hz)
            t = np.arange(32) / 15
            a = math.radians(p["angle"])
            x0, y0 = tr.position[0, 0]
            exact = np.stack([x0 + p["speed"] * math.cos(a) * t, y0 + p["speed"] * math.sin(a) * t - G * t**2 / 2], -1)
            err = np.linalg.norm(tr.position[:, 0] - exact, axis=-1)
            worst = max(worst, err.max())
            worst_ratio = max(worst_ratio, (err[1:] / (G * t[1:] / hz / 2)).max())
        rows.append(f"projectile @{hz} Hz: max |x - parabola| {worst * 1e3:.3f} mm over 2.1 s; "
                    f"max error / (g t dt / 2) = {worst_ratio:.6f}")
    return rows


def collision_1d(draws, rng):
    dp = de = dv = 0.0
    for _ in range(draws):
        p = draw("collision_1d", rng)
        w, tr, _ = run("collision_1d", p, 32, 15, 480)
        m = np.array([o.mass for o in w.objects])
        mom = np.einsum("n,tnd->td", m, tr.velocity)
        scale = np.abs(m * np.array([p["speed_a"], p["speed_b"]])).sum()
        dp = max(dp, np.abs(mom - mom[0]).max() / scale)
        k = tr.kinetic.sum(1)
        de = max(de, np.abs(k / k[0] - 1).max())
        m1, m2 = m
        u1, u2 = p["speed_a"], -p["speed_b"]
        w1 = ((m1 - m2) * u1 + 2 * m2 * u2) / (m1 + m2)
        w2 = ((m2 - m1) * u2 + 2 * m1 * u1) / (m1 + m2)
        dv = max(dv, np.abs(tr.velocity[-1, :, 0] - [w1, w2]).max() / max(abs(u1), abs(u2)))
    return [f"collision_1d @480 Hz, {draws} draws: max relative momentum error {dp:.1e}, "
            f"kinetic energy {de:.1e}, outgoing velocity vs textbook {dv:.1e}"]


def bounce(draws, rng):
    rows = []
    for hz in (480, 1920):
        errs = []
        for _ in range(draws):
            p = dict(draw("bounce", rng), vx=0.0)
            _, tr, _ = run("bounce", p, 150, 30, hz)
            y, vy = tr.position[:, 0, 1], tr.velocity[:, 0, 1]
            frames = [0] + [e["frame"] for e in tr.events] + [len(y)]
            h = []
            for a, b in zip(frames[:-1], frames[1:], strict=True):
                if b - a > 6:
                    inner = slice(a + 2, b - 1)
                    h.append(float(np.median(y[inner] + vy[inner] ** 2 / (2 * G))) - p["radius"])
            h = [x for x in h if x > 0.25]  # apexes above 0.25 m (1.6 px at 64 px)
            ratios = np.array(h[1:]) / np.array(h[:-1])
            errs += list(np.abs(ratios / p["restitution"] ** 2 - 1))
        rows.append(f"bounce @{hz} Hz: apex ratio vs e^2 over {len(errs)} bounces (apex > 0.25 m): "
                    f"median {np.median(errs):.2%}, max {np.max(errs):.2%}")
    return rows


def pendulum(draws, rng):
    small, large = [], []
    for _ in range(draws):
        p = draw("pendulum", rng)
        for amp, out in ((4.0, small), (p["amplitude"], large)):
            q = dict(p, amplitude=amp)
            _, tr, _ = run("pendulum", q, 600, 60, 480)
            t = np.arange(600) / 60
            period = float(np.mean(np.diff(crossings(t, tr.position[:, 0, 0] - 5.0))))
            t0 = 2 * math.pi * math.sqrt(p["length"] / p["gravity"])
            a = math.radians(amp)
            series = t0 * (1 + a**2 / 16 + 11 * a**4 / 3072)
            out.append((abs(period / t0 - 1), abs(period / series - 1)))
    s, big = np.array(small), np.array(large)
    return [f"pendulum @480 Hz, amplitude 4 deg: max |T / 2 pi sqrt(L/g) - 1| = {s[:, 0].max():.3%}",
            f"pendulum @480 Hz, amplitude 10-60 deg: vs 2 pi sqrt(L/g) up to {big[:, 0].max():.2%}; "
            f"vs the amplitude series T0 (1 + a^2/16 + 11 a^4/3072) max {big[:, 1].max():.3%}"]


def incline(draws, rng):
    acc, stick = [], []
    for _ in range(draws):
        p = draw("incline", rng)
        t_ = math.radians(p["angle"])
        _, tr, _ = run("incline", p, 45, 60, 480)
        s = (tr.position[:, 0] - tr.position[0, 0]) @ np.array([math.cos(t_), -math.sin(t_)])
        if math.tan(t_) > p["friction"]:
            t = np.arange(45) / 60
            on = s < 6.0
            a = 2 * np.polyfit(t[on], s[on], 2)[0]
            acc.append(abs(a - G * (math.sin(t_) - p["friction"] * math.cos(t_))))
        else:
            stick.append(np.abs(s).max())
    return [f"incline @480 Hz: sliding ({len(acc)} draws) max |a - g(sin - mu cos)| = {max(acc):.2e} m/s^2; "
            f"sticking ({len(stick)} draws) max displacement {max(stick) * 1e3:.3f} mm in 0.75 s"]


def spring(draws, rng):
    errs, decay = [], []
    for _ in range(draws):
        p = draw("spring", rng)
        _, tr, _ = run("spring", dict(p, damping=0.0), 300, 60, 480)
        t = np.arange(300) / 60
        y = tr.position[:, 0, 1] - 5.0
        period = float(np.mean(np.diff(crossings(t, y))))
        errs.append(abs(2 * math.pi / period / math.sqrt(p["stiffness"] / p["mass"]) - 1))
        c = max(p["damping"], 0.2)
        _, tr, _ = run("spring", dict(p, damping=c), 300, 60, 480)
        y = tr.position[:, 0, 1] - 5.0
        peaks = [i for i in range(1, 299) if abs(y[i]) >= abs(y[i - 1]) and abs(y[i]) > abs(y[i + 1])]
        rate = -np.polyfit(t[peaks], np.log(np.abs(y[peaks])), 1)[0]
        decay.append(abs(rate / (c / (2 * p["mass"])) - 1))
    return [f"spring @480 Hz, {draws} draws (undamped): max |omega / sqrt(k/m) - 1| = {max(errs):.3%}",
            f"spring @480 Hz, damped (c 0.2-0.5 N s/m): amplitude decay rate vs c/2m: median "
            f"{np.median(decay):.2%}, max {max(decay):.2%}"]


def centroids(seeds):
    rows = []
    for name in sorted(SCENARIOS):
        worst_c, worst_p, n = 0.0, 0.0, 0
        for seed in range(seeds):
            s = get_scenario(name)
            p = {q.name: q.default for q in s.space}
            w, tr, cam = run(name, p, 32, 15, 480, seed=seed)
            r = Renderer(cam, w.statics)
            _, masks = r.render_clip(w.objects, tr.position, tr.angle)
            for i in range(len(masks)):
                for k, o in enumerate(w.objects):
                    only = np.zeros(len(w.objects), bool)
                    only[k] = True
                    _, solo = r.render(w.objects, tr.position[i], tr.angle[i], only)
                    mine = solo == o.id
                    if (not mine.any() or mine[0].any() or mine[-1].any() or mine[:, 0].any()
                            or mine[:, -1].any() or not np.array_equal(mine, masks[i] == o.id)):
                        continue
                    rows_, cols = np.nonzero(mine)
                    d = np.array([cols.mean(), rows_.mean()]) - cam.to_pixel(tr.position[i, k])
                    n += 1
                    if o.shape == "circle":
                        worst_c = max(worst_c, float(np.hypot(*d)))
                    else:
                        worst_p = max(worst_p, float(np.abs(d).max()))
        has = {o.shape == "circle" for o in w.objects}
        c = f"{worst_c:.3f} px" if True in has else "-"
        q = f"{worst_p:.3f} px" if False in has else "-"
        rows.append(f"  {name:15s} {n:5d} object-frames  circles {c:>8s} (euclidean)  polygons {q:>8s} (per axis)")
    return rows


def cost_and_qa(clips):
    rows = []
    yes = no = ex_yes = ex_no = 0
    for name in sorted(SCENARIOS):
        rng = np.random.default_rng(1)
        t0 = time.perf_counter()
        metas = []
        for seed in range(clips):
            s = get_scenario(name)
            p = draw(name, rng)
            cam = s.camera(64)
            w = s.build(p, BuildContext(np.random.default_rng(seed), cam, "train"))
            tr = w.run(32, 15, 480)
            metas.append({"scenario": name, "params": p, "n_frames": 32, "fps": 15, "camera": cam.to_dict(),
                          "gravity": list(w.gravity), "objects": [o.to_dict() for o in w.objects],
                          "statics": [x.to_dict() for x in w.statics], "events": tr.events,
                          "states": {"position": tr.position.tolist()}})
        ms = (time.perf_counter() - t0) / clips * 1e3
        n_pred = 0
        for seed, m in enumerate(metas):
            _, qa = annotate(m, np.random.default_rng(seed))
            for q in qa:
                if q["kind"] == "predictive" and q["answer"] in ("yes", "no"):
                    n_pred += 1
                    yes += q["answer"] == "yes"
                    no += q["answer"] == "no"
                elif q.get("family") == "exist":
                    ex_yes += q["answer"] == "yes"
                    ex_no += q["answer"] == "no"
        events = np.mean([len(m["events"]) for m in metas])
        rows.append(f"  {name:15s} build+physics {ms:6.2f} ms/clip (32 frames, 480 Hz)  "
                    f"events/clip {events:5.1f}  yes/no predictive QA/clip {n_pred / clips:.2f}")
    rows.append(f"  QA over {clips} clips per scenario: predictive yes {yes} / no {no}; existence yes {ex_yes} / no {ex_no}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=100, help="parameter draws per law")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print("Laws against closed form (parameters drawn uniformly from each scenario's default ranges):")
    for f in (projectile, collision_1d, bounce, pendulum, incline, spring):
        for row in f(args.draws if f not in (pendulum, bounce) else max(10, args.draws // 4), rng):
            print("  " + row)
    print("Mask centroid vs projected position at 64 px (default params, seeds 0-4, fully visible and unoccluded):")
    print("\n".join(centroids(5)))
    print("Per-scenario cost and QA (one core):")
    print("\n".join(cost_and_qa(40)))


if __name__ == "__main__":
    main()
