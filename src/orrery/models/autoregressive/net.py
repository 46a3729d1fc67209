"""The autoregressive network: a GPT over the FSQ tokens of a frozen discrete tokenizer.

Training windows are Tc + 1 frames of tokens; the GPT learns every token of the window given the
ones before it, the caption as a prefix and the actions as added embeddings (window frame f gets
action row f - 1, the command that led into it: the shared convention of `models.conditioning`).

batch: {'tokens': int64 [B, Tc + 1, h, w], 'actions': float [B, Tc + 1, A], 'caption': [str]}."""

from __future__ import annotations

import torch
from torch import nn

from ..conditioning import ItemNoise, drop_captions, encode_text
from ..nets.gpt import TokenGPT
from ..nets.text import HashedTextEncoder
from .config import ARModelConfig


class ARWorldNet(nn.Module):
    def __init__(self, cfg: ARModelConfig):
        super().__init__()
        self.cfg = cfg
        self.text = HashedTextEncoder(cfg.gpt.text_dim) if cfg.text and cfg.gpt.text_dim else None
        self.gpt = TokenGPT(cfg.gpt)

    def loss(self, batch: dict, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        tokens = batch["tokens"].long()
        b = tokens.shape[0]
        texts = drop_captions(batch.get("caption"), b, self.cfg.text_dropout if self.text is not None else 0.0,
                              generator, tokens.device)
        actions = batch.get("actions") if self.cfg.gpt.action_dim else None
        loss = self.gpt.loss_on(tokens.flatten(1), encode_text(self.text, texts, b), actions)
        return loss, {"nll": float(loss.detach())}

    @torch.no_grad()
    def next_frame(self, ctx_tokens: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
                   noise: ItemNoise) -> torch.Tensor:
        """ctx_tokens [B, Tc, h, w], actions [B, Tc, A] (rows leading into window frames 1..Tc) ->
        sampled tokens of the next frame [B, h, w]."""
        b, tc, h, w = ctx_tokens.shape
        if actions is not None:  # row Tc would lead into a frame after the window: never used
            actions = torch.cat([actions, actions.new_zeros(b, 1, actions.shape[2])], dim=1)
        seq = self.gpt.generate(ctx_tokens.flatten(1), h * w, noise, self.cfg.temperature, self.cfg.top_p,
                                text=encode_text(self.text, texts, b), actions=actions)
        return seq[:, tc * h * w:].reshape(b, h, w)
