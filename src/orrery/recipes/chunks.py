"""Training sequences of a world model over a tokenizer that compresses time (s_t > 1).

A rollout pads its Tc context frames at the front to 1 + k s_t frames and predicts latent chunks
(`models.chunks`). Training must see the same: every window of Tc + F s_t frames of a clip (F =
ceil(horizon / s_t) chunks) is padded the same way and encoded alone, so its first latent frames
are exactly what a rollout's context encodes to, and its later ones what the model must predict.
Each encoded window is one sequence of Lc + F latent frames, with the latent action rows of the
shared convention; `recipes.windows.Windows` then slides Lc + 1 latent frames over it (F items),
so the model learns its first chunk from a padded context and later chunks from its own
(teacher-forced) ones, as in a rollout.

Cost: each window is encoded whole (Tp + F s_t frames), not each clip once; clips are encoded in
batches of their windows."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from ..models.chunks import chunks_for, latent_actions, latent_context, padded_context


def chunk_sequences(clips: Iterable[tuple[np.ndarray, np.ndarray | None, list[str]]],
                    encode: Callable[[np.ndarray], torch.Tensor], s_t: int, context: int, horizon: int,
                    stride: int = 1, batch: int = 16) -> list[tuple[torch.Tensor, np.ndarray | None, list[str]]]:
    """clips: (frames uint8 [T, H, W, 3], actions [T, A] or None, captions); encode: uint8
    [N, Tp + F s_t, H, W, 3] -> [N, Lc + F, ...]. Returns one (latent sequence, latent action rows
    [Lc + F, A s_t] or None, captions) per window start (every `stride` frames); clips shorter than
    a window give none."""
    lc, need, steps = latent_context(context, s_t), padded_context(context, s_t), chunks_for(horizon, s_t)
    n_pad, length = need - context, context + steps * s_t
    out = []
    for frames, actions, captions in clips:
        frames = np.asarray(frames)
        starts = list(range(0, frames.shape[0] - length + 1, stride))
        for i in range(0, len(starts), batch):
            group = starts[i:i + batch]
            windows = np.stack([frames[s:s + length] for s in group])
            if n_pad:
                windows = np.concatenate([np.repeat(windows[:, :1], n_pad, axis=1), windows], axis=1)
            seqs = encode(windows)
            if seqs.shape[1] != lc + steps:
                raise ValueError(f"encode: expected {lc + steps} latent frames per window, got {seqs.shape[1]}")
            for j, s in enumerate(group):
                rows = None
                if actions is not None and np.shape(actions)[-1] > 0:
                    window = torch.from_numpy(np.asarray(actions[s:s + length], np.float32))[None]
                    rows = latent_actions(window, -n_pad, n_pad, lc + steps, s_t)[0].numpy()
                out.append((seqs[j], rows, list(captions)))
    if not out:
        raise ValueError(f"no window of {length} frames (context {context} + {steps} chunks of {s_t}): clips are "
                         "too short; lower data.horizon")
    return out
