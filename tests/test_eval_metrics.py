"""Physics metrics give the closed-form answers on scenes whose truth is known exactly."""

import numpy as np
import pytest

from orrery.data.camera import Camera
from orrery.data.objects import ObjectSpec, StaticSpec
from orrery.data.video import decode_mp4, encode_mp4
from orrery.eval import metrics_events as ev
from orrery.eval import metrics_image as im
from orrery.eval import metrics_motion as mo
from orrery.eval.scoring import score_clip
from orrery.eval.synthetic import scene
from orrery.eval.truth import true_tracks
from orrery.models.base import Condition, Layout
from orrery.models.baselines import ConstantVelocity, CopyLast, LinearFlow, Simulator
from orrery.sim.parse import background_image, parse_objects
from orrery.sim.render import Renderer

G = 9.81
FPS = 30.0


def ballistic(size=64, n=24):
    """One ball on a parabola in empty space: (frames, masks, meta)."""
    cam = Camera(0.0, 0.0, 10.0, size)
    t = np.arange(n) / FPS
    pos = np.stack([1.5 + 3.0 * t, 6.0 + 4.0 * t - 0.5 * G * t * t], -1)[:, None]  # [T, 1, 2]
    vel = np.stack([np.full_like(t, 3.0), 4.0 - G * t], -1)[:, None]
    obj = ObjectSpec(1, "circle", 0, 1.0, 0.1, radius=0.5)
    frames, masks = Renderer(cam).render_clip([obj], pos, np.zeros((n, 1)))
    meta = {"key": "ballistic", "split": "test", "scenario": "projectile", "fps": FPS, "n_frames": n, "size": size,
            "camera": cam.to_dict(), "gravity": [0.0, -G], "objects": [obj.to_dict()], "statics": [],
            "states": {"position": pos.tolist(), "velocity": vel.tolist(), "angle": np.zeros((n, 1)).tolist(),
                       "angular_velocity": np.zeros((n, 1)).tolist()}, "events": []}
    return frames, masks, meta


def render(meta, pos, visible=None, size=None):
    cam = Camera.from_dict(meta["camera"])
    cam = cam.resized(size or cam.size)
    objs = [ObjectSpec.from_dict(o) for o in meta["objects"]]
    statics = [StaticSpec.from_dict(s) for s in meta["statics"]]
    ang = np.asarray(meta["states"]["angle"])[: pos.shape[0]]
    return Renderer(cam, statics).render_clip(objs, pos, ang, visible)[0]


def tracks(meta, frames, start, tc, masks=None):
    """(pred tracks of frames [Tc + H] starting at clip frame `start`, true tracks)."""
    cam = Camera.from_dict(meta["camera"]).resized(frames.shape[1])
    bg = background_image(cam, [StaticSpec.from_dict(s) for s in meta["statics"]])
    p = parse_objects(frames, cam, bg, fps=meta["fps"], start=start, future=tc)
    t = true_tracks(meta, start, start + frames.shape[0], frames.shape[1], masks, future=tc)
    return p, t


def metric_dict(rows):
    out = {}
    for r in rows:
        out.setdefault(r["metric"], []).append(r["value"])
    return {k: np.array(v) if len(v) > 1 else v[0] for k, v in out.items()}


