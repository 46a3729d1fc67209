"""The autoregressive world model: a GPT over the FSQ tokens of a trained discrete tokenizer.

Training windows are Tc + 1 frames of tokens (each clip is tokenized once, whole, with the frozen
tokenizer); the GPT learns every token of the window given the ones before it, the caption as a
prefix and the actions as added embeddings. A rollout tokenizes the context, samples one frame of
tokens at a time (temperature, top-p, KV cache), slides the window, and decodes the tokens.

Only tokenizers without temporal compression (1 x s x s) are supported: one latent frame must be
one video frame for the frame-by-frame rollout."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from .base import Condition, WorldModel, check_context
from .gpt import GPTConfig, TokenGPT
from .text import HashedTextEncoder


@dataclass
class ARModelConfig:
    context: int = 4
    gpt: GPTConfig = field(default_factory=GPTConfig)
    text: bool = True
    text_dropout: float = 0.1
    temperature: float = 1.0
    top_p: float = 0.9

    def validate(self) -> None:
        if self.context < 1:
            raise ValueError(f"context must be >= 1, got {self.context}")
        if not 0 < self.top_p <= 1 or self.temperature < 0:
            raise ValueError("top_p must be in (0, 1] and temperature >= 0")


class ARWorldNet(nn.Module):
    """batch: {'tokens': int64 [B, Tc + 1, h, w], 'actions': float [B, Tc + 1, A], 'caption': [str]}."""

    def __init__(self, cfg: ARModelConfig):
        super().__init__()
        self.cfg = cfg
        self.text = HashedTextEncoder(cfg.gpt.text_dim) if cfg.text and cfg.gpt.text_dim else None
        self.gpt = TokenGPT(cfg.gpt)

    def _text(self, texts: list[str] | None, b: int) -> torch.Tensor | None:
        if self.text is None:
            return None
        return self.text(list(texts) if texts is not None else [""] * b)

    def loss(self, batch: dict, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        tokens = batch["tokens"].long()
        b = tokens.shape[0]
        texts = list(batch.get("caption") or [""] * b)
        if self.text is not None and self.cfg.text_dropout > 0:
            drop = (torch.rand(b, generator=generator, device=tokens.device) < self.cfg.text_dropout).tolist()
            texts = ["" if d else t for d, t in zip(drop, texts, strict=True)]
        actions = batch.get("actions")
        actions = actions if self.cfg.gpt.action_dim else None
        loss = self.gpt.loss_on(tokens.flatten(1), self._text(texts, b), actions)
        return loss, {"nll": float(loss.detach())}

    @torch.no_grad()
    def next_frame(self, ctx_tokens: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
                   generator: torch.Generator) -> torch.Tensor:
        """ctx_tokens [B, Tc, h, w] -> sampled tokens of the next frame [B, h, w]."""
        b, tc, h, w = ctx_tokens.shape
        seq = self.gpt.generate(ctx_tokens.flatten(1), h * w, generator, self.cfg.temperature, self.cfg.top_p,
                                text=self._text(texts, b), actions=actions)
        return seq[:, tc * h * w:].reshape(b, h, w)


class TokenWindows(Dataset):
    """Windows of Tc + 1 token frames of every clip, tokenized once with a frozen tokenizer."""

    def __init__(self, clips, tokenizer, context: int, batch: int = 8):
        from ..tokenizer.model import to_video

        self.items: list[tuple[torch.Tensor, torch.Tensor, list[str]]] = []
        self.index: list[tuple[int, int]] = []
        self.context = context
        a_dims = set()
        with torch.no_grad():
            for ci, (frames, actions, captions) in enumerate(clips):
                tok = tokenizer.encode_indices(to_video(np.asarray(frames)[None]))[0].to(torch.int32)
                t = tok.shape[0]
                acts = np.zeros((t, 0), np.float32) if actions is None else np.asarray(actions, np.float32)
                a_dims.add(acts.shape[-1])
                self.items.append((tok, torch.from_numpy(acts), list(captions) or [""]))
                self.index += [(ci, s) for s in range(0, t - context)]
        if len(a_dims) > 1:
            raise ValueError(f"clips disagree on the number of action values per step: {sorted(a_dims)}")
        if not self.index:
            raise ValueError(f"no window of {context + 1} frames: clips are too short")
        self.action_dim = a_dims.pop()
        self.grid = tuple(self.items[0][0].shape[1:])

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict:
        ci, s = self.index[i]
        tok, acts, caps = self.items[ci]
        e = s + self.context + 1
        return {"tokens": tok[s:e].long(), "actions": acts[s:e], "caption": caps[s % len(caps)]}


def collate_tokens(items: list[dict]) -> dict:
    return {"tokens": torch.stack([it["tokens"] for it in items]),
            "actions": torch.stack([it["actions"] for it in items]),
            "caption": [it["caption"] for it in items]}


def check_tokenizer(tokenizer, where: str | Path) -> None:
    if getattr(tokenizer, "fsq", None) is None:
        raise ValueError(f"tokenizer {where}: the autoregressive model needs a discrete (FSQ) tokenizer")
    if tokenizer.cfg.time_factor != 1:
        raise ValueError(f"tokenizer {where}: compression {tokenizer.cfg.compression} compresses time; the "
                         "autoregressive model needs one latent frame per video frame (1 x s x s)")


class AutoregressiveWorldModel(WorldModel):
    def __init__(self, net: ARWorldNet, tokenizer, seed: int = 0, device: str = "cpu", batch_size: int = 32):
        self.net = net.eval().to(device)
        self.tokenizer = tokenizer.eval().to(device)
        self.seed = seed
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.name = "autoregressive"

    @property
    def context_frames(self) -> int:
        return self.net.cfg.context

    def rollout(self, context: np.ndarray, horizon: int, condition: Condition | None = None) -> np.ndarray:
        """context uint8 [B, Tc', H, W, 3] -> uint8 [B, horizon, H, W, 3] (the last Tc frames are used)."""
        from ..tokenizer.model import to_frames, to_video

        check_context(context, horizon)
        cond = condition or Condition()
        cfg = self.net.cfg
        tc = cfg.context
        b = context.shape[0]
        if cond.text is not None and len(cond.text) != b:
            raise ValueError(f"condition.text: expected {b} prompts, got {len(cond.text)}")
        a_dim = cfg.gpt.action_dim
        if a_dim and cond.actions is None:
            raise ValueError(f"condition.actions: this model needs {a_dim} action values per step")
        out = np.empty((b, horizon, *context.shape[2:]), np.uint8)
        g = torch.Generator(device=self.device).manual_seed(self.seed)
        for s in range(0, b, self.batch_size):
            e = min(b, s + self.batch_size)
            ctx = context[s:e, -tc:]
            if ctx.shape[1] < tc:
                ctx = np.concatenate([np.repeat(ctx[:, :1], tc - ctx.shape[1], axis=1), ctx], axis=1)
            with torch.no_grad():
                tokens = self.tokenizer.encode_indices(to_video(ctx).to(self.device))  # [b, Tc, h, w]
            n_in = context.shape[1]
            for h in range(horizon):
                acts = None
                if a_dim:
                    # row j of the window = the command from window frame j to j + 1; the window holds
                    # absolute frames n_in + h - Tc .. n_in + h (the last one being predicted)
                    rows = np.asarray(cond.actions[s:e], np.float32)
                    idx = np.clip(np.arange(n_in + h - tc, n_in + h + 1), 0, rows.shape[1] - 1)
                    acts = torch.from_numpy(rows[:, idx]).to(self.device)
                texts = None if cond.text is None else list(cond.text[s:e])
                nxt = self.net.next_frame(tokens[:, -tc:], acts, texts, g)
                tokens = torch.cat([tokens, nxt[:, None]], dim=1)
            with torch.no_grad():
                video = self.tokenizer.decode_indices(tokens)  # decode with the context: the decoder is causal
            out[s:e] = to_frames(video)[:, -horizon:]
        return out
