"""The pixel diffusion world model: diffusion maths in closed form, overfitting, causality,
actions, and checkpoints that reload and resume exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orrery.data.camera import Camera
from orrery.data.objects import ObjectSpec
from orrery.models.base import Condition
from orrery.models.conditioning import ItemNoise
from orrery.models.diffusion.denoiser import Denoiser, DenoiserConfig
from orrery.models.diffusion.sampler import SAMPLERS, karras_sigmas
from orrery.models.pixel.adapter import PixelRollout
from orrery.models.pixel.config import MeanConfig, PixelModelConfig
from orrery.models.pixel.net import MeanNet, PixelWorldNet, to_float
from orrery.models.registry import load_world_model
from orrery.recipes.windows import Windows, collate
from orrery.recipes.world import run_config_class
from orrery.sim.render import Renderer
from orrery.train import TrainConfig, train

torch.set_num_threads(1)
SIZE = 16
CAM = Camera(0.0, 0.0, 16.0, SIZE)  # 1 px per metre
BALL = [ObjectSpec(id=1, shape="circle", colour_id=0, mass=1.0, moment=1.0, radius=2.0)]


def ballistic_clip(rng: np.random.Generator, t: int = 10) -> np.ndarray:
    """A ball thrown through the view under gravity: frames uint8 [T, SIZE, SIZE, 3]."""
    p0 = rng.uniform([3, 6], [13, 13])
    v0 = rng.uniform([-1.5, -1.0], [1.5, 1.0])
    ts = np.arange(t)[:, None]
    pos = p0 + v0 * ts + 0.5 * np.array([0.0, -0.15]) * ts**2
    frames, _ = Renderer(CAM).render_clip(BALL, pos[:, None, :], np.zeros((t, 1)))
    return frames


def pushed_clip(rng: np.random.Generator, t: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A ball that moves by the per-frame action (dx, dy) in px: (frames, actions float32 [T, 2])."""
    acts = rng.choice([-1.0, 0.0, 1.0], size=(t, 2)).astype(np.float32)
    pos = np.zeros((t, 2))
    pos[0] = rng.uniform(5, 11, size=2)
    for i in range(1, t):
        pos[i] = np.clip(pos[i - 1] + acts[i - 1], 3, 13)
    frames, _ = Renderer(CAM).render_clip(BALL, pos[:, None, :], np.zeros((t, 1)))
    return frames, acts


def small_cfg(**kw) -> PixelModelConfig:
    base = dict(context=2, channels=(8, 16), residual_channels=(8, 16), cond_dim=16, text_dim=16, warp=False,
                motion_weight=0.0, unroll=1)
    base.update(kw)
    return PixelModelConfig(**base)


def mean_cfg(**kw) -> MeanConfig:
    """The deterministic family's config at the same small size."""
    base = dict(context=2, channels=(8, 16), cond_dim=16, text_dim=16, warp=False, motion_weight=0.0, unroll=1)
    base.update(kw)
    return MeanConfig(**base)


