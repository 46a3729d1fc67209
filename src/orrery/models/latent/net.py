"""The latent diffusion network: a DiT denoises the next latent frame of a frozen continuous
tokenizer, given the Tc previous latent frames (stacked as channels), actions and text. The same
`diffusion.denoiser` and `diffusion.sampler` as the pixel family drive it; only the network and
the space differ.

Over a tokenizer that compresses time, a latent frame is a chunk of s_t video frames, and the
context is `cfg.latent_context` latent frames (`models.chunks`).

batch: {'latents': float [B, Lc + 1, C, h, w] (normalised), 'actions': [B, Lc + 1, A s_t], 'caption': [str]}."""

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
        self.cond = Conditioner(cfg, context=cfg.latent_context)
        self.dit = DiT(c * (cfg.latent_context + 1), c, cfg.cond_dim, tuple(cfg.grid), cfg.patch, cfg.d_model,
                       cfg.depth, cfg.heads)
        self.denoiser = Denoiser(cfg.denoiser)

    def _net(self, ctx: torch.Tensor, ctx_sigma: torch.Tensor, actions, text):
        stacked = rearrange(ctx, "b t c h w -> b (t c) h w")

        def net(x_in: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
            return self.dit(torch.cat([x_in, stacked], dim=1), self.cond(noise, ctx_sigma, actions, text))

        return net

    def loss(self, batch: dict, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        cfg, lc = self.cfg, self.cfg.latent_context
        z = batch["latents"].float()
        b, dev = z.shape[0], z.device
        ctx, ctx_sigma = noise_context(z[:, :lc], cfg.ctx_noise_max, cfg.ctx_noise_prob, generator)
        texts = drop_captions(batch.get("caption"), b, cfg.text_dropout if self.text is not None else 0.0,
                              generator, dev)
        rows = action_rows(batch["actions"].float(), lc, lc) if cfg.action_dim else None
        net = self._net(ctx, ctx_sigma, rows, encode_text(self.text, texts, b))
        loss = self.denoiser.loss(net, z[:, lc], generator).mean()
        return loss, {"diffusion": float(loss.detach())}

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
        sigmas = karras_sigmas(cfg.steps, cfg.sigma_min, cfg.sigma_max, device=dev)
        x = noise.randn(tuple(ctx.shape[2:])).to(dev) * sigmas[0]

        def denoise(xn, sigma):
            return guided(lambda t: self.denoiser.denoise(self._net(ctx, ctx_sigma, a, t), xn, sigma),
                          self.text, texts, b, cfg.guidance)

        return SAMPLERS[cfg.sampler](denoise, x, sigmas)