def test_oracle_scores_zero_within_the_floor():
    start, tc, h = 6, 4, 16
    for seed in range(2):
        frames, masks, meta = scene(64, 32, seed=seed)
        dec = decode_mp4(encode_mp4(frames, FPS))[0]
        ctx = dec[start:start + tc]
        truth = dec[start + tc:start + tc + h]
        oracle = Simulator({meta["key"]: meta["states"]}).rollout(
            ctx[None], h, Condition(layouts=[Layout.from_meta(meta, start)]))[0]
        o = metric_dict(score_clip(meta, ctx, oracle, truth, start, masks))
        f = metric_dict(score_clip(meta, ctx, truth, truth, start, masks))
        assert np.nanmax(o["position_error_px"]) < 0.2
        assert np.nanmean(o["position_error_px"]) <= np.nanmean(f["position_error_px"]) + 0.05
        for name in ("velocity_error_time_avg", "acceleration_error", "energy_change_error", "restitution_error",
                     "momentum_change_error", "collision_timing_error"):
            assert o[name] <= max(2 * f[name], 0.1), (name, o[name], f[name])
        assert o["energy_flag"] == 0.0 and o["collisions_missed"] == 0.0
        assert np.all(o["objects_lost"] == 0) and np.all(o["objects_spawned"] == 0)
        assert np.nanmean(o["interpenetration_px"]) < 0.1
        assert np.nanmean(o["mask_iou"]) > 0.85


def test_copy_last_error_is_the_distance_travelled():
    frames, masks, meta = ballistic()
    tc, h = 4, 12
    pred = CopyLast().rollout(frames[None, :tc], h)[0]
    p, t = tracks(meta, np.concatenate([frames[:tc], pred]), 0, tc)
    err = mo.position_error_px(p, t, meta)
    px = t.centroid_px[:, 0]
    expected = np.linalg.norm(px[tc:] - px[tc - 1], axis=-1)
    np.testing.assert_allclose(err, expected, atol=0.15)
    assert mo.acceleration_error(p, t, meta) == pytest.approx(G, abs=0.3)  # a still ball has no gravity


def test_constant_velocity_error_is_the_missing_gravity_term():
    frames, masks, meta = ballistic()
    tc, h = 4, 12
    pred = ConstantVelocity().rollout(frames[None, :tc], h, Condition(layouts=[Layout.from_meta(meta)]))[0]
    p, t = tracks(meta, np.concatenate([frames[:tc], pred]), 0, tc)
    err = mo.position_error_px(p, t, meta)
    # the finite-difference velocity v_fd = v(t) - g dt / 2 extrapolated j frames misses g dt^2 j (j + 1) / 2
    j = np.arange(1, h + 1)
    expected = G * (1 / FPS) ** 2 * j * (j + 1) / 2 * t.camera.scale
    np.testing.assert_allclose(err, expected, atol=0.2)
    assert mo.gravity_recovered(p, t, meta) == pytest.approx(0.0, abs=0.5)


def test_linear_flow_follows_the_ball_where_copy_last_falls_behind():
    frames, masks, meta = ballistic()
    tc, h = 4, 6
    errs = {}
    for model in (CopyLast(), LinearFlow()):
        pred = model.rollout(frames[None, :tc], h)[0]
        p, t = tracks(meta, np.concatenate([frames[:tc], pred]), 0, tc)
        errs[model.name] = mo.position_error_px(p, t, meta)
    assert np.all(errs["linear-flow"][:3] < 0.5 * errs["copy-last"][:3])
    assert errs["linear-flow"][0] < 0.3


@pytest.mark.parametrize("k", [1, 3])
def test_frames_shifted_by_k_pixels_score_k_pixels(k):
    frames, masks, meta = ballistic()
    tc = 4
    shifted = np.zeros_like(frames)
    shifted[:, :, k:] = frames[:, :, :-k]
    seq = np.concatenate([frames[:tc], shifted[tc:16]])
    p, t = tracks(meta, seq, 0, tc)
    np.testing.assert_allclose(mo.position_error_px(p, t, meta), k, atol=0.12)


def test_a_ball_that_speeds_up_after_a_collision_is_flagged():
    frames, masks, meta = scene(64, 32, seed=0)
    hit = [e for e in meta["events"] if e["b"] != 0][0]
    f = hit["frame"]
    pos = np.asarray(meta["states"]["position"])
    fast = pos.copy()
    # after the collision the green and blue balls travel twice as fast: 4x the kinetic energy
    fast[f:, 1:3] = pos[f, 1:3] + 2.0 * (pos[f:, 1:3] - pos[f, 1:3])
    start, tc = f - 6, 4
    seq = render(meta, fast)[start:start + 14]
    p, t = tracks(meta, seq, start, tc)
    assert ev.energy_gain(p, t, meta) > 2.0
    assert ev.energy_flag(p, t, meta) == 1.0
    seq_true = frames[start:start + 14]
    p0, t0 = tracks(meta, seq_true, start, tc)
    assert ev.energy_flag(p0, t0, meta) == 0.0
    assert abs(ev.energy_gain(p0, t0, meta)) < 0.1