def wake(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give zero-initialised output layers small random weights so every input reaches the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().sum() == 0:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
    return model


def centroid(frames: np.ndarray) -> np.ndarray:
    """Brightness-weighted centroid (col, row) per frame of uint8 [T, H, W, 3] -> [T, 2]."""
    w = frames.astype(np.float64).sum(-1)
    rows, cols = np.mgrid[0:frames.shape[1], 0:frames.shape[2]]
    s = w.sum((1, 2))
    return np.stack([(w * cols).sum((1, 2)) / s, (w * rows).sum((1, 2)) / s], -1)


# ---- diffusion maths --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["edm", "flow"])
def test_ideal_network_has_zero_loss_and_denoises_exactly(kind):
    """For data that is a single point x0, the network the parametrisation asks for is known in
    closed form; with it the loss is 0 and D(x; sigma) = x0 at every noise level."""
    cfg = DenoiserConfig(kind=kind, sigma_data=0.5, p_mean=-1.2, p_std=1.2)
    den = Denoiser(cfg)
    x0 = torch.randn(3, 3, 4, 4, generator=torch.Generator().manual_seed(1))

    def ideal(x_in, noise):
        b = x_in.shape[0]
        if kind == "edm":
            sigma = (noise * 4).exp().reshape(b, 1, 1, 1)
            sd = cfg.sigma_data
            x = x_in * (sigma**2 + sd**2).sqrt()
            c_skip, c_out = sd**2 / (sigma**2 + sd**2), sigma * sd / (sigma**2 + sd**2).sqrt()
            return (x0[:b] - c_skip * x) / c_out
        t = noise.reshape(b, 1, 1, 1)
        eps = (x_in - (1 - t) * x0[:b]) / t
        return eps - x0[:b]

    loss = den.loss(ideal, x0, torch.Generator().manual_seed(0))
    assert loss.max() < 1e-8
    for sigma in (0.01, 0.5, 20.0):
        x = x0 + sigma * torch.randn(x0.shape)
        torch.testing.assert_close(den.denoise(ideal, x, torch.full((3,), sigma)), x0, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["euler", "heun"])
def test_samplers_follow_the_gaussian_probability_flow(name):
    """Data ~ N(0, s^2): the ideal denoiser is x s^2 / (s^2 + sigma^2) and the probability-flow ODE
    maps x(sigma_max) to x * s / sqrt(s^2 + sigma_max^2) exactly."""
    s, smax = 0.5, 10.0
    x = torch.randn(1000, generator=torch.Generator().manual_seed(0)) * (s**2 + smax**2) ** 0.5
    sigmas = karras_sigmas(40, 1e-3, smax)
    out = SAMPLERS[name](lambda xn, sig: xn * s**2 / (s**2 + sig**2), x, sigmas)
    expected = x * s / (s**2 + smax**2) ** 0.5
    tol = 0.05 if name == "euler" else 0.005
    assert (out - expected).abs().max() < tol * expected.abs().max()
    assert karras_sigmas(3, 0.01, 1.0)[-1] == 0 and len(karras_sigmas(3, 0.01, 1.0)) == 4


# ---- the network on frames --------------------------------------------------------------------

def test_denoiser_overfits_one_batch():
    """A plain diffusion head (whole frames, no mean network) memorises four windows: its loss at
    fixed noise falls five-fold and a 4-step sample beats copying the last frame."""
    rng = np.random.default_rng(0)
    clips = [(ballistic_clip(rng, 4), None, ["a ball"]) for _ in range(4)]
    batch = collate([Windows(clips, 2)[i] for i in (0, 2, 4, 6)])
    torch.manual_seed(0)
    model = PixelWorldNet(small_cfg(head="diffusion", denoiser=DenoiserConfig(sigma_data=0.5, p_mean=-1.0, p_std=1.2),
                                    text=False, ctx_noise_prob=0.0, sigma_max=10.0, steps=4))
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    x = to_float(batch["frames"])

    @torch.no_grad()
    def fixed_loss():
        return float(model.loss(batch, torch.Generator().manual_seed(123))[0])

    before = fixed_loss()
    for i in range(200):
        loss, _ = model.loss(batch, torch.Generator().manual_seed(i))
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = fixed_loss()
    assert after < 0.2 * before, (before, after)
    sample = model.predict(x[:, :2], None, None, ItemNoise([0, 1, 2, 3]))
    copy_last = float(((x[:, 1] - x[:, 2]) ** 2).mean())
    assert float(((sample - x[:, 2]) ** 2).mean()) < copy_last


def test_context_changes_rollout_and_future_frames_never_leak():
    rng = np.random.default_rng(1)
    model = wake(PixelWorldNet(small_cfg(head="hybrid", text=False))).eval()
    wm = PixelRollout(model, seed=0)
    frames = ballistic_clip(rng, 8)[None]  # [1, 8, H, W, 3]
    base = wm.rollout(frames[:, :2], 3)
    changed = frames.copy()
    changed[:, 0] = ballistic_clip(rng, 1)[0]  # the *earliest* context frame only
    assert not np.array_equal(wm.rollout(changed[:, :2], 3), base)
    assert np.array_equal(wm.rollout(frames[:, :2], 3), base)  # same seed, same answer

    # Teacher-forced predictions of frames 2..7: editing frame 5 may only move predictions of frames 6, 7.
    f = torch.from_numpy(frames)
    pred = model.predict_teacher_forced(f, None, None)
    edited = f.clone()
    edited[:, 5] = torch.from_numpy(ballistic_clip(rng, 1))
    pred_e = model.predict_teacher_forced(edited, None, None)
    assert torch.equal(pred[:, :4], pred_e[:, :4])  # frames 2, 3, 4, 5
    assert not torch.equal(pred[:, 4:], pred_e[:, 4:])


def test_training_gradient_of_a_window_ignores_frames_after_its_target():
    rng = np.random.default_rng(2)
    model = wake(PixelWorldNet(small_cfg(head="hybrid", text=False)))
    frames = torch.from_numpy(ballistic_clip(rng, 4))[None].float().requires_grad_(True)
    # loss() reads frames[:, :Tc + 1] only: build a 4-frame input whose last frame is beyond the target
    batch = {"frames": frames, "actions": torch.zeros(1, 4, 0), "caption": [""]}
    loss, _ = model.loss(batch, torch.Generator().manual_seed(0))
    loss.backward()
    g = frames.grad.abs().sum((0, 2, 3, 4))
    assert g[:3].sum() > 0 and g[3] == 0


def test_actions_steer_the_pushed_object(tmp_path):
    """Train briefly on a ball that moves by its action; then opposite actions move it opposite ways."""
    rng = np.random.default_rng(3)
    clips = [(*pushed_clip(rng), []) for _ in range(48)]
    data = Windows(clips, 2)
    cfg = mean_cfg(text=False, action_dim=2, channels=(16, 32))
    torch.manual_seed(0)  # the initial weights must not depend on which tests ran before
    model = MeanNet(cfg)
    tcfg = TrainConfig(steps=200, batch_size=16, lr=3e-3, warmup=0.05, ema_decay=0.0, val_every=0,
                       ckpt_every=0, log_every=50, device="cpu")
    train(model, data, None, tcfg, tmp_path, config=run_config_class("deterministic")(model=cfg, train=tcfg),
          data_fingerprint="synthetic", collate_fn=collate, progress=False)
    wm = PixelRollout(model)
    frames, _ = pushed_clip(np.random.default_rng(99))
    ctx = frames[None, :2]
    moves = {}
    for name, a in {"right": (1.0, 0.0), "left": (-1.0, 0.0), "up": (0.0, 1.0)}.items():
        acts = np.zeros((1, 2 + 3, 2), np.float32)
        acts[:, 1:] = a  # the command applied from the last context frame on
        pred = wm.rollout(ctx, 3, Condition(actions=acts))
        moves[name] = centroid(pred[0])[-1] - centroid(frames[1:2])[0]
    assert moves["right"][0] > 1.5 and moves["left"][0] < -1.5, moves
    assert moves["up"][1] < -1.5 and abs(moves["up"][0]) < 1.0, moves  # world y is up: rows decrease
    with pytest.raises(ValueError, match="action"):
        wm.rollout(ctx, 2)


def test_checkpoint_reload_gives_the_same_rollout_and_resume_is_exact(tmp_path):
    rng = np.random.default_rng(4)
    clips = [(ballistic_clip(rng, 6), None, ["a ball flies", "a thrown ball"]) for _ in range(6)]
    data = Windows(clips, 2)
    cfg = small_cfg(head="hybrid")
    tcfg = TrainConfig(steps=6, batch_size=4, lr=1e-3, ema_decay=0.9, val_every=0, ckpt_every=3, log_every=1,
                       device="cpu")
    conf = run_config_class("pixel")(model=cfg, train=tcfg)
    torch.manual_seed(0)
    straight = PixelWorldNet(cfg)
    init = {k: v.clone() for k, v in straight.state_dict().items()}
    train(straight, data, None, tcfg, tmp_path / "a", config=conf, data_fingerprint="x",
          collate_fn=collate, progress=False)
    killed = PixelWorldNet(cfg)
    killed.load_state_dict(init)
    train(killed, data, None, tcfg, tmp_path / "b", config=conf, data_fingerprint="x",
          collate_fn=collate, progress=False, stop_after=3)
    resumed = PixelWorldNet(cfg)
    train(resumed, data, None, tcfg, tmp_path / "b", config=conf, data_fingerprint="x",
          collate_fn=collate, progress=False)
    for k, v in straight.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k

    ctx = clips[0][0][None, :2]
    cond = Condition(text=["a ball flies"])
    a = load_world_model(tmp_path / "a", seed=5).rollout(ctx, 4, cond)
    b = load_world_model(tmp_path / "b", seed=5).rollout(ctx, 4, cond)
    assert np.array_equal(a, b)
    assert a.shape == (1, 4, SIZE, SIZE, 3) and a.dtype == np.uint8
    # Inference settings can be overridden at load; training-only keys cannot be mistyped silently.
    load_world_model(tmp_path / "a", overrides=["steps=1", "sampler=heun"]).rollout(ctx, 1)
    with pytest.raises(ValueError, match="stepz"):
        load_world_model(tmp_path / "a", overrides=["stepz=1"])


def test_rollout_rejects_bad_inputs_clearly():
    wm = PixelRollout(PixelWorldNet(small_cfg()))
    with pytest.raises(ValueError, match="uint8"):
        wm.rollout(np.zeros((1, 2, SIZE, SIZE, 3), np.float32), 2)
    with pytest.raises(ValueError, match="divisible"):
        wm.rollout(np.zeros((1, 2, 15, 15, 3), np.uint8), 2)
    with pytest.raises(ValueError, match="prompts"):
        wm.rollout(np.zeros((2, 2, SIZE, SIZE, 3), np.uint8), 2, Condition(text=["one"]))
    # A context shorter than Tc is padded by repeating its first frame.
    assert wm.rollout(np.zeros((1, 1, SIZE, SIZE, 3), np.uint8), 2).shape == (1, 2, SIZE, SIZE, 3)


def test_warp_moves_content_by_the_flow_and_keeps_its_centroid():
    from orrery.models.pixel.net import warp

    frames = ballistic_clip(np.random.default_rng(5), 1)  # [1, H, W, 3]
    img = to_float(torch.from_numpy(frames)[None])[:, 0]  # [1, 3, H, W]
    assert torch.allclose(warp(img, torch.zeros(1, 2, SIZE, SIZE)), img, atol=1e-6)
    flow = torch.zeros(1, 2, SIZE, SIZE)
    flow[:, 0], flow[:, 1] = -0.5, 1.0  # out(p) = img(p + flow): content moves by (+0.5, -1) px
    out = ((warp(img, flow) + 1) * 127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(centroid(out)[0] - centroid(frames)[0], [0.5, -1.0], atol=0.05)


def test_unrolled_training_feeds_back_its_own_prediction():
    """unroll=2: the second step's context holds the (detached) first prediction, so the loss sees
    frame Tc + 1 only as a target, and frames before the window's end only as inputs or targets."""
    rng = np.random.default_rng(6)
    clip = ballistic_clip(rng, 6)
    w = Windows([(clip, None, [""])], 2, future=2)
    assert len(w) == 3 and w[0]["frames"].shape[0] == 4
    model = wake(MeanNet(mean_cfg(text=False, unroll=2, ctx_noise_prob=0.0)))
    batch = collate([w[0]])
    one = MeanNet(mean_cfg(text=False, unroll=1, ctx_noise_prob=0.0))
    one.load_state_dict(model.state_dict())
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    l2, l1 = model.loss(batch, g())[0], one.loss(batch, g())[0]
    mu = one.mean(to_float(batch["frames"])[:, :2], torch.zeros(1), None, None)
    x = to_float(batch["frames"])
    mu2 = one.mean(torch.cat([x[:, 1:2], mu[:, None]], 1), torch.zeros(1), None, None)
    expected = (((mu - x[:, 2]) ** 2).mean() + ((mu2 - x[:, 3]) ** 2).mean()) / 2
    torch.testing.assert_close(l2, expected)
    assert not torch.isclose(l1, l2)
