"""Training examples for world models: every window of Tc + F consecutive frames of every clip, in
the space the family predicts in (frames, normalised latents or token indices), held in memory
(the quickstart set is a few MB; each clip is encoded once, whole, with a frozen tokenizer).

One dataset class serves every family: an item is {FIELD: [Tc + F, ...], 'actions': float32
[Tc + F, A], 'caption': str}, where window row j of 'actions' is the command applied from window
frame j to j + 1 — the convention of `models.conditioning.action_rows`.

Mixed data: a clip without actions (a scene with no actuator: a bounce, a pendulum) gets zero
actions of the dataset's action size A — no actuator means no command — so one model trains on
`push` and the other laws together, and a model pretrained without push keeps an action input
for post-training on it. Clips whose actions have different sizes are refused."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset


class Windows(Dataset):
    """clips: sequences of (frames uint8 [T, H, W, 3], actions float32 [T, A] or None, captions);
    a clip without actions gets zeros [T, A] (A = the size the other clips' actions have; if none
    has any, `action_dim`: a model built to take actions, e.g. to be post-trained on push later).
    encode: frames -> the family's sequence [T, ...] (None keeps the frames). The caption of a
    window rotates through the clip's paraphrases (deterministically by window)."""

    def __init__(self, clips, context: int, future: int = 1, stride: int = 1, field: str = "frames",
                 encode: Callable[[np.ndarray], torch.Tensor] | None = None, action_dim: int = 0):
        self.seqs: list[torch.Tensor] = []
        self.actions: list[torch.Tensor] = []
        self.captions: list[list[str]] = []
        self.index: list[tuple[int, int]] = []
        clips = list(clips)
        a_dims = {np.shape(a)[-1] for _, a, _ in clips if a is not None and np.shape(a)[-1] > 0}
        if len(a_dims) > 1:
            raise ValueError(f"clips disagree on the number of action values per step: {sorted(a_dims)}")
        data_dim = a_dims.pop() if a_dims else 0
        if action_dim and data_dim and action_dim != data_dim:
            raise ValueError(f"clips have {data_dim} action values per step, the model takes {action_dim}")
        self.action_dim = data_dim or action_dim
        for ci, (frames, actions, captions) in enumerate(clips):
            frames = frames if torch.is_tensor(frames) else np.asarray(frames)  # tensors: already encoded
            seq = encode(frames) if encode is not None else torch.from_numpy(np.ascontiguousarray(frames))
            t = seq.shape[0]
            if actions is None or np.shape(actions)[-1] == 0:
                actions = np.zeros((t, self.action_dim), np.float32)  # no actuator: zero command
            self.seqs.append(seq)
            self.actions.append(torch.from_numpy(np.asarray(actions, np.float32)))
            self.captions.append(list(captions) or [""])
            self.index += [(ci, s) for s in range(0, t - context - future + 1, stride)]
        if not self.index:
            raise ValueError(f"no window of {context + future} frames: clips are too short")
        self.context, self.future, self.field = context, future, field

    @property
    def item_shape(self) -> tuple[int, ...]:
        """Shape of one frame of the sequences (e.g. (C, h, w) of latents, (h, w) of tokens)."""
        return tuple(self.seqs[0].shape[1:])

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict:
        ci, s = self.index[i]
        e = s + self.context + self.future
        caps = self.captions[ci]
        return {self.field: self.seqs[ci][s:e], "actions": self.actions[ci][s:e], "caption": caps[s % len(caps)]}


def collate(items: list[dict]) -> dict:
    """Stack the tensors of a list of items; strings stay lists."""
    return {k: (torch.stack([it[k] for it in items]) if torch.is_tensor(items[0][k]) else [it[k] for it in items])
            for k in items[0]}


def clips_of(root: str | Path, split: str) -> list[tuple[np.ndarray, np.ndarray | None, list[str]]]:
    """(frames, actions, captions) of every clip of a split of a dataset folder."""
    from ..data.dataset import ClipStore

    return [(clip.frames, clip.actions, clip.captions) for clip in ClipStore(root, split)]


def data_shape(root: str | Path, split: str, clips) -> dict:
    """What a model trained on these clips expects of its inputs at rollout: frame size [H, W],
    frame rate (None when the clips disagree or have none) and action values per step."""
    from ..data.dataset import ClipStore

    sizes = {tuple(int(x) for x in np.asarray(f).shape[1:3]) for f, _, _ in clips}
    store = ClipStore(root, split)
    fps = {float(store.clip(i, decode=False).meta.get("fps") or 0.0) for i in range(min(len(store), 16))}
    acts = {0 if a is None else int(np.asarray(a).shape[-1]) for _, a, _ in clips}
    rate = fps.pop() if len(fps) == 1 else 0.0
    return {"frame_size": list(sizes.pop()) if len(sizes) == 1 else None,
            "fps": rate if 0 < rate < float("inf") else None,
            "action_dim": acts.pop() if len(acts) == 1 else None}


def data_fingerprint(root: str | Path, splits: tuple[str, ...] = ("train", "val")) -> str:
    """sha256 of the manifest rows (keys, shards, parameters) of the splits a model trains on."""
    from ..data.manifest import read_manifest

    rows = [r for r in read_manifest(root).to_pylist() if r["split"] in splits]
    h = hashlib.sha256()
    for r in sorted(rows, key=lambda r: r["key"]):
        h.update(repr(sorted(r.items())).encode())
    return h.hexdigest()[:16]
