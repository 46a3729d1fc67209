"""Reading a dataset folder back: random access to clips by index, as `Clip` records or as a
torch Dataset of tensors.

Shards are indexed once on open (tar headers only: member offsets and sizes), so `clip(i)`
reads just that clip's bytes. Member names are never used as file paths."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .clip import Clip
from .manifest import SPLITS, read_manifest


class ClipStore:
    """The clips of one split of a dataset folder, in manifest order."""

    def __init__(self, root: str | Path, split: str, scenarios: list[str] | None = None):
        self.root = Path(root)
        if split not in SPLITS:
            raise ValueError(f"split: {split!r} is not one of {SPLITS}")
        table = read_manifest(self.root).to_pylist()
        rows = [r for r in table if r["split"] == split and (scenarios is None or r.get("scenario") in scenarios)]
        if not rows:
            have = sorted({r["split"] for r in table})
            raise ValueError(f"{self.root}: split {split!r} has no clips"
                             + (f" for scenarios {scenarios}" if scenarios else "") + f" (splits present: {have})")
        self.rows = rows
        self.split = split
        self._index: dict[str, dict[str, tuple[str, int, int]]] = {}
        for shard in sorted({r["shard"] for r in rows}):
            self._index_shard(shard)
        missing = [r["key"] for r in rows if r["key"] not in self._index]
        if missing:
            raise ValueError(f"{self.root}: {len(missing)} clips of the manifest are not in their shards "
                             f"(first: {missing[0]})")

    def _index_shard(self, shard: str) -> None:
        path = self.root / "shards" / shard
        if not path.exists():
            raise FileNotFoundError(f"{path}: shard named in the manifest is missing")
        with tarfile.open(path, "r") as tar:
            for info in tar:
                if not info.isfile():
                    continue
                key, _, ext = info.name.rsplit("/", 1)[-1].partition(".")
                self._index.setdefault(key, {})[ext] = (str(path), info.offset_data, info.size)

    def __len__(self) -> int:
        return len(self.rows)

    def members(self, i: int) -> dict[str, bytes]:
        out = {}
        for ext, (path, offset, size) in self._index[self.rows[i]["key"]].items():
            with open(path, "rb") as f:
                f.seek(offset)
                out[ext] = f.read(size)
        return out

    def clip(self, i: int, decode: bool = True) -> Clip:
        return Clip.from_sample(self.rows[i]["key"], self.members(i), decode=decode)

    def __iter__(self) -> Iterator[Clip]:
        for i in range(len(self)):
            yield self.clip(i)


class ClipDataset(Dataset):
    """A torch Dataset over one split. Items: {'key', 'frames' uint8 [T, H, W, 3], 'masks' uint8
    [T, H, W], 'position' float32 [T, N, 2], 'actions' float32 [T, A] (or [T, 0]), 'caption' str,
    'meta' dict}. `cache=True` keeps decoded clips in memory (small datasets, many epochs)."""

    def __init__(self, root: str | Path, split: str, cache: bool = False, scenarios: list[str] | None = None):
        self.store = ClipStore(root, split, scenarios)
        self.cache = cache
        self._cache: dict[int, dict] = {}

    def __len__(self) -> int:
        return len(self.store)

    def __getitem__(self, i: int) -> dict:
        if i in self._cache:
            return self._cache[i]
        clip = self.store.clip(i)
        t = clip.frames.shape[0]
        item = {
            "key": clip.key,
            "frames": torch.from_numpy(clip.frames),
            "masks": torch.from_numpy(clip.masks if clip.masks is not None else np.zeros(clip.frames.shape[:3], np.uint8)),
            "position": torch.from_numpy(clip.state("position").astype(np.float32)) if "states" in clip.meta
            else torch.zeros(t, 0, 2),
            "actions": torch.from_numpy(clip.actions) if clip.actions is not None else torch.zeros(t, 0),
            "caption": clip.captions[0] if clip.captions else "",
            "meta": clip.meta,
        }
        if self.cache:
            self._cache[i] = item
        return item


def open_dataset(root: str | Path, split: str, cache: bool = False, scenarios: list[str] | None = None) -> ClipDataset:
    """The torch Dataset of one split of a dataset folder made by `simulate` or `curate`."""
    return ClipDataset(root, split, cache=cache, scenarios=scenarios)
