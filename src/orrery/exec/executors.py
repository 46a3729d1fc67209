"""Executors: inline, local process pool, Ray. `fn` must be a picklable top-level function."""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any


class TaskError(RuntimeError):
    """A task failed; carries its index so the caller can name the input."""

    def __init__(self, index: int, cause: BaseException):
        self.index = index
        self.cause = cause
        super().__init__(f"task {index} failed: {type(cause).__name__}: {cause}")


class Executor:
    kind = "abstract"
    workers = 1

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InlineExecutor(Executor):
    """Runs tasks one after another in this process (the default for one worker; easiest to debug)."""

    kind = "inline"

    def map_unordered(self, fn, tasks):
        for i, t in enumerate(tasks):
            try:
                yield i, fn(t)
            except Exception as e:  # re-raised with the task's index
                raise TaskError(i, e) from e


class ProcessExecutor(Executor):
    """A local pool of `workers` processes (spawned: no inherited threads or locks)."""

    kind = "local"

    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError(f"workers: must be >= 1, got {workers}")
        self.workers = workers
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))

    def map_unordered(self, fn, tasks):
        pending = {}
        it = iter(enumerate(tasks))
        # keep at most 2 tasks per worker in flight so a huge task list is not pickled at once
        for _ in range(2 * self.workers):
            nxt = next(it, None)
            if nxt is None:
                break
            pending[self._pool.submit(fn, nxt[1])] = nxt[0]
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                try:
                    res = fut.result()
                except Exception as e:
                    for f in pending:
                        f.cancel()
                    raise TaskError(i, e) from e
                nxt = next(it, None)
                if nxt is not None:
                    pending[self._pool.submit(fn, nxt[1])] = nxt[0]
                yield i, res

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor(Executor):
    """Each task is one Ray task. Without an address, starts a private local Ray on loopback."""

    kind = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None):
        # Ray 2.60 turns on token auth and writes into $HOME by default; local use needs neither.
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError as e:
            raise RuntimeError("executor 'ray': Ray is not installed; install orrery[ray]") from e
        self._ray = ray
        self._tmp: str | None = None
        self._owns = not ray.is_initialized()
        if self._owns:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                self._tmp = tempfile.mkdtemp(prefix="orrery-ray-")
                ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, log_to_driver=False,
                         _temp_dir=self._tmp, _node_ip_address="127.0.0.1")
        self.workers = int(ray.cluster_resources().get("CPU", 1))

    def map_unordered(self, fn, tasks):
        ray = self._ray
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        refs = {remote.remote(t): i for i, t in enumerate(tasks)}
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                i = refs.pop(ref)
                try:
                    res = ray.get(ref)
                except Exception as e:
                    for r in refs:
                        ray.cancel(r)
                    raise TaskError(i, e) from e
                yield i, res

    def close(self):
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        if self._tmp is not None:  # the private cluster's session files (logs, sockets)
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def make_executor(kind: str = "local", workers: int = 1, ray_address: str | None = None) -> Executor:
    """'local' with 1 worker runs inline; 'local' with N > 1 a process pool; 'ray' a Ray cluster."""
    if kind == "local":
        return InlineExecutor() if workers <= 1 else ProcessExecutor(workers)
    if kind == "ray":
        return RayExecutor(workers, ray_address)
    raise ValueError(f"executor: {kind!r} is not one of 'local', 'ray'")
