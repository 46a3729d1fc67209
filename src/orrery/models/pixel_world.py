"""The pixel world model of the `tiny` preset: predicts frame t from frames t-Tc..t-1 (stacked as
channels, DIAMOND-style), actions and text, with one of three heads:

- `hybrid` (default): a deterministic U-Net gives the conditional mean mu (as a change of the last
  frame), and a diffusion U-Net models only the residual x - mu, conditioned on the context and mu.
  The mean carries the physics (positions), the residual restores sharpness a mean blurs away.
- `diffusion`: a plain diffusion U-Net on the frame (the generative baseline the issue reports).
- `deterministic`: the mean network alone.

Context frames are noise-augmented in training (level drawn per item, given to the networks), so a
rollout that feeds back its own imperfect frames stays in distribution. Text drops to '' with
probability `text_dropout` to train classifier-free guidance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from einops import rearrange
from torch import nn
from torch.nn import functional as F

from .diffusion.denoiser import Denoiser, DenoiserConfig
from .diffusion.sampler import SAMPLERS, karras_sigmas
from .text import HashedTextEncoder
from .unet import UNet, fourier_embedding


@dataclass
class PixelModelConfig:
    head: Literal["hybrid", "diffusion", "deterministic"] = "hybrid"
    context: int = 4  # Tc frames in
    channels: tuple[int, ...] = (32, 64, 64)  # mean (or diffusion) U-Net widths per level
    residual_channels: tuple[int, ...] = (16, 32, 32)  # hybrid: the residual denoiser's widths
    blocks: int = 1
    warp: bool = False  # mean = last frame warped by a predicted flow, plus a change (else: last + change)
    mean_loss: Literal["mse", "l1"] = "mse"
    motion_weight: float = 0.0  # extra loss weight on pixels that change from the last context frame
    unroll: int = 1  # mean head: also train on k = 2..unroll steps fed its own (detached) predictions
    cond_dim: int = 64
    action_dim: int = 0  # A; set from the data at training time
    text: bool = True
    text_dim: int = 64
    text_dropout: float = 0.1
    ctx_noise_max: float = 0.1  # training: context noise std ~ U(0, max) (pixels in [-1, 1])
    ctx_noise_prob: float = 0.5  # share of training items with noisy context
    ctx_noise_infer: float = 0.0  # context noise std assumed (and added) at rollout
    hflip: bool = False  # mirror augmentation (physics is left-right symmetric); off when actions exist
    denoiser: DenoiserConfig = field(default_factory=lambda: DenoiserConfig(sigma_data=0.1, p_mean=-2.0,
                                                                            p_std=1.2))
    sampler: Literal["euler", "heun"] = "euler"
    steps: int = 3  # sampler steps
    sigma_min: float = 0.002
    sigma_max: float = 1.0
    residual_temperature: float = 1.0  # hybrid: scales the initial noise of the residual (0 = mean only)
    guidance: float = 1.0  # classifier-free guidance scale for text (1 = off)

    def validate(self) -> None:
        if self.context < 1 or self.unroll < 1:
            raise ValueError(f"context and unroll must be >= 1, got {self.context}, {self.unroll}")
        if self.steps < 1 or self.sigma_max <= self.sigma_min:
            raise ValueError("sampler: steps >= 1 and sigma_max > sigma_min required")
        if not self.channels or not self.residual_channels:
            raise ValueError("channels must list at least one level")


class Conditioner(nn.Module):
    """Noise level, context-noise level, actions and text -> one vector [B, cond_dim]."""

    def __init__(self, cfg: PixelModelConfig):
        super().__init__()
        d = cfg.cond_dim
        n_in = 2 * d + (d if cfg.action_dim else 0) + (cfg.text_dim if cfg.text else 0)
        self.action = nn.Linear(cfg.context * cfg.action_dim, d) if cfg.action_dim else None
        self.mlp = nn.Sequential(nn.Linear(n_in, d), nn.SiLU(), nn.Linear(d, d))
        self.d = d

    def forward(self, noise: torch.Tensor, ctx_sigma: torch.Tensor, actions: torch.Tensor | None,
                text: torch.Tensor | None) -> torch.Tensor:
        parts = [fourier_embedding(noise, self.d), fourier_embedding(ctx_sigma, self.d)]
        if self.action is not None:
            parts.append(self.action(actions.flatten(1)))
        if text is not None:
            parts.append(text)
        return self.mlp(torch.cat(parts, dim=1))


def warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward warp: out(p) = img(p + flow(p)), bilinear, zeros outside. img [B, C, H, W], flow
    [B, 2, H, W] in pixels (x, y). Sub-pixel motion then comes from a smooth field rather than from
    re-drawing anti-aliased edges."""
    b, _, h, w = img.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=img.device, dtype=img.dtype),
                            torch.arange(w, device=img.device, dtype=img.dtype), indexing="ij")
    gx = (2 * (xs[None] + flow[:, 0]) + 1) / w - 1
    gy = (2 * (ys[None] + flow[:, 1]) + 1) / h - 1
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(img + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1


class PixelWorldModel(nn.Module):
    """batch: {'frames': uint8 [B, Tc + 1, H, W, 3], 'actions': float [B, Tc + 1, A], 'caption': [str]}."""

    def __init__(self, cfg: PixelModelConfig):
        super().__init__()
        self.cfg = cfg
        tc = cfg.context
        self.text = HashedTextEncoder(cfg.text_dim) if cfg.text else None
        if cfg.head in ("hybrid", "deterministic"):
            self.mean_cond = Conditioner(cfg)
            self.mean_net = UNet(3 * tc, 3 + (2 if cfg.warp else 0), cfg.cond_dim, cfg.channels, cfg.blocks)
        if cfg.head in ("hybrid", "diffusion"):
            self.diff_cond = Conditioner(cfg)
            extra = 3 if cfg.head == "hybrid" else 0  # the hybrid's denoiser also sees mu
            widths = cfg.residual_channels if cfg.head == "hybrid" else cfg.channels
            self.diff_net = UNet(3 + 3 * tc + extra, 3, cfg.cond_dim, widths, cfg.blocks)
            self.denoiser = Denoiser(cfg.denoiser)

    # ---- pieces -------------------------------------------------------------------------------
    @staticmethod
    def to_float(frames: torch.Tensor) -> torch.Tensor:
        """uint8 [B, T, H, W, 3] -> float [B, T, 3, H, W] in [-1, 1]."""
        return rearrange(frames.float() / 127.5 - 1.0, "b t h w c -> b t c h w")

    def _actions(self, actions: torch.Tensor | None, b: int, device) -> torch.Tensor | None:
        """The Tc action rows leading into the predicted frame, [B, Tc, A] (or None)."""
        if not self.cfg.action_dim:
            return None
        if actions is None or actions.shape[-1] != self.cfg.action_dim:
            got = None if actions is None else list(actions.shape)
            raise ValueError(f"actions: this model was trained with {self.cfg.action_dim} action values "
                             f"per step, got {got}")
        return actions[:, -self.cfg.context:].float().to(device)

    def encode_text(self, texts: list[str] | None, b: int) -> torch.Tensor | None:
        if self.text is None:
            return None
        return self.text(list(texts) if texts is not None else [""] * b)

    def mean(self, ctx: torch.Tensor, ctx_sigma: torch.Tensor, actions, text) -> torch.Tensor:
        """ctx [B, Tc, 3, H, W] -> mu [B, 3, H, W]: the last frame (warped by a predicted flow when
        `warp`) plus a predicted change. Both start at zero, i.e. at copy-last."""
        cond = self.mean_cond(torch.zeros_like(ctx_sigma), ctx_sigma, actions, text)
        out = self.mean_net(rearrange(ctx, "b t c h w -> b (t c) h w"), cond)
        if not self.cfg.warp:
            return ctx[:, -1] + out
        return warp(ctx[:, -1], out[:, 3:]) + out[:, :3]

    def _diff_net(self, ctx: torch.Tensor, mu: torch.Tensor | None, ctx_sigma, actions, text):
        """The denoiser's network with the conditioning bound: (x_in [B,3,H,W], noise [B]) -> [B,3,H,W]."""
        stacked = rearrange(ctx, "b t c h w -> b (t c) h w")
        extra = [stacked] + ([mu] if mu is not None else [])

        def net(x_in: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
            cond = self.diff_cond(noise, ctx_sigma, actions, text)
            return self.diff_net(torch.cat([x_in, *extra], dim=1), cond)

        return net

    # ---- training -----------------------------------------------------------------------------
    def loss(self, batch: dict, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        cfg = self.cfg
        x = self.to_float(batch["frames"])  # [B, Tc + unroll, 3, H, W]
        b, dev = x.shape[0], x.device
        actions = batch.get("actions")
        if cfg.hflip and not cfg.action_dim:
            flip = torch.rand(b, generator=generator, device=dev) < 0.5
            x = torch.where(flip[:, None, None, None, None], x.flip(-1), x)
        ctx, target = x[:, :cfg.context], x[:, cfg.context]
        ctx_sigma = cfg.ctx_noise_max * torch.rand(b, generator=generator, device=dev)
        ctx_sigma = ctx_sigma * (torch.rand(b, generator=generator, device=dev) < cfg.ctx_noise_prob)
        ctx = ctx + ctx_sigma[:, None, None, None, None] * torch.randn(ctx.shape, generator=generator, device=dev)
        texts = list(batch.get("caption") or [""] * b)
        if self.text is not None and cfg.text_dropout > 0:
            drop = (torch.rand(b, generator=generator, device=dev) < cfg.text_dropout).tolist()
            texts = ["" if d else t for d, t in zip(drop, texts, strict=True)]
        text = self.encode_text(texts, b)
        a = self._actions(actions[:, :cfg.context] if actions is not None else None, b, dev)

        logs: dict[str, float] = {}
        total = x.new_zeros(())
        mu = None
        if cfg.head in ("hybrid", "deterministic"):
            mu = self.mean(ctx, ctx_sigma, a, text)
            total = total + self._mean_loss(mu, target, x[:, cfg.context - 1]) / cfg.unroll
            logs["mean_mse"] = float(((mu - target) ** 2).mean().detach())
            # Unrolled steps (the "pushforward" trick): the model sees its own detached prediction as
            # context and learns to correct what a rollout feeds back, without backprop through time.
            ctx_k, mu_k = ctx, mu
            for k in range(1, min(cfg.unroll, x.shape[1] - cfg.context)):
                ctx_k = torch.cat([ctx_k[:, 1:], mu_k.detach()[:, None]], dim=1)
                a_k = self._actions(actions[:, k:cfg.context + k], b, dev) if actions is not None else None
                mu_k = self.mean(ctx_k, ctx_sigma, a_k, text)
                total = total + self._mean_loss(mu_k, x[:, cfg.context + k], x[:, cfg.context + k - 1]) / cfg.unroll
        if cfg.head in ("hybrid", "diffusion"):
            x0 = target - mu.detach() if mu is not None else target
            net = self._diff_net(ctx, mu.detach() if mu is not None else None, ctx_sigma, a, text)
            dl = self.denoiser.loss(net, x0, generator).mean()
            total = total + dl
            logs["diffusion"] = float(dl.detach())
        return total, logs

    def _mean_loss(self, mu: torch.Tensor, target: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        err = mu.float() - target.float()
        err = err.abs() if self.cfg.mean_loss == "l1" else err**2
        if self.cfg.motion_weight > 0:
            # Most pixels are still background; weighting the moving ones spends the model's
            # capacity where positions are decided (judged on clean frames, not the noised context).
            moving = (target - last).abs().amax(1, keepdim=True) > 0.05
            err = err * (1 + self.cfg.motion_weight * moving)
        return err.mean()

    # ---- prediction ---------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, ctx: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
                generator: torch.Generator) -> torch.Tensor:
        """One step: ctx float [B, Tc, 3, H, W] in [-1, 1] -> next frame float [B, 3, H, W]."""
        cfg = self.cfg
        b, dev = ctx.shape[0], ctx.device
        ctx_sigma = torch.full((b,), cfg.ctx_noise_infer, device=dev)
        if cfg.ctx_noise_infer > 0:
            ctx = ctx + cfg.ctx_noise_infer * torch.randn(ctx.shape, generator=generator, device=dev)
        a = self._actions(actions, b, dev)
        guided = self.text is not None and texts is not None and cfg.guidance != 1.0
        text = self.encode_text(texts, b)
        text_null = self.encode_text(None, b) if guided else None

        def cfg_mix(fn):
            if not guided:
                return fn(text)
            cond, uncond = fn(text), fn(text_null)
            return uncond + cfg.guidance * (cond - uncond)

        mu = None
        if cfg.head in ("hybrid", "deterministic"):
            mu = cfg_mix(lambda t: self.mean(ctx, ctx_sigma, a, t))
            if cfg.head == "deterministic":
                return mu
            if cfg.residual_temperature == 0:
                return mu
        sigmas = karras_sigmas(cfg.steps, cfg.sigma_min, cfg.sigma_max, device=dev)
        temp = cfg.residual_temperature if mu is not None else 1.0
        x = torch.randn(ctx[:, -1].shape, generator=generator, device=dev) * sigmas[0] * temp

        def denoise(xn: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
            return cfg_mix(lambda t: self.denoiser.denoise(self._diff_net(ctx, mu, ctx_sigma, a, t), xn, sigma))

        out = SAMPLERS[cfg.sampler](denoise, x, sigmas, generator)
        return out + mu if mu is not None else out

    @torch.no_grad()
    def predict_teacher_forced(self, frames: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
                               generator_seed: int = 0) -> torch.Tensor:
        """Every frame t >= Tc of clips uint8 [B, T, H, W, 3], each predicted from its true context
        frames t-Tc..t-1 (as in training) -> float [B, T - Tc, 3, H, W]. Used to check causality."""
        tc = self.cfg.context
        x = self.to_float(frames)
        out = []
        for t in range(tc, x.shape[1]):
            g = torch.Generator(device=x.device).manual_seed(generator_seed + t)
            a = actions[:, t - tc:t] if actions is not None else None
            out.append(self.predict(x[:, t - tc:t], a, texts, g))
        return torch.stack(out, dim=1)
