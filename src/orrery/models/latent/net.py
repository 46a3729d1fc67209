"""The latent diffusion network: a DiT denoises the next latent frame of a frozen continuous
tokenizer, given the Tc previous latent frames (stacked as channels), actions and text. The same
`diffusion.denoiser` and `diffusion.sampler` as the pixel family drive it; only the network and
the space differ.

Head `hybrid` (as the pixel family's): a second DiT predicts the deterministic mean mu of the next
latent (the last latent plus a change, trained by MSE, starting at copy-last), and the diffusion
DiT, given mu too, denoises only the residual z - mu. The mean carries the motion; sampling adds
back the detail a mean blurs. `residual_temperature=0` rolls out the mean alone; head `mean`
trains and rolls out only the mean DiT (no diffusion: the latent counterpart of the
`deterministic` family).

Over a tokenizer that compresses time, a latent frame is a chunk of s_t video frames, and the
context is `cfg.latent_context` latent frames (`models.chunks`).

batch: {'latents': float [B, Lc + F, C, h, w] (normalised), 'actions': [B, Lc + F, A s_t], 'caption': [str]}
with F >= 1 future latent frames (the first is the target; more feed the hybrid mean's unrolled steps)."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from ..conditioning import ItemNoise, action_rows, drop_captions, encode_text, guided, noise_context
from ..diffusion.denoiser import Denoiser
from ..diffusion.sampler import SAMPLERS, karras_sigmas
from ..nets.conditioner import Conditioner
from ..nets.dit import DiT
from ..nets.text import HashedTextEncoder
from .config import LatentModelConfig


class LatentWorldNet(nn.Module):
    def __init__(self, cfg: LatentModelConfig):
        super().__init__()
        self.cfg = cfg
        c = cfg.latent_channels
        self.text = HashedTextEncoder(cfg.text_dim) if cfg.text else None
        hybrid = cfg.head == "hybrid"
        if cfg.head != "mean":
            self.cond = Conditioner(cfg, context=cfg.latent_context)
            self.dit = DiT(c * (cfg.latent_context + 1 + hybrid), c, cfg.cond_dim, tuple(cfg.grid), cfg.patch,
                           cfg.d_model, cfg.depth, cfg.heads)
        if cfg.head != "diffusion":
            self.mean_cond = Conditioner(cfg, context=cfg.latent_context)
            self.mean_dit = DiT(c * cfg.latent_context, c, cfg.cond_dim, tuple(cfg.grid), cfg.patch, cfg.d_model,
                                cfg.depth, cfg.heads)
        self.denoiser = Denoiser(cfg.denoiser)

    def mean(self, ctx: torch.Tensor, ctx_sigma: torch.Tensor, actions, text) -> torch.Tensor:
        """Hybrid and mean heads: ctx [B, Lc, C, h, w] -> mu [B, C, h, w], the last latent plus a
        predicted change (zero at initialisation, i.e. copy-last)."""
        cond = self.mean_cond(torch.zeros_like(ctx_sigma), ctx_sigma, actions, text)
        return ctx[:, -1] + self.mean_dit(rearrange(ctx, "b t c h w -> b (t c) h w"), cond)

    def _net(self, ctx: torch.Tensor, ctx_sigma: torch.Tensor, actions, text, mu: torch.Tensor | None = None):
        extra = [rearrange(ctx, "b t c h w -> b (t c) h w")] + ([mu] if mu is not None else [])

        def net(x_in: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
            return self.dit(torch.cat([x_in, *extra], dim=1), self.cond(noise, ctx_sigma, actions, text))

        return net

    def loss(self, batch: dict, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        cfg, lc = self.cfg, self.cfg.latent_context
        z = batch["latents"].float()
        b, dev = z.shape[0], z.device
        ctx, ctx_sigma = noise_context(z[:, :lc], cfg.ctx_noise_max, cfg.ctx_noise_prob, generator)
        texts = drop_captions(batch.get("caption"), b, cfg.text_dropout if self.text is not None else 0.0,
                              generator, dev)
        actions = batch["actions"].float() if cfg.action_dim else None
        rows = action_rows(actions, lc, lc) if cfg.action_dim else None
        text = encode_text(self.text, texts, b)
        total, logs, mu = z.new_zeros(()), {}, None
        if cfg.head != "diffusion":
            total, mu, logs = self._mean_loss(z, ctx, ctx_sigma, actions, rows, text)
            if cfg.head == "mean":
                return total, logs
            mu = mu.detach()
        target = z[:, lc] - mu if mu is not None else z[:, lc]
        loss = self.denoiser.loss(self._net(ctx, ctx_sigma, rows, text, mu), target, generator).mean()
        logs["diffusion"] = float(loss.detach())
        return total + loss, logs

    def _mean_loss(self, z, ctx, ctx_sigma, actions, rows, text) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
        """MSE of the mean over the target (action `rows` lead into it) and the unrolled steps (each
        fed the previous, detached, prediction as context, without backprop through time) -> (loss,
        mu of the target, logs)."""
        lc, steps = self.cfg.latent_context, min(self.cfg.unroll, z.shape[1] - self.cfg.latent_context)
        mu = mu_k = self.mean(ctx, ctx_sigma, rows, text)
        first = ((mu - z[:, lc]) ** 2).mean()
        total = first / steps
        for k in range(1, steps):
            ctx = torch.cat([ctx[:, 1:], mu_k.detach()[:, None]], dim=1)
            rows = action_rows(actions, lc + k, lc) if actions is not None else None
            mu_k = self.mean(ctx, ctx_sigma, rows, text)
            total = total + ((mu_k - z[:, lc + k]) ** 2).mean() / steps
        return total, mu, {"mean_mse": float(first.detach())}

    @torch.no_grad()
    def predict(self, ctx: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
                noise: ItemNoise) -> torch.Tensor:
        """ctx [B, Lc, C, h, w] (normalised), actions [B, Lc, A s_t] -> next latent frame [B, C, h, w]."""
        cfg = self.cfg
        b, dev = ctx.shape[0], ctx.device
        if cfg.ctx_noise_infer > 0:
            ctx = ctx + cfg.ctx_noise_infer * noise.randn(tuple(ctx.shape[1:])).to(dev)
        ctx_sigma = torch.full((b,), cfg.ctx_noise_infer, device=dev)
        a = None if actions is None else actions.float()
        mu = None
        if cfg.head != "diffusion":
            mu = guided(lambda t: self.mean(ctx, ctx_sigma, a, t), self.text, texts, b, cfg.guidance)
            if cfg.head == "mean" or cfg.residual_temperature == 0:
                return mu
        sigmas = karras_sigmas(cfg.steps, cfg.sigma_min, cfg.sigma_max, device=dev)
        temp = cfg.residual_temperature if mu is not None else 1.0
        x = noise.randn(tuple(ctx.shape[2:])).to(dev) * sigmas[0] * temp

        def denoise(xn, sigma):
            return guided(lambda t: self.denoiser.denoise(self._net(ctx, ctx_sigma, a, t, mu), xn, sigma),
                          self.text, texts, b, cfg.guidance)

        out = SAMPLERS[cfg.sampler](denoise, x, sigmas)
        return out + mu if mu is not None else out
