"""A clip as a torch item, and the collate that batches items of any dataset.

Items have fixed shapes within a dataset, so the standard `DataLoader` batches them with its
default collate (shuffle or not): positions are padded to the dataset's largest object count
with a per-object mask (`objects`, True = a real object), and a clip without actions gets zero
commands of the dataset's action size (no actuator means no command: the convention training
uses). Text (key, caption, scenario) collates as lists; the full record (`meta`, a dict with
None values) is left out unless asked for, and then `collate_clips` keeps it as a list.

`collate_clips` also batches items of different object counts, action sizes or clip lengths
(items from several datasets): it pads every tensor to the largest in the batch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .clip import Clip

TEXT = ("key", "caption", "scenario")


def clip_item(clip: Clip, n_objects: int, action_dim: int, with_meta: bool = False) -> dict:
    """{'key', 'frames' uint8 [T, H, W, 3], 'masks' uint8 [T, H, W], 'position' float32
    [T, n_objects, 2] (zero past the clip's own objects), 'objects' bool [n_objects], 'actions'
    float32 [T, action_dim], 'caption', 'scenario'} (+ 'meta' when `with_meta`)."""
    t = clip.frames.shape[0]
    position = np.zeros((t, n_objects, 2), np.float32)
    present = np.zeros(n_objects, bool)
    if clip.meta.get("states"):
        pos = clip.state("position").astype(np.float32)
        if pos.shape[1] > n_objects:
            raise ValueError(f"clip {clip.key}: {pos.shape[1]} objects, more than the {n_objects} this "
                             "dataset pads to")
        position[:, :pos.shape[1]] = pos
        present[:pos.shape[1]] = True
    actions = np.zeros((t, action_dim), np.float32)
    if clip.actions is not None and clip.actions.size:
        a = clip.actions
        if a.shape[-1] > action_dim:
            raise ValueError(f"clip {clip.key}: {a.shape[-1]} action values per step, more than the "
                             f"{action_dim} this dataset pads to")
        actions[:len(a), :a.shape[-1]] = a
    masks = clip.masks if clip.masks is not None else np.zeros(clip.frames.shape[:3], np.uint8)
    item = {"key": clip.key, "frames": torch.from_numpy(clip.frames), "masks": torch.from_numpy(masks),
            "position": torch.from_numpy(position), "objects": torch.from_numpy(present),
            "actions": torch.from_numpy(actions), "caption": clip.captions[0] if clip.captions else "",
            "scenario": clip.scenario}
    if with_meta:
        item["meta"] = clip.meta
    return item


def _pad_stack(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """Stack, zero-padding every dimension to the largest in the batch."""
    shape = [max(s) for s in zip(*(t.shape for t in tensors), strict=True)]
    if all(list(t.shape) == shape for t in tensors):
        return torch.stack(list(tensors))
    out = tensors[0].new_zeros([len(tensors), *shape])
    for i, t in enumerate(tensors):
        out[(i, *(slice(0, n) for n in t.shape))] = t
    return out


def collate_clips(items: Sequence[dict]) -> dict:
    """A batch of clip items: tensors stacked (zero-padded to the largest in the batch, the
    `objects` mask marking real objects), text and `meta` as lists."""
    if not items:
        raise ValueError("collate_clips: an empty batch")
    out: dict = {}
    for name in items[0]:
        values = [it[name] for it in items]
        out[name] = _pad_stack(values) if torch.is_tensor(values[0]) else list(values)
    return out
