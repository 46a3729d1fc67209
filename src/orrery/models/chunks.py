"""Latent chunks: the frame arithmetic of a world model over a tokenizer that compresses time.

A causal tokenizer with time factor s_t turns frames T = 1 + k s_t into latent frames 1 + k:
latent 0 holds frame 0 alone and latent j >= 1 holds frames (j - 1) s_t + 1 .. j s_t (and sees
every frame before). A world model over it predicts one latent frame, i.e. one *chunk* of s_t video
frames, at a time. With s_t = 1 every function here is the identity of the frame-by-frame case.

- The Tc context frames are padded at the front, with copies of the first one (an object "at rest
  before", as a short context is padded), to `padded_context(Tc, s_t)` = 1 + k s_t frames, so the
  last context frame closes a chunk and every predicted chunk is wholly future. (The codec pads a
  clip at the end instead; a world model cannot: the padded frames would be scored as real.)
  The context then holds `latent_context(Tc, s_t)` latent frames. Training windows are padded the
  same way (`recipes.chunks`), so training and rollout see the same kind of context.
- Actions: row j of the latent sequence is the command leading from latent j into latent j + 1:
  the s_t video rows of padded positions j s_t .. j s_t + s_t - 1, concatenated ([A s_t] values);
  rows of padded copies, and rows past those given, are zeros. `models.conditioning.action_rows`
  then applies in latent frames unchanged."""

from __future__ import annotations

import torch


def latent_context(context: int, s_t: int) -> int:
    """Latent frames that hold `context` video frames once padded: 1 + ceil((Tc - 1) / s_t)."""
    if context < 1 or s_t < 1:
        raise ValueError(f"context and time factor must be >= 1, got {context} and {s_t}")
    return 1 + -(-(context - 1) // s_t)


def padded_context(context: int, s_t: int) -> int:
    """Video frames of the context after front padding: 1 + (latent_context - 1) s_t (>= Tc)."""
    return 1 + (latent_context(context, s_t) - 1) * s_t


def chunks_for(horizon: int, s_t: int) -> int:
    """Latent frames to predict for `horizon` video frames: ceil(horizon / s_t)."""
    return -(-horizon // s_t)


def latent_actions(actions: torch.Tensor, offset: int, n_pad: int, n_latent: int, s_t: int) -> torch.Tensor:
    """Video action rows [B, R, A] -> latent rows [B, n_latent, A s_t].

    Padded position p (0 = the first frame of the padded context) is video row `offset + p` of
    `actions`; positions p < n_pad are padded copies (zero command), and rows outside [0, R) are
    zeros (before the given context, or past the last frame a rollout returns)."""
    b, r, a = actions.shape
    pos = torch.arange(n_latent * s_t, device=actions.device)
    idx = offset + pos
    valid = (pos >= n_pad) & (idx >= 0) & (idx < r)
    rows = actions[:, idx.clamp(0, max(r - 1, 0))] if r else actions.new_zeros(b, len(pos), a)
    rows = rows * valid.view(1, -1, 1).to(rows.dtype)
    return rows.reshape(b, n_latent, s_t * a)


def check_time_factor(trained: int, tokenizer) -> int:
    """The tokenizer's time factor, which must be the one the model was trained over."""
    s_t = int(tokenizer.cfg.time_factor)
    if s_t != trained:
        raise ValueError(f"tokenizer compression {tokenizer.cfg.compression}: {s_t} frame(s) per latent frame, but "
                         f"the model was trained over {trained}; use the tokenizer it was trained with")
    return s_t
