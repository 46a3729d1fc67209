"""Training examples for frame-predicting world models: every window of Tc + 1 consecutive frames
of every clip, held in memory as uint8 (the quickstart set is a few MB)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset


class FrameWindows(Dataset):
    """Items: {'frames': uint8 [Tc + F, H, W, 3], 'actions': float32 [Tc + F, A], 'caption': str}
    with F = `future` frames to predict (1, or more for unrolled training).

    clips: sequences of (frames uint8 [T, H, W, 3], actions float32 [T, A] or None, captions list[str]).
    The caption of a window rotates through the clip's paraphrases (deterministically by window)."""

    def __init__(self, clips, context: int, stride: int = 1, future: int = 1):
        self.frames: list[torch.Tensor] = []
        self.actions: list[torch.Tensor] = []
        self.captions: list[list[str]] = []
        self.index: list[tuple[int, int]] = []
        a_dims = set()
        for ci, (frames, actions, captions) in enumerate(clips):
            frames = np.asarray(frames)
            t = frames.shape[0]
            if actions is None:
                actions = np.zeros((t, 0), np.float32)
            a_dims.add(actions.shape[-1])
            self.frames.append(torch.from_numpy(np.ascontiguousarray(frames)))
            self.actions.append(torch.from_numpy(np.asarray(actions, np.float32)))
            self.captions.append(list(captions) or [""])
            self.index += [(ci, s) for s in range(0, t - context - future + 1, stride)]
        if len(a_dims) > 1:
            raise ValueError(f"clips disagree on the number of action values per step: {sorted(a_dims)}")
        if not self.index:
            raise ValueError(f"no window of {context + future} frames: clips are too short")
        self.context = context
        self.future = future
        self.action_dim = a_dims.pop() if a_dims else 0

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict:
        ci, s = self.index[i]
        e = s + self.context + self.future
        caps = self.captions[ci]
        return {"frames": self.frames[ci][s:e], "actions": self.actions[ci][s:e], "caption": caps[s % len(caps)]}


def collate_windows(items: list[dict]) -> dict:
    return {"frames": torch.stack([it["frames"] for it in items]),
            "actions": torch.stack([it["actions"] for it in items]),
            "caption": [it["caption"] for it in items]}


def clips_of(root: str | Path, split: str) -> list[tuple[np.ndarray, np.ndarray | None, list[str]]]:
    """(frames, actions, captions) of every clip of a split of a dataset folder."""
    from ..data.dataset import ClipStore

    out = []
    for clip in ClipStore(root, split):
        out.append((clip.frames, clip.actions, clip.captions))
    return out


def data_fingerprint(root: str | Path, splits: tuple[str, ...] = ("train", "val")) -> str:
    """sha256 of the manifest rows (keys, shards, parameters) of the splits a model trains on."""
    from ..data.manifest import read_manifest

    rows = [r for r in read_manifest(root).to_pylist() if r["split"] in splits]
    h = hashlib.sha256()
    for r in sorted(rows, key=lambda r: r["key"]):
        h.update(repr(sorted(r.items())).encode())
    return h.hexdigest()[:16]
