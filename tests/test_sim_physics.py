"""The simulator obeys the laws its scenarios show, checked against closed form on the
ground-truth states of `World.run` (never on pixels)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orrery.sim.scenario import BuildContext, get_scenario

G = 9.81


def run(name: str, params: dict, frames: int, fps: float, hz: float, seed: int = 0):
    s = get_scenario(name)
    world = s.build(params, BuildContext(np.random.default_rng(seed), s.camera(64), "train"))
    return world, world.run(frames, fps, hz)


def crossings(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Times where x changes sign from - to +, linearly interpolated."""
    i = np.nonzero((x[:-1] < 0) & (x[1:] >= 0))[0]
    return t[i] - x[i] * (t[i + 1] - t[i]) / (x[i + 1] - x[i])


# --- projectile --------------------------------------------------------------------------------
def test_projectile_follows_its_parabola_within_the_integrator_bound():
    p = {"speed": 7.0, "angle": 60.0, "height": 2.0, "radius": 0.6, "gravity": G}
    worst = []
    for hz in (240, 480, 960):
        _, tr = run("projectile", p, 24, 15, hz)
        t = np.arange(24) / 15
        a = math.radians(p["angle"])
        x0, y0 = tr.position[0, 0]
        exact = np.stack([x0 + p["speed"] * math.cos(a) * t,
                          y0 + p["speed"] * math.sin(a) * t - G * t**2 / 2], axis=-1)
        err = np.linalg.norm(tr.position[:, 0] - exact, axis=-1)
        dt = 1 / hz
        # symplectic Euler (v += g dt, then x += v dt) lags the parabola by exactly g t dt / 2
        assert np.all(err <= G * t * dt / 2 + 1e-9), (hz, (err - G * t * dt / 2).max())
        assert np.allclose(tr.velocity[:, 0, 1], p["speed"] * math.sin(a) - G * t, atol=1e-9)
        worst.append(err.max())
    assert worst[1] < 0.51 * worst[0] and worst[2] < 0.51 * worst[1], worst  # first order in dt


# --- 1-D elastic collision ---------------------------------------------------------------------
@pytest.mark.parametrize("ra, rb, va, vb", [(0.5, 1.0, 2.5, 1.0), (1.0, 0.5, 1.0, 0.0), (0.6, 0.9, 3.0, 2.0),
                                            (0.8, 0.8, 2.0, 0.5)])
def test_elastic_collision_conserves_momentum_and_energy(ra, rb, va, vb):
    p = {"radius_a": ra, "radius_b": rb, "speed_a": va, "speed_b": vb, "contact_time": 0.6}
    world, tr = run("collision_1d", p, 32, 15, 480)
    assert [(e["a"], e["b"]) for e in tr.events] == [(1, 2)]
    m = np.array([o.mass for o in world.objects])
    momentum = np.einsum("n,tnd->td", m, tr.velocity)  # [T, 2]
    energy = tr.kinetic.sum(axis=1)
    scale = np.abs(m * np.array([va, vb])).sum()
    assert np.abs(momentum - momentum[0]).max() / scale < 1e-6
    assert np.abs(energy / energy[0] - 1).max() < 1e-6
    # and the outgoing velocities are the textbook ones
    u1, u2 = va, -vb
    m1, m2 = m
    w1 = ((m1 - m2) * u1 + 2 * m2 * u2) / (m1 + m2)
    w2 = ((m2 - m1) * u2 + 2 * m1 * u1) / (m1 + m2)
    assert np.allclose(tr.velocity[-1, :, 0], [w1, w2], rtol=1e-6, atol=1e-9)
    assert np.abs(tr.velocity[:, :, 1]).max() == 0.0  # head-on: nothing leaves the line


# --- bounce ------------------------------------------------------------------------------------
def apexes(tr, radius: float, floor: float = 0.0) -> list[float]:
    """Apex height of the ball's bottom in each flight between floor contacts, from y + vy^2 / 2g."""
    y, vy = tr.position[:, 0, 1], tr.velocity[:, 0, 1]
    frames = [0] + [e["frame"] for e in tr.events] + [len(y)]
    out = []
    for a, b in zip(frames[:-1], frames[1:], strict=True):
        inner = slice(a + 2, b - 1)  # away from the impacts
        if b - a > 6:
            out.append(float(np.median(y[inner] + vy[inner] ** 2 / (2 * G))) - radius - floor)
    return out


