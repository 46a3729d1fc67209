"""The tokenizer used as a codec on uint8 clips (numpy in, numpy out), in batches, without
gradients. Clips whose length is not 1 + k * s_t are padded at the end with copies of their last
frame and trimmed after decoding: the model is causal, so the padding never changes earlier frames."""

from __future__ import annotations

import numpy as np
import torch

from .model import VideoTokenizer, to_frames, to_video


def padded_length(t: int, s_t: int) -> int:
    """The smallest 1 + k * s_t >= t."""
    return 1 + -(-(t - 1) // s_t) * s_t


def _pad(frames: np.ndarray, s_t: int) -> np.ndarray:
    """[N, T, H, W, 3] -> [N, T', H, W, 3], T' = padded_length(T)."""
    t = frames.shape[1]
    extra = padded_length(t, s_t) - t
    if extra:
        frames = np.concatenate([frames, np.repeat(frames[:, -1:], extra, axis=1)], axis=1)
    return frames


def _check(model: VideoTokenizer, frames: np.ndarray) -> None:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 5 or frames.shape[-1] != 3:
        got = f"{getattr(frames, 'dtype', type(frames).__name__)} {list(getattr(frames, 'shape', []))}"
        raise ValueError(f"frames: expected uint8 [N, T, H, W, 3], got {got}")
    s = model.cfg.space_factor
    if frames.shape[2] % s or frames.shape[3] % s:
        raise ValueError(f"frames: height and width must be multiples of {s} for compression "
                         f"{model.cfg.compression}, got {frames.shape[2]}x{frames.shape[3]}")


@torch.no_grad()
def encode_clips(model: VideoTokenizer, frames: np.ndarray, batch: int = 8) -> np.ndarray:
    """uint8 [N, T, H, W, 3] -> latents float32 [N, C, t, h, w] (continuous, or FSQ codes) or,
    for FSQ, token indices int32 [N, t, h, w]."""
    _check(model, frames)
    frames = _pad(frames, model.cfg.time_factor)
    device = model.latent_mean.device
    out = []
    for i in range(0, len(frames), batch):
        x = to_video(frames[i:i + batch]).to(device)
        if model.fsq is not None:
            out.append(model.encode_indices(x).to(torch.int32).cpu().numpy())
        else:
            out.append(model.encode(x).float().cpu().numpy())
    return np.concatenate(out)


@torch.no_grad()
def decode_clips(model: VideoTokenizer, latents: np.ndarray, n_frames: int | None = None,
                 batch: int = 8) -> np.ndarray:
    """The inverse of `encode_clips` -> uint8 [N, T, H, W, 3], trimmed to `n_frames` if given."""
    device = model.latent_mean.device
    out = []
    for i in range(0, len(latents), batch):
        z = torch.from_numpy(np.ascontiguousarray(latents[i:i + batch])).to(device)
        video = model.decode_indices(z.long()) if model.fsq is not None else model.decode(z.float())
        out.append(to_frames(video))
    frames = np.concatenate(out)
    return frames[:, :n_frames] if n_frames is not None else frames


def reconstruct(model: VideoTokenizer, frames: np.ndarray, batch: int = 8) -> np.ndarray:
    """uint8 [N, T, H, W, 3] -> its reconstruction, same shape."""
    return decode_clips(model, encode_clips(model, frames, batch), frames.shape[1], batch)
