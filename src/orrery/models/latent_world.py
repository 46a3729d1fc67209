"""The latent diffusion world model: a DiT denoises the next latent frame of a frozen continuous
tokenizer, given the Tc previous latent frames (stacked as channels), actions and text. The same
`diffusion.denoiser` and `diffusion.sampler` as the pixel model drive it; only the network differs.

Latents are normalised with the tokenizer's stored per-channel mean/std (unit variance, hence
sigma_data = 1). Only tokenizers without temporal compression (1 x s x s) are supported."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from einops import rearrange
from torch import nn
from torch.utils.data import Dataset

from .base import Condition, WorldModel, check_context
from .diffusion.denoiser import Denoiser, DenoiserConfig
from .diffusion.sampler import SAMPLERS, karras_sigmas
from .dit import DiT
from .pixel_world import Conditioner
from .text import HashedTextEncoder


@dataclass
class LatentModelConfig:
    context: int = 4
    latent_channels: int = 16  # C, set from the tokenizer
    grid: tuple[int, int] = (8, 8)  # latent h, w, set from the tokenizer and data
    patch: int = 1
    d_model: int = 128
    depth: int = 4
    heads: int = 4
    cond_dim: int = 128
    action_dim: int = 0
    text: bool = True
    text_dim: int = 64
    text_dropout: float = 0.1
    ctx_noise_max: float = 0.3
    ctx_noise_prob: float = 0.5
    ctx_noise_infer: float = 0.0
    denoiser: DenoiserConfig = field(default_factory=lambda: DenoiserConfig(sigma_data=1.0))
    sampler: Literal["euler", "heun"] = "heun"
    steps: int = 4
    sigma_min: float = 0.002
    sigma_max: float = 20.0
    guidance: float = 1.0

    def validate(self) -> None:
        if self.context < 1 or self.steps < 1 or self.sigma_max <= self.sigma_min:
            raise ValueError("context >= 1, steps >= 1 and sigma_max > sigma_min required")


class LatentWorldNet(nn.Module):
    """batch: {'latents': float [B, Tc + 1, C, h, w] (normalised), 'actions': [B, Tc + 1, A], 'caption': [str]}."""

    def __init__(self, cfg: LatentModelConfig):
        super().__init__()
        self.cfg = cfg
        c = cfg.latent_channels
        self.text = HashedTextEncoder(cfg.text_dim) if cfg.text else None
        self.cond = Conditioner(cfg)
        self.dit = DiT(c * (cfg.context + 1), c, cfg.cond_dim, tuple(cfg.grid), cfg.patch, cfg.d_model,
                       cfg.depth, cfg.heads)
        self.denoiser = Denoiser(cfg.denoiser)

    def _net(self, ctx: torch.Tensor, ctx_sigma: torch.Tensor, actions, text):
        stacked = rearrange(ctx, "b t c h w -> b (t c) h w")

        def net(x_in: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
            return self.dit(torch.cat([x_in, stacked], dim=1), self.cond(noise, ctx_sigma, actions, text))

        return net

    def _text(self, texts, b):
        return None if self.text is None else self.text(list(texts) if texts is not None else [""] * b)

    def loss(self, batch: dict, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        cfg = self.cfg
        z = batch["latents"].float()
        b, dev = z.shape[0], z.device
        ctx, target = z[:, :cfg.context], z[:, cfg.context]
        ctx_sigma = cfg.ctx_noise_max * torch.rand(b, generator=generator, device=dev)
        ctx_sigma = ctx_sigma * (torch.rand(b, generator=generator, device=dev) < cfg.ctx_noise_prob)
        ctx = ctx + ctx_sigma[:, None, None, None, None] * torch.randn(ctx.shape, generator=generator, device=dev)
        texts = list(batch.get("caption") or [""] * b)
        if self.text is not None and cfg.text_dropout > 0:
            drop = (torch.rand(b, generator=generator, device=dev) < cfg.text_dropout).tolist()
            texts = ["" if d else t for d, t in zip(drop, texts, strict=True)]
        actions = batch["actions"][:, :cfg.context].float() if cfg.action_dim else None
        loss = self.denoiser.loss(self._net(ctx, ctx_sigma, actions, self._text(texts, b)), target, generator).mean()
        return loss, {"diffusion": float(loss.detach())}

    @torch.no_grad()
    def predict(self, ctx: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
                generator: torch.Generator) -> torch.Tensor:
        """ctx [B, Tc, C, h, w] (normalised) -> next latent frame [B, C, h, w]."""
        cfg = self.cfg
        b, dev = ctx.shape[0], ctx.device
        ctx_sigma = torch.full((b,), cfg.ctx_noise_infer, device=dev)
        text = self._text(texts, b)
        guided = text is not None and texts is not None and cfg.guidance != 1.0
        null = self._text(None, b) if guided else None
        sigmas = karras_sigmas(cfg.steps, cfg.sigma_min, cfg.sigma_max, device=dev)
        x = torch.randn(ctx[:, -1].shape, generator=generator, device=dev) * sigmas[0]

        def denoise(xn, sigma):
            d = self.denoiser.denoise(self._net(ctx, ctx_sigma, actions, text), xn, sigma)
            if guided:
                u = self.denoiser.denoise(self._net(ctx, ctx_sigma, actions, null), xn, sigma)
                d = u + cfg.guidance * (d - u)
            return d

        return SAMPLERS[cfg.sampler](denoise, x, sigmas, generator)


def encode_latents(tokenizer, frames: np.ndarray) -> torch.Tensor:
    """uint8 [B, T, H, W, 3] -> normalised latents [B, T, C, h, w] (one latent frame per frame)."""
    from ..tokenizer.model import to_video

    with torch.no_grad():
        z = tokenizer.normalize(tokenizer.encode(to_video(frames)))  # [B, C, T, h, w]
    return z.permute(0, 2, 1, 3, 4)


class LatentWindows(Dataset):
    """Windows of Tc + 1 latent frames of every clip (each clip encoded once, whole)."""

    def __init__(self, clips, tokenizer, context: int):
        self.items, self.index = [], []
        self.context = context
        a_dims = set()
        for ci, (frames, actions, captions) in enumerate(clips):
            z = encode_latents(tokenizer, np.asarray(frames)[None])[0]
            acts = np.zeros((z.shape[0], 0), np.float32) if actions is None else np.asarray(actions, np.float32)
            a_dims.add(acts.shape[-1])
            self.items.append((z, torch.from_numpy(acts), list(captions) or [""]))
            self.index += [(ci, s) for s in range(0, z.shape[0] - context)]
        if len(a_dims) > 1 or not self.index:
            raise ValueError("clips disagree on action size, or are shorter than a window")
        self.action_dim = a_dims.pop()
        self.shape = tuple(self.items[0][0].shape[1:])  # (C, h, w)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict:
        ci, s = self.index[i]
        z, acts, caps = self.items[ci]
        e = s + self.context + 1
        return {"latents": z[s:e], "actions": acts[s:e], "caption": caps[s % len(caps)]}


def collate_latents(items: list[dict]) -> dict:
    return {"latents": torch.stack([it["latents"] for it in items]),
            "actions": torch.stack([it["actions"] for it in items]),
            "caption": [it["caption"] for it in items]}


class LatentDiffusionWorldModel(WorldModel):
    def __init__(self, net: LatentWorldNet, tokenizer, seed: int = 0, device: str = "cpu"):
        self.net = net.eval().to(device)
        self.tokenizer = tokenizer.eval().to(device)
        self.seed = seed
        self.device = torch.device(device)
        self.name = "diffusion:latent"

    @property
    def context_frames(self) -> int:
        return self.net.cfg.context

    def rollout(self, context: np.ndarray, horizon: int, condition: Condition | None = None) -> np.ndarray:
        from ..tokenizer.model import to_frames

        check_context(context, horizon)
        cfg = self.net.cfg
        cond = condition or Condition()
        tc, n_in = cfg.context, context.shape[1]
        if cfg.action_dim and cond.actions is None:
            raise ValueError(f"condition.actions: this model needs {cfg.action_dim} action values per step")
        ctx = context[:, -tc:]
        if ctx.shape[1] < tc:
            ctx = np.concatenate([np.repeat(ctx[:, :1], tc - ctx.shape[1], axis=1), ctx], axis=1)
        z = encode_latents(self.tokenizer, ctx).to(self.device)
        g = torch.Generator(device=self.device).manual_seed(self.seed)
        for h in range(horizon):
            acts = None
            if cfg.action_dim:
                rows = np.asarray(cond.actions, np.float32)
                idx = np.clip(np.arange(n_in + h - tc, n_in + h), 0, rows.shape[1] - 1)
                acts = torch.from_numpy(rows[:, idx]).to(self.device)
            nxt = self.net.predict(z[:, -tc:], acts, cond.text, g)
            z = torch.cat([z, nxt[:, None]], dim=1)
        with torch.no_grad():
            video = self.tokenizer.decode(self.tokenizer.denormalize(z.permute(0, 2, 1, 3, 4)))
        return to_frames(video)[:, -horizon:]
