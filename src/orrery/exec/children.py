"""Child processes never outlive their parent, and never print a traceback for the user's Ctrl-C.

- `die_with_parent()`: run in a child (a subprocess's `preexec_fn`, a pool worker's initializer)
  it asks Linux to kill the child when the parent dies (prctl PR_SET_PDEATHSIG), so a kill -9 of
  orrery leaves no decoder blocked on a FIFO or worker running on, reparented to PID 1. Elsewhere
  it does nothing; callers also kill their children when they stop on an exception.
- `sigint_blocked()`: while pool workers are spawned, SIGINT is blocked in the spawning thread;
  the workers start with it blocked (the mask survives exec), so a Ctrl-C that lands while they
  import reaches only the parent, which stops them. `quiet_worker()` (their initializer) then
  ignores SIGINT for good."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Kill this process (SIGKILL) when its parent dies. `parent_pid`: the pid the parent had
    before the fork; if the parent is already gone, exit at once."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # the parent died before the request took effect


def tied_to_parent() -> Callable[[], None]:
    """A `preexec_fn` for subprocess: the child dies with this process."""
    parent = os.getpid()
    return lambda: die_with_parent(parent)


@contextmanager
def sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread while the body runs (a Ctrl-C waits, then arrives)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def quiet_worker(parent_pid: int | None = None) -> None:
    """Initializer of a pool worker: dies with its parent; Ctrl-C is the parent's to handle."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
