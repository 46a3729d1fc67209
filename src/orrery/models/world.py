"""Learned world models behind `WorldModel.rollout()`, their configs and presets, and training.

`train_world()` is what `orrery train world` calls; `load_world_model(run)` gives back a
`WorldModel` that evaluation scores exactly like the baselines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ..train import TrainConfig, TrainResult, load_checkpoint, model_weights, resolve, train
from ..train.config import from_dict
from .ar_world import (
    ARModelConfig,
    ARWorldNet,
    AutoregressiveWorldModel,
    TokenWindows,
    check_tokenizer,
    collate_tokens,
)
from .base import Condition, WorldModel, check_context
from .latent_world import (
    LatentDiffusionWorldModel,
    LatentModelConfig,
    LatentWindows,
    LatentWorldNet,
    collate_latents,
)
from .pixel_world import PixelModelConfig, PixelWorldModel
from .windows import FrameWindows, clips_of, collate_windows, data_fingerprint


@dataclass
class DataConfig:
    val_split: str = "val"
    stride: int = 1  # between window starts


@dataclass
class WorldConfig:
    """Everything `orrery train world --model diffusion` resolves: model, data and training."""

    kind: Literal["diffusion"] = "diffusion"
    model: PixelModelConfig = field(default_factory=PixelModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


# The engineered default of the hybrid's mean head (measured in docs/models.md): warp the last frame
# by a predicted flow, weight moving pixels 5x, and train two unrolled steps (pushforward).
_MEAN = {"warp": True, "motion_weight": 4.0, "unroll": 2}

# Presets differ only in numbers. `tiny` is sized to train in ~10 minutes on 2 laptop CPU cores
# (with a wall-clock limit so a loaded machine still finishes on time, schedule included).
PRESETS: dict[str, dict] = {
    "tiny": {"model": {"channels": [32, 64, 64], "residual_channels": [16, 32, 32], "cond_dim": 64, **_MEAN},
             "train": {"steps": 1500, "batch_size": 32, "lr": 1e-3, "warmup": 0.03, "ema_decay": 0.995,
                       "val_every": 250, "ckpt_every": 250, "time_limit_min": 10.0}},
    "small": {"model": {**_MEAN, "channels": [64, 128, 128], "residual_channels": [32, 64, 64], "cond_dim": 128,
                        "blocks": 2, "text_dim": 128},
              "train": {"steps": 20000, "batch_size": 64, "lr": 5e-4, "ema_decay": 0.999,
                        "val_every": 1000, "ckpt_every": 1000}},
    "base": {"model": {**_MEAN, "channels": [128, 256, 256, 512], "residual_channels": [64, 128, 128, 256],
                       "cond_dim": 256, "blocks": 2, "text_dim": 256},
             "train": {"steps": 100000, "batch_size": 128, "lr": 3e-4, "ema_decay": 0.9995,
                       "val_every": 2000, "ckpt_every": 2000}},
}

# The pure diffusion head models whole frames (std ~0.5), the hybrid's only residuals (~0.1).
_HEAD_DEFAULTS = {"diffusion": {"denoiser": {"sigma_data": 0.5, "p_mean": -1.2, "p_std": 1.2},
                                "sigma_max": 10.0, "steps": 3}}


def resolve_world_config(preset: str, overrides: list[str] = ()) -> WorldConfig:
    """Preset <- head-specific defaults (when the head is overridden) <- key=value overrides."""
    from ..train.config import merge, parse_overrides

    over = parse_overrides(list(overrides))
    head = over.get("model", {}).get("head") if isinstance(over.get("model"), dict) else None
    presets = dict(PRESETS)
    if head in _HEAD_DEFAULTS and preset in presets:
        presets[preset] = merge(presets[preset], {"model": _HEAD_DEFAULTS[head]})
    return resolve(WorldConfig, presets, preset, list(overrides))


def train_world(data: str | Path, out: str | Path, preset: str = "tiny", overrides: list[str] = (),
                progress: bool = True) -> TrainResult:
    """Train the pixel diffusion world model on a dataset folder into run folder `out`."""
    cfg = resolve_world_config(preset, list(overrides))
    train_clips = clips_of(data, "train")
    windows = FrameWindows(train_clips, cfg.model.context, cfg.data.stride, future=cfg.model.unroll)
    cfg.model.action_dim = windows.action_dim
    try:
        val = FrameWindows(clips_of(data, cfg.data.val_split), cfg.model.context, cfg.data.stride)
    except ValueError:
        val = None  # a dataset without a validation split trains without validation
    model = PixelWorldModel(cfg.model)
    return train(model, windows, val, cfg.train, out, config=cfg, data_fingerprint=data_fingerprint(data),
                 collate_fn=collate_windows, progress=progress)


@dataclass
class ARWorldConfig:
    """Everything `orrery train world --model autoregressive --tokenizer RUN` resolves."""

    kind: Literal["autoregressive"] = "autoregressive"
    tokenizer: str = ""  # the discrete tokenizer's run folder or export (set from --tokenizer)
    model: ARModelConfig = field(default_factory=ARModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


AR_PRESETS: dict[str, dict] = {
    "tiny": {"model": {"gpt": {"d_model": 128, "n_layer": 4, "n_head": 4, "text_dim": 64}},
             "train": {"steps": 1500, "batch_size": 16, "lr": 1e-3, "warmup": 0.03, "ema_decay": 0.995,
                       "val_every": 250, "ckpt_every": 250, "time_limit_min": 10.0, "weight_decay": 0.05}},
    "small": {"model": {"gpt": {"d_model": 384, "n_layer": 8, "n_head": 6, "text_dim": 128}},
              "train": {"steps": 20000, "batch_size": 64, "lr": 5e-4, "val_every": 1000, "ckpt_every": 1000}},
    "base": {"model": {"gpt": {"d_model": 768, "n_layer": 12, "n_head": 12, "text_dim": 256}},
             "train": {"steps": 100000, "batch_size": 128, "lr": 3e-4, "val_every": 2000, "ckpt_every": 2000}},
}


def train_ar_world(data: str | Path, out: str | Path, tokenizer: str | Path, preset: str = "tiny",
                   overrides: list[str] = (), progress: bool = True) -> TrainResult:
    """Train the GPT over a frozen discrete tokenizer's tokens into run folder `out`."""
    from ..tokenizer.checkpoint import load_tokenizer

    cfg = resolve(ARWorldConfig, AR_PRESETS, preset, list(overrides))
    cfg.tokenizer = str(Path(tokenizer).resolve())
    tok, _ = load_tokenizer(tokenizer)
    check_tokenizer(tok, tokenizer)
    windows = TokenWindows(clips_of(data, "train"), tok, cfg.model.context)
    cfg.model.gpt.vocab = tok.fsq.codebook_size
    cfg.model.gpt.tokens_per_frame = windows.grid[0] * windows.grid[1]
    cfg.model.gpt.max_frames = cfg.model.context + 1
    cfg.model.gpt.action_dim = windows.action_dim
    if not cfg.model.text:
        cfg.model.gpt.text_dim = 0
    try:
        val = TokenWindows(clips_of(data, cfg.data.val_split), tok, cfg.model.context)
    except ValueError:
        val = None
    net = ARWorldNet(cfg.model)
    return train(net, windows, val, cfg.train, out, config=cfg,
                 data_fingerprint=f"{data_fingerprint(data)}:{tokenizer_fingerprint(tokenizer)}",
                 collate_fn=collate_tokens, progress=progress)


