"""Deterministic batches that resume exactly and split across DDP ranks.

The sample order of epoch e is a permutation drawn from (seed, e) alone, so step s of any run
with the same seed and global batch size sees the same samples — after a resume, and whatever the
number of ranks (rank r takes items r, r + W, ... of each global batch)."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class StepBatchSampler(Sampler[list[int]]):
    """Yields this rank's indices for global steps start_step, start_step + 1, ... forever."""

    def __init__(self, n_items: int, global_batch: int, seed: int, rank: int = 0, world_size: int = 1,
                 start_step: int = 0):
        if n_items < 1:
            raise ValueError("the training set is empty")
        if global_batch % world_size:
            raise ValueError(f"batch_size {global_batch} is not divisible by {world_size} processes")
        self.n, self.batch, self.seed = n_items, global_batch, seed
        self.rank, self.world = rank, world_size
        self.start_step = start_step
        self._cache: tuple[int, torch.Tensor] | None = None

    def _perm(self, epoch: int) -> torch.Tensor:
        if self._cache is None or self._cache[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._cache = (epoch, torch.randperm(self.n, generator=g))
        return self._cache[1]

    def global_indices(self, step: int) -> list[int]:
        """The global batch of `step`, drawn without replacement within an epoch (wraps across epochs)."""
        out: list[int] = []
        pos = step * self.batch
        while len(out) < self.batch:
            epoch, off = divmod(pos, self.n)
            take = min(self.batch - len(out), self.n - off)
            out += self._perm(epoch)[off:off + take].tolist()
            pos += take
        return out

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            yield self.global_indices(step)[self.rank::self.world]
            step += 1

    def __len__(self) -> int:  # a DataLoader asks; training is bounded by steps, not epochs
        return 2**62
