"""One writer per output folder: `folder_lock(path, what)` holds an exclusive lock on `path/.lock`
for as long as a command writes into `path`.

The lock is `fcntl.flock` on an open file, so the kernel releases it when the holder's process
ends, however it ends (kill -9 included): there is never a stale lock to delete by hand. While it
holds the lock, the holder writes who it is (pid, host, command line, start time) into the file,
so a second writer is refused with a message naming the folder and the holder.

Every verb that writes a folder takes its lock before it reads or cleans anything there
(simulate, curate, train on rank 0, evaluate, bench, engine): a starting run's clean-up of
temporaries can then never delete the temporaries of a live run. Within one process the lock is
re-entrant (a job that locks a folder may call a stage that locks it again)."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".lock"

_held: dict[str, int] = {}  # resolved folder -> depth, for re-entrance within this process
_guard = threading.Lock()


class FolderBusy(ValueError):
    """Another process writes into the folder; the message names the folder and the holder."""

    def __init__(self, path: Path, what: str, holder: dict):
        self.path, self.holder = path, holder
        who = describe_holder(holder)
        super().__init__(f"{path}: busy: {holder.get('what') or 'another ' + what} is writing into this folder "
                         f"({who}); wait for it to finish, or use another --out")


def describe_holder(holder: dict) -> str:
    if not holder:
        return "holder unknown"
    cmd = str(holder.get("command", ""))
    cmd = cmd if len(cmd) <= 120 else cmd[:117] + "..."
    return (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started {holder.get('started', '?')}"
            + (f": {cmd}" if cmd else ""))


def _read_holder(f) -> dict:
    try:
        f.seek(0)
        data = json.loads(f.read(65536) or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _prepare(path: Path) -> None:
    """Create the folder; a file in its place is an OSError naming it (not a traceback)."""
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is a file, not a folder (give a folder to --out)", str(path))
    path.mkdir(parents=True, exist_ok=True)


@contextmanager
def folder_lock(path: Path, what: str) -> Iterator[Path]:
    """Hold the exclusive lock of folder `path` (created if needed) while writing into it; `what`
    names the writer in messages ("simulate", "training run", ...). Raises `FolderBusy` at once if
    another process holds it."""
    path = Path(path)
    _prepare(path)
    key = str(path.resolve())
    with _guard:
        if _held.get(key):
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _guard:
                _held[key] -= 1
        return
    f = open(path / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusy(path, what, _read_holder(f)) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "what": what,
                  "command": " ".join(sys.argv), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        f.seek(0)
        f.truncate()
        f.write(json.dumps(holder))
        f.flush()
        with _guard:
            _held[key] = 1
        try:
            yield path
        finally:
            with _guard:
                _held.pop(key, None)
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    finally:
        f.close()
