"""The pixel families behind `WorldModel.rollout()`: frames in, frames out, no tokenizer."""

from __future__ import annotations

import numpy as np
import torch

from ..conditioning import FrameRollout, ItemNoise
from .net import MeanNet, quantise, to_float


class PixelRollout(FrameRollout):
    """A trained `MeanNet` or `PixelWorldNet` rolled out autoregressively to any horizon."""

    def __init__(self, net: MeanNet, seed: int = 0, device: str = "cpu", batch_size: int = 64,
                 name: str = "pixel"):
        super().__init__(seed, device, batch_size)
        self.net = net.eval().to(self.device)
        self.name = name
        self.context_frames = net.cfg.context
        self.set_guide(net.cfg)
        self.action_dim = net.cfg.action_dim

    def check_frames(self, context: np.ndarray) -> None:
        side = 2 ** self.net.cfg.levels
        h, w = context.shape[2:4]
        if h % side or w % side:
            raise ValueError(f"context: frame sides must be divisible by {side} for this model, got {h}x{w}")

    def encode(self, frames: np.ndarray) -> torch.Tensor:
        return to_float(torch.from_numpy(frames).to(self.device))  # [B, Tc, 3, H, W]

    def step(self, states: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
             noise: ItemNoise) -> torch.Tensor:
        return quantise(self.net.predict(states, actions, texts, noise))

    def decode(self, states: torch.Tensor) -> np.ndarray:
        x = ((states + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
        return x.permute(0, 1, 3, 4, 2).cpu().numpy()
