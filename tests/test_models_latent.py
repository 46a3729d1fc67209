"""The latent diffusion world model: a DiT (adaLN-Zero) over a continuous tokenizer's latents,
driven by the same denoiser and sampler as the pixel model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orrery.models.base import Condition
from orrery.models.latent.adapter import LatentRollout, encode_latents
from orrery.models.latent.config import LatentModelConfig
from orrery.models.latent.net import LatentWorldNet
from orrery.models.nets.dit import DiT
from orrery.models.registry import load_world_model
from orrery.recipes.windows import Windows, collate
from orrery.recipes.world import run_config_class
from orrery.tokenizer.checkpoint import save_tokenizer
from orrery.tokenizer.config import TokenizerConfig
from orrery.tokenizer.model import VideoTokenizer
from orrery.train import TrainConfig, train

torch.set_num_threads(1)


def test_dit_starts_at_zero_and_learns_a_map():
    torch.manual_seed(0)
    net = DiT(4, 2, 8, (4, 4), patch=2, d_model=32, depth=2, heads=2)
    x, cond = torch.randn(3, 4, 4, 4), torch.randn(3, 8)
    assert torch.equal(net(x, cond), torch.zeros(3, 2, 4, 4))  # adaLN-Zero and a zero output layer
    target = x[:, :2] * 0.5 + 0.1
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    for _ in range(150):
        loss = ((net(x, cond) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss) < 0.05 * float((target**2).mean())
    with pytest.raises(ValueError, match="built for 4x4"):
        net(torch.randn(1, 4, 8, 8), cond[:1])


def test_latent_world_model_trains_reloads_and_rolls_out(tmp_path):
    torch.manual_seed(0)
    tok = VideoTokenizer(TokenizerConfig(kind="continuous", compression="1x4x4", channels=8, latent_channels=4)).eval()
    export = save_tokenizer(tmp_path / "tok.safetensors", tok)
    rng = np.random.default_rng(0)
    clips = [(rng.integers(0, 255, (5, 16, 16, 3), dtype=np.uint8), None, ["a ball"]) for _ in range(3)]
    windows = Windows(clips, 2, field="latents", encode=lambda f: encode_latents(tok, f[None])[0])
    assert windows.item_shape == (4, 4, 4) and len(windows) == 9
    cfg = LatentModelConfig(context=2, latent_channels=4, grid=(4, 4), d_model=32, depth=2, heads=2, cond_dim=16,
                            text_dim=16, steps=2)
    tcfg = TrainConfig(steps=2, batch_size=3, val_every=0, ckpt_every=0, log_every=1, device="cpu", ema_decay=0)
    net = LatentWorldNet(cfg)
    train(net, windows, None, tcfg, tmp_path / "run",
          config=run_config_class("latent")(tokenizer=str(export), model=cfg, train=tcfg), data_fingerprint="x",
          collate_fn=collate, progress=False)
    wm = load_world_model(tmp_path / "run", seed=1)
    assert isinstance(wm, LatentRollout)
    trained = net.state_dict()  # the reload holds the trained weights, not a fresh initialisation
    assert all(torch.equal(v, trained[k]) for k, v in wm.net.state_dict().items())
    out = wm.rollout(clips[0][0][None, :2], 3, Condition(text=["a ball"]))
    assert out.shape == (1, 3, 16, 16, 3) and out.dtype == np.uint8
    assert np.array_equal(out, load_world_model(tmp_path / "run", seed=1).rollout(clips[0][0][None, :2], 3,
                                                                               Condition(text=["a ball"])))


@pytest.mark.parametrize("head", ["hybrid", "mean"])
def test_the_mean_heads_start_at_copy_last_and_learn_the_motion(head):
    """The hybrid and mean heads' mean is the last latent plus a change that starts at zero;
    trained on latents that move at constant velocity, its one-step error falls far below
    copy-last's; `residual_temperature=0` (hybrid) rolls out that mean alone, and the mean head
    has no diffusion network at all."""
    torch.manual_seed(0)
    cfg = LatentModelConfig(context=2, latent_channels=2, grid=(4, 4), d_model=32, depth=2, heads=2, cond_dim=16,
                            text=False, head=head, unroll=2, residual_temperature=0.0, ctx_noise_prob=0.0)
    net = LatentWorldNet(cfg)
    assert hasattr(net, "dit") == (head == "hybrid")
    gen = torch.Generator().manual_seed(0)

    def batch():
        z0, v = torch.randn(16, 1, 2, 4, 4, generator=gen), torch.randn(16, 1, 2, 4, 4, generator=gen)
        return {"latents": z0 + v * torch.arange(4.0).view(1, 4, 1, 1, 1)}  # Lc 2 + 2 unrolled targets

    from orrery.models.conditioning import ItemNoise

    b = batch()
    noise = ItemNoise(list(range(16)), "cpu")
    assert torch.equal(net.predict(b["latents"][:, :2], None, None, noise), b["latents"][:, 1])
    copy_last = float(((b["latents"][:, 1] - b["latents"][:, 2]) ** 2).mean())
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    for _ in range(200):
        loss, logs = net.loss(batch(), gen)
        assert set(logs) == {"mean_mse"} | ({"diffusion"} if head == "hybrid" else set())
        opt.zero_grad()
        loss.backward()
        opt.step()
    b = batch()
    pred = net.predict(b["latents"][:, :2], None, None, noise)
    assert float(((pred - b["latents"][:, 2]) ** 2).mean()) < 0.1 * copy_last


def test_one_number_of_a_nested_default_can_be_set_alone():
    """`--set model.denoiser.sigma_data=0.3` keeps the family's other denoiser numbers (they come
    from a default factory and were lost: every field was then asked for)."""
    from orrery.config import ConfigError
    from orrery.recipes.world import resolve_world_config

    cfg = resolve_world_config("latent", "tiny", sets=["model.denoiser.sigma_data=0.3", "model.head=hybrid"])
    default = LatentModelConfig().denoiser
    assert cfg.model.denoiser.sigma_data == 0.3 and cfg.model.head == "hybrid"
    assert (cfg.model.denoiser.p_mean, cfg.model.denoiser.p_std) == (default.p_mean, default.p_std)
    mean = resolve_world_config("latent", "tiny-mean")
    assert (mean.model.head, mean.model.unroll, mean.train) == ("mean", 2, cfg.train)
    with pytest.raises(ConfigError, match="model.denoiser.bogus"):
        resolve_world_config("latent", "tiny", sets=["model.denoiser.bogus=1"])
