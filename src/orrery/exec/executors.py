"""Executors: inline, local process pool, Ray. `fn` must be a picklable top-level function."""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from .children import quiet_worker, sigint_blocked


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
    """A local pool of `workers` processes (spawned: no inherited threads or locks). Workers die
    with this process and leave Ctrl-C to it (`children.quiet_worker`); when the caller stops on an
    exception (Ctrl-C included), they are terminated rather than waited for."""

    kind = "local"

    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError(f"workers: must be >= 1, got {workers}")
        self.workers = workers
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                         initializer=quiet_worker, initargs=(os.getpid(),))

    def _submit(self, fn, task):
        with sigint_blocked():  # workers are spawned inside submit: they start with SIGINT blocked
            return self._pool.submit(fn, task)

    def map_unordered(self, fn, tasks):
        pending = {}
        it = iter(enumerate(tasks))
        # keep at most 2 tasks per worker in flight so a huge task list is not pickled at once
        for _ in range(2 * self.workers):
            nxt = next(it, None)
            if nxt is None:
                break
            pending[self._submit(fn, nxt[1])] = nxt[0]
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
                    pending[self._submit(fn, nxt[1])] = nxt[0]
                yield i, res

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """Stop now: cancel queued tasks and terminate the workers (the caller is stopping)."""
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.close()
        else:
            self.terminate()


RAY_INSTALL = "pip install 'orrery[ray]'"
RAY_CONNECT_TIMEOUT_S = 10.0


def require_ray() -> None:
    """RuntimeError (one line, saying how to install it) when Ray is not importable."""
    import importlib.util

    try:
        found = importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise RuntimeError(f"--executor ray: Ray is not installed; install it with: {RAY_INSTALL}")


def check_reachable(address: str, timeout_s: float = RAY_CONNECT_TIMEOUT_S) -> None:
    """A Ray address that no process answers fails in `timeout_s` with one line, instead of Ray's
    own retries (which wait for minutes). 'auto' and 'local' are Ray's to resolve."""
    import socket

    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--ray-address {address}: expected HOST:PORT (or ray://HOST:PORT, auto)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except TimeoutError:
        raise TimeoutError(f"--ray-address {address}: no answer within {timeout_s:g} s; is the Ray cluster "
                           "running and reachable from here?") from None
    except OSError as e:
        raise ConnectionError(f"--ray-address {address}: cannot connect ({e.strerror or e}); is the Ray "
                              "cluster running and reachable from here?") from None


class RayExecutor(Executor):
    """Each task is one Ray task. Without an address, starts a private local Ray on loopback."""

    kind = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None,
                 connect_timeout_s: float = RAY_CONNECT_TIMEOUT_S):
        # Ray 2.60 turns on token auth and writes into $HOME by default; local use needs neither.
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        require_ray()
        import ray

        self._ray = ray
        self._tmp: str | None = None
        self._owns = not ray.is_initialized()
        if self._owns:
            if address:
                check_reachable(address, connect_timeout_s)
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
