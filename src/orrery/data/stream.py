"""Streaming a split shard by shard: a torch IterableDataset for data larger than one wants to
index, read sequentially (one open file per shard), split between DataLoader workers and DDP
ranks by shard, with an optional shuffle buffer.

Items are those of `open_dataset` (`batching.clip_item`), padded to the same object count and
action size, so the default collate batches them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import torch
from torch.utils.data import IterableDataset, get_worker_info

from .batching import clip_item
from .clip import Clip
from .dataset import ClipStore, padding
from .shards import read_shard


class ShardStream(IterableDataset):
    """The clips of one split, shard after shard. `shuffle=N` mixes items through a buffer of N
    (and shuffles the shard order), seeded by `seed` and `set_epoch(e)`; `rank`/`world_size`
    (default: torch.distributed's, when initialised) take every world_size-th shard."""

    def __init__(self, root: str | Path, split: str, shuffle: int = 0, seed: int = 0, with_meta: bool = False,
                 rank: int | None = None, world_size: int | None = None):
        store = ClipStore(root, split)
        self.root = Path(root)
        self.keys = {r["key"] for r in store.rows}
        self.shards = sorted({r["shard"] for r in store.rows})
        self.n_objects, self.action_dim = padding(store)
        self.length = len(store)
        self.shuffle, self.seed, self.epoch, self.with_meta = shuffle, seed, 0, with_meta
        if rank is None and torch.distributed.is_available() and torch.distributed.is_initialized():
            rank, world_size = torch.distributed.get_rank(), torch.distributed.get_world_size()
        self.rank, self.world_size = rank or 0, world_size or 1

    def __len__(self) -> int:
        return self.length

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _my_shards(self) -> list[str]:
        shards = list(self.shards)
        if self.shuffle:
            random.Random(f"{self.seed}:{self.epoch}").shuffle(shards)
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        part = self.rank * workers + worker
        return shards[part::self.world_size * workers]

    def _items(self) -> Iterator[dict]:
        for shard in self._my_shards():
            path = self.root / "shards" / shard
            for key, members in read_shard(path):
                if key in self.keys:  # a shard may hold clips the manifest does not list
                    clip = Clip.from_sample(key, members, where=path)
                    yield clip_item(clip, self.n_objects, self.action_dim, self.with_meta)

    def __iter__(self) -> Iterator[dict]:
        if not self.shuffle:
            yield from self._items()
            return
        info = get_worker_info()
        rng = random.Random(f"{self.seed}:{self.epoch}:{self.rank}:{info.id if info else 0}")
        buf: list[dict] = []
        for item in self._items():
            buf.append(item)
            if len(buf) >= self.shuffle:
                yield buf.pop(rng.randrange(len(buf)))
        rng.shuffle(buf)
        yield from buf