@dataclass
class LatentWorldConfig:
    """`orrery train world --model diffusion --tokenizer RUN`: a DiT over continuous latents."""

    kind: Literal["latent_diffusion"] = "latent_diffusion"
    tokenizer: str = ""
    model: LatentModelConfig = field(default_factory=LatentModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


LATENT_PRESETS: dict[str, dict] = {
    "tiny": {"model": {"d_model": 128, "depth": 4, "heads": 4},
             "train": {"steps": 1500, "batch_size": 32, "lr": 5e-4, "warmup": 0.03, "ema_decay": 0.995,
                       "val_every": 250, "ckpt_every": 250, "time_limit_min": 10.0}},
    "small": {"model": {"d_model": 384, "depth": 8, "heads": 6, "cond_dim": 256, "text_dim": 128},
              "train": {"steps": 20000, "batch_size": 64, "lr": 3e-4, "val_every": 1000, "ckpt_every": 1000}},
    "base": {"model": {"d_model": 768, "depth": 12, "heads": 12, "cond_dim": 512, "text_dim": 256, "patch": 2},
             "train": {"steps": 100000, "batch_size": 128, "lr": 2e-4, "val_every": 2000, "ckpt_every": 2000}},
}


def train_latent_world(data: str | Path, out: str | Path, tokenizer: str | Path, preset: str = "tiny",
                       overrides: list[str] = (), progress: bool = True) -> TrainResult:
    """Train the DiT over a frozen continuous tokenizer's normalised latents into `out`."""
    from ..tokenizer.checkpoint import load_tokenizer

    cfg = resolve(LatentWorldConfig, LATENT_PRESETS, preset, list(overrides))
    cfg.tokenizer = str(Path(tokenizer).resolve())
    tok, _ = load_tokenizer(tokenizer)
    if tok.fsq is not None:
        raise ValueError(f"tokenizer {tokenizer}: the latent diffusion model needs a continuous tokenizer")
    if tok.cfg.time_factor != 1:
        raise ValueError(f"tokenizer {tokenizer}: compression {tok.cfg.compression} compresses time; the "
                         "latent model needs one latent frame per video frame (1 x s x s)")
    windows = LatentWindows(clips_of(data, "train"), tok, cfg.model.context)
    c, h, w = windows.shape
    cfg.model.latent_channels, cfg.model.grid, cfg.model.action_dim = c, (h, w), windows.action_dim
    try:
        val = LatentWindows(clips_of(data, cfg.data.val_split), tok, cfg.model.context)
    except ValueError:
        val = None
    return train(LatentWorldNet(cfg.model), windows, val, cfg.train, out, config=cfg,
                 data_fingerprint=f"{data_fingerprint(data)}:{tokenizer_fingerprint(tokenizer)}",
                 collate_fn=collate_latents, progress=progress)


def tokenizer_fingerprint(path: str | Path) -> str:
    """Names the tokenizer weights an AR model was trained on (their sidecar's step and config)."""
    import hashlib
    import json

    from ..tokenizer.checkpoint import load_tokenizer

    _, meta = load_tokenizer(path)
    return hashlib.sha256(json.dumps({k: meta.get(k) for k in ("config", "step")}, sort_keys=True,
                                     default=str).encode()).hexdigest()[:12]


class DiffusionWorldModel(WorldModel):
    """A trained `PixelWorldModel` rolled out autoregressively to any horizon."""

    def __init__(self, net: PixelWorldModel, seed: int = 0, device: str = "cpu", batch_size: int = 64,
                 name: str = "diffusion"):
        self.net = net.eval().to(device)
        self.seed = seed
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.name = name

    @property
    def context_frames(self) -> int:
        return self.net.cfg.context

    def rollout(self, context: np.ndarray, horizon: int, condition: Condition | None = None) -> np.ndarray:
        """context uint8 [B, Tc', H, W, 3] -> uint8 [B, horizon, H, W, 3].

        Uses the last Tc frames of the context (repeating the first frame when Tc' < Tc). Actions
        [B, Tc' + horizon, A] and text come from `condition`; `condition.metas` is ignored."""
        check_context(context, horizon)
        cfg = self.net.cfg
        b, tc_in = context.shape[:2]
        size = context.shape[2]
        levels = max(len(cfg.channels), len(cfg.residual_channels)) - 1
        if size % (2 ** levels) or context.shape[3] != size:
            raise ValueError(f"context: frames must be square with a side divisible by {2 ** levels}, "
                             f"got {context.shape[2]}x{context.shape[3]}")
        cond = condition or Condition()
        actions = None
        if cfg.action_dim:
            if cond.actions is None:
                raise ValueError(f"condition.actions: this model needs {cfg.action_dim} action values per step "
                                 f"[B, Tc + horizon, {cfg.action_dim}]")
            actions = np.asarray(cond.actions, np.float32)
            if actions.shape[0] != b or actions.shape[1] < tc_in + horizon - 1 or actions.shape[2] != cfg.action_dim:
                raise ValueError(f"condition.actions: expected [{b}, {tc_in + horizon}, {cfg.action_dim}], "
                                 f"got {list(actions.shape)}")
        if cond.text is not None and len(cond.text) != b:
            raise ValueError(f"condition.text: expected {b} prompts, got {len(cond.text)}")
        out = np.empty((b, horizon, *context.shape[2:]), np.uint8)
        for s in range(0, b, self.batch_size):
            e = min(b, s + self.batch_size)
            out[s:e] = self._rollout_batch(context[s:e], horizon,
                                           None if actions is None else actions[s:e],
                                           None if cond.text is None else list(cond.text[s:e]), s)
        return out

    def _rollout_batch(self, context, horizon, actions, texts, offset: int) -> np.ndarray:
        tc = self.net.cfg.context
        ctx = torch.from_numpy(context).to(self.device)
        if ctx.shape[1] < tc:  # too short: repeat the first frame (a ball "at rest before")
            pad = ctx[:, :1].expand(-1, tc - ctx.shape[1], -1, -1, -1)
            ctx = torch.cat([pad, ctx], dim=1)
            if actions is not None:
                actions = np.concatenate([np.zeros((actions.shape[0], tc - context.shape[1], actions.shape[2]),
                                                   np.float32), actions], axis=1)
        frames = PixelWorldModel.to_float(ctx)  # [B, T, 3, H, W]
        n_ctx = frames.shape[1]
        g = torch.Generator(device=self.device).manual_seed(self.seed * 1_000_003 + offset)
        preds = []
        for h in range(horizon):
            t = n_ctx + h  # index of the frame being predicted
            a = None
            if actions is not None:
                a = torch.from_numpy(actions[:, t - tc:t]).to(self.device)
            nxt = self.net.predict(frames[:, -tc:], a, texts, g)
            # Quantise like a real frame: the model then always sees what it will be scored on.
            nxt = ((nxt.clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1
            preds.append(nxt)
            frames = torch.cat([frames[:, -tc + 1:] if tc > 1 else frames[:, :0], nxt[:, None]], dim=1)
        x = torch.stack(preds, dim=1)  # [B, horizon, 3, H, W]
        return ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 1, 3, 4, 2).cpu().numpy()


def load_world_model(run: str | Path, step: int | None = None, device: str = "cpu", seed: int = 0,
                     overrides: list[str] = ()) -> WorldModel:
    """A trained run folder -> a WorldModel (EMA weights). `overrides` may change inference
    settings of the model config (diffusion: sampler, steps, residual_temperature, guidance,
    ctx_noise_infer; autoregressive: temperature, top_p), e.g. 'steps=2'."""
    from ..train.config import merge, parse_overrides

    ckpt = load_checkpoint(run, step)
    conf = ckpt.sidecar["config"]
    if conf.get("kind") == "autoregressive":
        from ..tokenizer.checkpoint import load_tokenizer

        cfg_ar = from_dict(ARModelConfig, merge(conf["model"], parse_overrides(list(overrides))), "model")
        net_ar = ARWorldNet(cfg_ar)
        net_ar.load_state_dict(model_weights(ckpt))
        tok, _ = load_tokenizer(conf["tokenizer"])
        return AutoregressiveWorldModel(net_ar, tok, seed=seed, device=device)
    if conf.get("kind") == "latent_diffusion":
        from ..tokenizer.checkpoint import load_tokenizer

        cfg_l = from_dict(LatentModelConfig, merge(conf["model"], parse_overrides(list(overrides))), "model")
        net_l = LatentWorldNet(cfg_l)
        net_l.load_state_dict(model_weights(ckpt))
        tok, _ = load_tokenizer(conf["tokenizer"])
        return LatentDiffusionWorldModel(net_l, tok, seed=seed, device=device)
    if conf.get("kind") != "diffusion":
        raise ValueError(f"{run}: not a world model run (kind {conf.get('kind')!r})")
    model_conf = merge(conf["model"], parse_overrides(list(overrides)))
    cfg = from_dict(PixelModelConfig, model_conf, "model")
    net = PixelWorldModel(cfg)
    net.load_state_dict(model_weights(ckpt))
    return DiffusionWorldModel(net, seed=seed, device=device, name=f"diffusion:{cfg.head}")
