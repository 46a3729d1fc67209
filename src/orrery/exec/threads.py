"""Each worker's share of the cores, and holding torch to it for one task.

An inline task runs in the caller's process, so the thread count a task sets is given back when it
ends: every later torch call there would otherwise run (and round) differently. torch is imported
only when a task asks for threads; the executors themselves know nothing of it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def share_of_cores(workers: int) -> int:
    """Threads per worker when `workers` tasks run at once on this machine (at least 1)."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` torch threads (0: as they are), then restore the caller's count."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
