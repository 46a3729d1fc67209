"""Exponential moving average of a model's weights (evaluated and shipped instead of the raw ones:
it smooths the last steps of a short, noisy training run)."""

from __future__ import annotations

import copy

import torch


class EMA:
    """Keeps `shadow`, a frozen copy of the model whose floating tensors track the live ones."""

    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"ema decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.shadow = copy.deepcopy(model).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        # Warm-up of the decay (as in many EMA implementations): early steps follow the model closely,
        # so a short run's EMA is not dominated by its random initialisation.
        d = min(self.decay, (1.0 + step) / (10.0 + step))
        live = model.state_dict()
        for name, s in self.shadow.state_dict().items():
            v = live[name]
            if s.dtype.is_floating_point:
                s.lerp_(v.to(s.dtype), 1.0 - d)
            else:
                s.copy_(v)
