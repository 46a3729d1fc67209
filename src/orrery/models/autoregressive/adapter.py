"""The autoregressive family behind `WorldModel.rollout()`: tokenize the context, sample one frame
of tokens at a time (KV cache inside the GPT), decode the tokens with the context's (the decoder
is causal). Over a tokenizer that compresses time a token frame is a chunk of s_t video frames."""

from __future__ import annotations

import numpy as np
import torch

from ..chunks import check_time_factor
from ..conditioning import FrameRollout, ItemNoise
from .net import ARWorldNet


class ARRollout(FrameRollout):
    def __init__(self, net: ARWorldNet, tokenizer, seed: int = 0, device: str = "cpu", batch_size: int = 32):
        super().__init__(seed, device, batch_size)
        self.net = net.eval().to(self.device)
        self.tokenizer = tokenizer.eval().to(self.device)
        self.name = "autoregressive"
        self.context_frames = net.cfg.context
        self.time_factor = check_time_factor(net.cfg.time_factor, tokenizer)
        self.set_guide(net.cfg)
        self.action_dim = net.cfg.gpt.action_dim // self.time_factor

    def check_frames(self, context: np.ndarray) -> None:
        s = self.tokenizer.cfg.space_factor
        n = self.net.cfg.gpt.tokens_per_frame
        h, w = context.shape[2:4]
        if h % s or w % s or (h // s) * (w // s) != n:
            raise ValueError(f"context: {h}x{w} frames give {(h // s) * (w // s)} tokens per frame; this model "
                             f"was trained on {n}")

    def encode(self, frames: np.ndarray) -> torch.Tensor:
        from ...tokenizer.model import to_video

        return self.tokenizer.encode_indices(to_video(frames).to(self.device))  # [B, Tc, h, w]

    def step(self, states: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
             noise: ItemNoise) -> torch.Tensor:
        return self.net.next_frame(states, actions, texts, noise)

    def decode(self, states: torch.Tensor) -> np.ndarray:
        from ...tokenizer.model import to_frames

        return to_frames(self.tokenizer.decode_indices(states))
