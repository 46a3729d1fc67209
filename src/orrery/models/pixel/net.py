"""The pixel networks: predict frame t from frames t-Tc..t-1 (stacked as channels, DIAMOND-style),
actions and text.

- `MeanNet`: a deterministic U-Net gives the conditional mean mu as a change of the last frame
  (optionally the last frame warped along a predicted flow, plus a change). Alone it is the
  `deterministic` family.
- `PixelWorldNet` (the pixel family), head `hybrid` (default): the mean carries the physics
  (positions) and a diffusion U-Net models only the residual x - mu, conditioned on the context
  and mu, restoring the sharpness a mean blurs away. Head `diffusion`: a plain diffusion U-Net on
  the frame (the generative baseline).

Context frames are noise-augmented in training (level drawn per item, given to the networks), so
a rollout that feeds back its own imperfect frames stays in distribution. Conditioning plumbing
(actions, text, context noise, per-item noise) is `models.conditioning`'s."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn
from torch.nn import functional as F

from ..conditioning import ItemNoise, action_rows, drop_captions, encode_text, guided, noise_context
from ..diffusion.denoiser import Denoiser
from ..diffusion.sampler import SAMPLERS, karras_sigmas
from ..nets.conditioner import Conditioner
from ..nets.text import HashedTextEncoder
from ..nets.unet import UNet
from .config import MeanConfig, PixelModelConfig


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


def to_float(frames: torch.Tensor) -> torch.Tensor:
    """uint8 [B, T, H, W, 3] -> float [B, T, 3, H, W] in [-1, 1]."""
    return rearrange(frames.float() / 127.5 - 1.0, "b t h w c -> b t c h w")


def quantise(x: torch.Tensor) -> torch.Tensor:
    """Round a predicted frame in [-1, 1] to the 256 levels of a real one: the model then always
    sees, as context, what it will be scored on."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1


