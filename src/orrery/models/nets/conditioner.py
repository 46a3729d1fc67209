"""The conditioning vector of the diffusion networks: noise level, context-noise level, the
action rows and the text embedding -> one vector [B, cond_dim] that modulates every block."""

from __future__ import annotations

import torch
from torch import nn

from .unet import fourier_embedding


class Conditioner(nn.Module):
    """Noise level, context-noise level, actions [B, Tc, A] and text -> one vector [B, cond_dim]."""

    def __init__(self, cfg, context: int | None = None):
        """`context`: action rows per prediction (default `cfg.context`; latent frames for a
        model over a tokenizer that compresses time)."""
        super().__init__()
        d = cfg.cond_dim
        n_in = 2 * d + (d if cfg.action_dim else 0) + (cfg.text_dim if cfg.text else 0)
        rows = cfg.context if context is None else context
        self.action = nn.Linear(rows * cfg.action_dim, d) if cfg.action_dim else None
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