def test_a_vanished_ball_is_counted_as_lost():
    frames, masks, meta = scene(64, 32, seed=1)
    pos = np.asarray(meta["states"]["position"])
    vis = np.ones(pos.shape[:2], dtype=bool)
    vis[7:, 0] = False  # the red ball disappears at future step 3
    seq = render(meta, pos, vis)[:16]
    p, t = tracks(meta, seq, 0, 4, masks)
    lost = mo.objects_lost(p, t, meta)
    np.testing.assert_array_equal(lost, [0, 0, 0] + [1] * 9)
    assert np.all(mo.objects_spawned(p, t, meta) == 0)


def test_per_frame_and_time_averaged_velocity_errors_differ_as_documented():
    frames, masks, meta = ballistic()
    tc = 4
    pos = np.asarray(meta["states"]["position"])[:16].copy()
    jitter = 0.1 * (-1.0) ** np.arange(16)  # +-0.1 m on alternate frames
    jitter[:tc] = 0.0
    pos[:, 0, 0] += jitter
    jitter_pos = np.concatenate([frames[:tc], render(meta, pos)[tc:]])
    p, t = tracks(meta, jitter_pos, 0, tc)
    per_frame = mo.velocity_error_per_frame(p, t, meta)
    # each frame's velocity is off by 0.2 m / dt = 6 m/s (3 m/s entering the first predicted frame)
    np.testing.assert_allclose(per_frame[1:], 0.2 * FPS, rtol=0.08)
    # the time-averaged velocity only sees the net displacement: jitter at the last frame over the span
    assert mo.velocity_error_time_avg(p, t, meta) == pytest.approx(abs(jitter[-1]) / (12 / FPS), rel=0.1)


def test_restitution_error_reads_the_bounce():
    frames, masks, meta = scene(64, 32, seed=2, e=0.5)
    bounce = [e for e in meta["events"] if e["b"] == 0][0]["frame"]
    other = render(meta, np.asarray(scene(64, 32, seed=2, e=0.9)[2]["states"]["position"]))
    start = bounce - 6
    p, t = tracks(meta, other[start:start + 14], start, 4)
    p0, t0 = tracks(meta, frames[start:start + 14], start, 4)
    assert ev.restitution_error(p0, t0, meta) < 0.05
    assert 0.25 < ev.restitution_error(p, t, meta) < 0.55


def test_interpenetration_measures_overlap_depth():
    frames, masks, meta = scene(64, 32, seed=0)
    pos = np.asarray(meta["states"]["position"]).copy()
    pos[:, 2] = pos[:, 1] + [0.6, 0.0]  # blue sits 0.6 m from green: radii 0.45 + 0.45 -> 0.3 m deep
    seq = render(meta, pos)[:12]
    p, t = tracks(meta, seq, 0, 4)
    depth = mo.interpenetration_px(p, t, meta)
    # a lower bound: the front disc hides part of the back one and pulls its parsed centroid away
    assert np.all(depth > 0.4 * 0.3 * t.camera.scale) and np.all(depth < 1.05 * 0.3 * t.camera.scale)
    p0, t0 = tracks(meta, frames[:12], 0, 4)
    assert np.all(mo.interpenetration_px(p0, t0, meta) == 0)