@pytest.mark.parametrize("e", [0.5, 0.7, 0.9])
def test_bounce_apex_heights_follow_restitution_squared(e):
    p = {"height": 4.0, "restitution": e, "vx": 0.0, "radius": 0.6, "gravity": G}
    _, tr = run("bounce", p, 150, 30, 1920)
    h = apexes(tr, 0.6)
    assert len(h) >= 4 and abs(h[0] - 4.0) < 2e-3  # the drop height, up to O(v dt)
    ratios = np.array(h[1:4]) / np.array(h[:3])
    assert np.allclose(ratios, e**2, rtol=0.01), (ratios, e**2)


# --- pendulum ----------------------------------------------------------------------------------
@pytest.mark.parametrize("length, gravity", [(1.5, G), (3.0, G), (2.0, 4.0)])
def test_small_amplitude_pendulum_period(length, gravity):
    p = {"length": length, "amplitude": 4.0, "gravity": gravity, "radius": 0.5}
    fps = 60
    _, tr = run("pendulum", p, 600, fps, 960)
    t = np.arange(600) / fps
    times = crossings(t, tr.position[:, 0, 0] - 5.0)
    period = float(np.mean(np.diff(times)))
    expected = 2 * math.pi * math.sqrt(length / gravity)
    assert len(times) >= 2 and abs(period / expected - 1) < 0.01, (period, expected)
    # the rod keeps its length
    r = np.linalg.norm(tr.position[:, 0] - np.array([5.0, 9.0]), axis=-1)
    assert np.abs(r - length).max() < 1e-3


# --- incline -----------------------------------------------------------------------------------
def along_slope(tr, angle: float) -> np.ndarray:
    t = math.radians(angle)
    return (tr.position[:, 0] - tr.position[0, 0]) @ np.array([math.cos(t), -math.sin(t)])


@pytest.mark.parametrize("angle, mu", [(30.0, 0.0), (30.0, 0.3), (40.0, 0.6), (20.0, 0.2)])
def test_block_slides_down_incline_at_g_sin_minus_mu_cos(angle, mu):
    fps, n = 60, 45
    _, tr = run("incline", {"angle": angle, "friction": mu, "gravity": G}, n, fps, 480)
    s = along_slope(tr, angle)
    t = np.arange(n) / fps
    on_ramp = s < 7.0  # fit only while it is still on the ramp
    accel = 2 * np.polyfit(t[on_ramp], s[on_ramp], 2)[0]
    expected = G * (math.sin(math.radians(angle)) - mu * math.cos(math.radians(angle)))
    assert abs(accel - expected) < 0.005 * G, (accel, expected)
    assert np.ptp(tr.angle[on_ramp, 0]) < 1e-3  # it slides flat, without tipping


@pytest.mark.parametrize("angle, mu", [(20.0, 0.5), (30.0, 0.6), (35.0, 0.75)])
def test_block_sticks_when_tan_below_mu(angle, mu):
    assert math.tan(math.radians(angle)) < mu
    _, tr = run("incline", {"angle": angle, "friction": mu, "gravity": G}, 60, 30, 480)
    assert np.abs(along_slope(tr, angle)).max() < 1e-3
    assert np.abs(tr.velocity[:, 0]).max() < 1e-2


# --- spring ------------------------------------------------------------------------------------
@pytest.mark.parametrize("k, m", [(10.0, 2.0), (40.0, 1.0), (60.0, 0.5)])
def test_spring_oscillates_at_sqrt_k_over_m(k, m):
    fps = 60
    _, tr = run("spring", {"stiffness": k, "mass": m, "amplitude": 1.0, "damping": 0.0}, 300, fps, 960)
    t = np.arange(300) / fps
    y = tr.position[:, 0, 1] - 5.0  # equilibrium height
    period = float(np.mean(np.diff(crossings(t, y))))
    assert abs(2 * math.pi / period / math.sqrt(k / m) - 1) < 0.01
    assert abs(np.abs(y).max() - 1.0) < 0.02  # amplitude kept without damping


def test_damped_spring_decays_at_c_over_2m():
    k, m, c = 30.0, 1.0, 0.6
    fps = 60
    _, tr = run("spring", {"stiffness": k, "mass": m, "amplitude": 1.5, "damping": c}, 300, fps, 960)
    t = np.arange(300) / fps
    y = tr.position[:, 0, 1] - 5.0
    peaks = [i for i in range(1, 299) if abs(y[i]) >= abs(y[i - 1]) and abs(y[i]) > abs(y[i + 1])]
    rate = -np.polyfit(t[peaks], np.log(np.abs(y[peaks])), 1)[0]
    assert abs(rate / (c / (2 * m)) - 1) < 0.05, rate
    period = float(np.mean(np.diff(crossings(t, y))))
    assert abs(2 * math.pi / period / math.sqrt(k / m - (c / (2 * m)) ** 2) - 1) < 0.01
