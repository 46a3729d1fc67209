"""The latent family behind `WorldModel.rollout()`: encode the context with the frozen tokenizer,
predict latent frames, decode the whole sequence (the decoder is causal: the context's latents
give the predicted ones their history). Over a tokenizer that compresses time each latent frame
is a chunk of s_t video frames (`models.chunks`, `conditioning.FrameRollout`)."""

from __future__ import annotations

import numpy as np
import torch

from ..chunks import check_time_factor
from ..conditioning import FrameRollout, ItemNoise
from .net import LatentWorldNet


def encode_latents(tokenizer, frames: np.ndarray) -> torch.Tensor:
    """uint8 [B, T, H, W, 3] (T = 1 + k s_t) -> normalised latents [B, 1 + k, C, h, w]."""
    from ...tokenizer.model import to_video

    device = next(tokenizer.parameters()).device
    with torch.no_grad():
        z = tokenizer.normalize(tokenizer.encode(to_video(frames).to(device)))  # [B, C, T, h, w]
    return z.permute(0, 2, 1, 3, 4)


class LatentRollout(FrameRollout):
    def __init__(self, net: LatentWorldNet, tokenizer, seed: int = 0, device: str = "cpu", batch_size: int = 32):
        super().__init__(seed, device, batch_size)
        self.net = net.eval().to(self.device)
        self.tokenizer = tokenizer.eval().to(self.device)
        self.name = "latent"
        self.context_frames = net.cfg.context
        self.time_factor = check_time_factor(net.cfg.time_factor, tokenizer)
        self.set_guide(net.cfg)
        self.action_dim = net.cfg.action_dim // self.time_factor

    def check_frames(self, context: np.ndarray) -> None:
        s = self.tokenizer.cfg.space_factor
        want = tuple(g * s for g in self.net.cfg.grid)
        if tuple(context.shape[2:4]) != want:
            raise ValueError(f"context: this model was trained on {want[0]}x{want[1]} frames, got "
                             f"{context.shape[2]}x{context.shape[3]}")

    def encode(self, frames: np.ndarray) -> torch.Tensor:
        return encode_latents(self.tokenizer, frames)

    def step(self, states: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
             noise: ItemNoise) -> torch.Tensor:
        return self.net.predict(states, actions, texts, noise)

    def decode(self, states: torch.Tensor) -> np.ndarray:
        from ...tokenizer.model import to_frames

        return to_frames(self.tokenizer.decode(self.tokenizer.denormalize(states.permute(0, 2, 1, 3, 4))))