class MeanNet(nn.Module):
    """batch: {'frames': uint8 [B, Tc + F, H, W, 3], 'actions': float [B, Tc + F, A], 'caption': [str]}
    with F >= 1 future frames (the first is the target; more feed unrolled training)."""

    def __init__(self, cfg: MeanConfig, with_mean: bool = True):
        super().__init__()
        self.cfg = cfg
        self.text = HashedTextEncoder(cfg.text_dim) if cfg.text else None
        if with_mean:
            self.mean_cond = Conditioner(cfg)
            self.mean_net = UNet(3 * cfg.context, 3 + (2 if cfg.warp else 0), cfg.cond_dim, cfg.channels, cfg.blocks)

    def check_actions(self, actions: torch.Tensor | None) -> None:
        if self.cfg.action_dim and (actions is None or actions.shape[-1] != self.cfg.action_dim):
            got = None if actions is None else list(actions.shape)
            raise ValueError(f"actions: this model was trained with {self.cfg.action_dim} action values "
                             f"per step, got {got}")

    def mean(self, ctx: torch.Tensor, ctx_sigma: torch.Tensor, actions, text) -> torch.Tensor:
        """ctx [B, Tc, 3, H, W] -> mu [B, 3, H, W]: the last frame (warped by a predicted flow when
        `warp`) plus a predicted change. Both start at zero, i.e. at copy-last."""
        cond = self.mean_cond(torch.zeros_like(ctx_sigma), ctx_sigma, actions, text)
        out = self.mean_net(rearrange(ctx, "b t c h w -> b (t c) h w"), cond)
        if not self.cfg.warp:
            return ctx[:, -1] + out
        return warp(ctx[:, -1], out[:, 3:]) + out[:, :3]

    # ---- training -----------------------------------------------------------------------------
    def prepare(self, batch: dict, generator: torch.Generator):
        """Shared start of a training step: frames as floats (mirrored if asked), noisy context,
        text with dropout, the action rows of the first target -> a dict of pieces."""
        cfg = self.cfg
        x = to_float(batch["frames"])  # [B, Tc + F, 3, H, W]
        b, dev = x.shape[0], x.device
        actions = batch.get("actions") if cfg.action_dim else None
        self.check_actions(actions)
        if cfg.hflip and not cfg.action_dim:
            flip = torch.rand(b, generator=generator, device=dev) < 0.5
            x = torch.where(flip[:, None, None, None, None], x.flip(-1), x)
        ctx, ctx_sigma = noise_context(x[:, :cfg.context], cfg.ctx_noise_max, cfg.ctx_noise_prob, generator)
        texts = drop_captions(batch.get("caption"), b, cfg.text_dropout if self.text is not None else 0.0,
                              generator, dev)
        text = encode_text(self.text, texts, b)
        rows = None if actions is None else action_rows(actions.float(), cfg.context, cfg.context)
        return {"x": x, "ctx": ctx, "ctx_sigma": ctx_sigma, "text": text, "actions": actions, "rows": rows}

    def mean_loss(self, p: dict) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
        """Loss of the mean over the target and the unrolled steps -> (loss, mu of the target, logs)."""
        cfg, x = self.cfg, p["x"]
        tc = cfg.context
        mu = self.mean(p["ctx"], p["ctx_sigma"], p["rows"], p["text"])
        total = self._mean_loss(mu, x[:, tc], x[:, tc - 1]) / cfg.unroll
        # Unrolled steps (the "pushforward" trick): the model sees its own detached prediction as
        # context and learns to correct what a rollout feeds back, without backprop through time.
        ctx_k, mu_k = p["ctx"], mu
        for k in range(1, min(cfg.unroll, x.shape[1] - tc)):
            ctx_k = torch.cat([ctx_k[:, 1:], mu_k.detach()[:, None]], dim=1)
            rows = None if p["actions"] is None else action_rows(p["actions"].float(), tc + k, tc)
            mu_k = self.mean(ctx_k, p["ctx_sigma"], rows, p["text"])
            total = total + self._mean_loss(mu_k, x[:, tc + k], x[:, tc + k - 1]) / cfg.unroll
        return total, mu, {"mean_mse": float(((mu - x[:, tc]) ** 2).mean().detach())}

    def _mean_loss(self, mu: torch.Tensor, target: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        err = mu.float() - target.float()
        err = err.abs() if self.cfg.mean_loss == "l1" else err**2
        if self.cfg.motion_weight > 0:
            # Most pixels are still background; weighting the moving ones spends the model's
            # capacity where positions are decided (judged on clean frames, not the noised context).
            moving = (target - last).abs().amax(1, keepdim=True) > 0.05
            err = err * (1 + self.cfg.motion_weight * moving)
        return err.mean()

    def loss(self, batch: dict, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        loss, _, logs = self.mean_loss(self.prepare(batch, generator))
        return loss, logs

    # ---- prediction ---------------------------------------------------------------------------
    def infer_context(self, ctx: torch.Tensor, noise: ItemNoise) -> tuple[torch.Tensor, torch.Tensor]:
        """The context as the model expects it at rollout (with the assumed noise) and its level."""
        level = self.cfg.ctx_noise_infer
        if level > 0:
            ctx = ctx + level * noise.randn(tuple(ctx.shape[1:])).to(ctx.device)
        return ctx, torch.full((ctx.shape[0],), level, device=ctx.device)

    @torch.no_grad()
    def predict(self, ctx: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
                noise: ItemNoise) -> torch.Tensor:
        """One step: ctx float [B, Tc, 3, H, W] in [-1, 1], actions [B, Tc, A] -> next frame [B, 3, H, W]."""
        self.check_actions(actions)
        ctx, ctx_sigma = self.infer_context(ctx, noise)
        a = None if actions is None else actions.float()
        return guided(lambda t: self.mean(ctx, ctx_sigma, a, t), self.text, texts, ctx.shape[0], self.cfg.guidance)

    @torch.no_grad()
    def predict_teacher_forced(self, frames: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
                               seed: int = 0) -> torch.Tensor:
        """Every frame t >= Tc of clips uint8 [B, T, H, W, 3], each predicted from its true context
        frames t-Tc..t-1 (as in training) -> float [B, T - Tc, 3, H, W]. Used to check causality."""
        tc = self.cfg.context
        x = to_float(frames)
        out = []
        for t in range(tc, x.shape[1]):
            rows = None if actions is None else action_rows(actions.float(), t, tc)
            noise = ItemNoise([seed * 1_000_003 + t * 7_919 + i for i in range(x.shape[0])], x.device)
            out.append(self.predict(x[:, t - tc:t], rows, texts, noise))
        return torch.stack(out, dim=1)


class PixelWorldNet(MeanNet):
    """The pixel family's network: a hybrid (mean + diffusion residual) or pure diffusion head."""

    def __init__(self, cfg: PixelModelConfig):
        super().__init__(cfg, with_mean=cfg.head == "hybrid")
        tc = cfg.context
        self.diff_cond = Conditioner(cfg)
        extra = 3 if cfg.head == "hybrid" else 0  # the hybrid's denoiser also sees mu
        widths = cfg.residual_channels if cfg.head == "hybrid" else cfg.channels
        self.diff_net = UNet(3 + 3 * tc + extra, 3, cfg.cond_dim, widths, cfg.blocks)
        self.denoiser = Denoiser(cfg.denoiser)

    def _diff_net(self, ctx: torch.Tensor, mu: torch.Tensor | None, ctx_sigma, actions, text):
        """The denoiser's network with the conditioning bound: (x_in [B,3,H,W], noise [B]) -> [B,3,H,W]."""
        extra = [rearrange(ctx, "b t c h w -> b (t c) h w")] + ([mu] if mu is not None else [])

        def net(x_in: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
            cond = self.diff_cond(noise, ctx_sigma, actions, text)
            return self.diff_net(torch.cat([x_in, *extra], dim=1), cond)

        return net

    def loss(self, batch: dict, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        p = self.prepare(batch, generator)
        target = p["x"][:, self.cfg.context]
        total, logs, mu = target.new_zeros(()), {}, None
        if self.cfg.head == "hybrid":
            total, mu, logs = self.mean_loss(p)
            mu = mu.detach()
        x0 = target - mu if mu is not None else target
        dl = self.denoiser.loss(self._diff_net(p["ctx"], mu, p["ctx_sigma"], p["rows"], p["text"]), x0,
                                generator).mean()
        logs["diffusion"] = float(dl.detach())
        return total + dl, logs

    @torch.no_grad()
    def predict(self, ctx: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
                noise: ItemNoise) -> torch.Tensor:
        cfg = self.cfg
        self.check_actions(actions)
        b, dev = ctx.shape[0], ctx.device
        ctx, ctx_sigma = self.infer_context(ctx, noise)
        a = None if actions is None else actions.float()
        mu = None
        if cfg.head == "hybrid":
            mu = guided(lambda t: self.mean(ctx, ctx_sigma, a, t), self.text, texts, b, cfg.guidance)
            if cfg.residual_temperature == 0:
                return mu
        sigmas = karras_sigmas(cfg.steps, cfg.sigma_min, cfg.sigma_max, device=dev)
        temp = cfg.residual_temperature if mu is not None else 1.0
        x = noise.randn(tuple(ctx.shape[2:])).to(dev) * sigmas[0] * temp

        def denoise(xn: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
            return guided(lambda t: self.denoiser.denoise(self._diff_net(ctx, mu, ctx_sigma, a, t), xn, sigma),
                          self.text, texts, b, cfg.guidance)

        out = SAMPLERS[cfg.sampler](denoise, x, sigmas)
        return out + mu if mu is not None else out