def test_image_metrics_on_identical_and_frozen_frames():
    frames, _, meta = scene(32, 16, seed=0)
    a = frames[3:10]
    assert np.all(im.psnr(a, a, meta) == 100.0)
    np.testing.assert_allclose(im.ssim(a, a, meta), 1.0, atol=1e-6)
    assert im.motion_iou_spatial(a, a, meta) == 1.0
    frozen = np.repeat(a[:1], len(a), axis=0)
    assert im.motion_iou_spatial(frozen, a, meta) == 0.0
    assert np.all(im.psnr(frozen, a, meta) < 40)


def test_ssim_and_psnr_are_scikit_images_with_the_published_settings():
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rng = np.random.default_rng(4)
    true = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    noise = rng.integers(-20, 21, true.shape)
    pred = np.clip(true.astype(int) + noise, 0, 255).astype(np.uint8)
    want = [structural_similarity(t, p, channel_axis=-1, data_range=255, gaussian_weights=True, sigma=1.5,
                                  use_sample_covariance=False) for p, t in zip(pred[1:], true[1:], strict=True)]
    np.testing.assert_allclose(im.ssim(pred, true, {}), want, rtol=1e-12)
    mse = ((pred[1:].astype(float) - true[1:]) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(im.psnr(pred, true, {}), 10 * np.log10(255**2 / mse), rtol=1e-9)
    assert peak_signal_noise_ratio(true[1], pred[1], data_range=255) == pytest.approx(im.psnr(pred, true, {})[0])


def test_a_box_squashed_into_a_square_shows_shape_drift():
    from orrery.data.objects import box_vertices

    frames, masks, meta = scene(64, 32, seed=0)
    squashed = dict(meta, objects=[dict(o) for o in meta["objects"]])
    box = squashed["objects"][3]
    box["vertices"] = box_vertices(np.sqrt(1.2 * 0.6), np.sqrt(1.2 * 0.6))  # same area, elongation 1 (truth 2)
    seq = render(squashed, np.asarray(meta["states"]["position"]))[:16]
    p, t = tracks(meta, seq, 0, 4)
    p0, t0 = tracks(meta, frames[:16], 0, 4)
    floor = mo.shape_drift(p0, t0, meta)
    assert np.all(floor < 0.1)
    # one object of four has lost half its elongation (|ln(1 / 2)|), the balls stay round: ~0.69 / 4
    drift = mo.shape_drift(p, t, meta)
    np.testing.assert_allclose(drift, np.log(2) / 4, atol=0.03)
    assert drift.mean() > floor.mean() + 0.06
    np.testing.assert_allclose(mo.size_drift(p, t, meta), mo.size_drift(p0, t0, meta), atol=0.03)  # same area


def test_a_frozen_spinning_box_misses_its_whole_angular_velocity():
    frames, masks, meta = scene(128, 16, seed=3)
    w = abs(meta["states"]["angular_velocity"][0][3])  # the box spins at a constant rate
    pred = CopyLast().rollout(frames[None, :4], 8)[0]
    p, t = tracks(meta, np.concatenate([frames[:4], pred]), 0, 4)
    err = mo.angular_velocity_error(p, t, meta)
    np.testing.assert_allclose(err, w, atol=0.15)
    p0, t0 = tracks(meta, frames[:12], 0, 4)
    assert np.nanmean(mo.angular_velocity_error(p0, t0, meta)) < 0.3 * w


def test_objects_sharing_a_colour_are_left_out_and_counted():
    frames, masks, meta = scene(64, 16, seed=0)
    same = dict(meta, objects=[dict(o) for o in meta["objects"]])
    same["objects"][2]["colour_id"] = same["objects"][1]["colour_id"]  # two green balls
    seq = render(same, np.asarray(meta["states"]["position"]))
    rows = metric_dict(score_clip(same, seq[:4], seq[4:16], seq[4:16], 0, masks))
    assert rows["objects_untracked"] == 2.0
    p, t = tracks(same, seq, 0, 4)
    assert list(t.colour_ids) == [0, 3]  # red ball and yellow box only
    assert np.nanmax(mo.position_error_px(p, t, same)) < 0.3
