"""Atomic file writes: write beside the target under a temporary name, fsync, then rename, so a
reader (or a resumed run) sees either nothing or the whole file; and `replace_set`, which replaces
a set of files that belong together (an evaluation's metrics, summary and report) as a whole.

An OSError while writing (read-only folder, full disk) names the file being written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)


def _named(e: OSError, path: Path) -> OSError:
    """The same error, naming `path` when it named nothing (a write that hit a full disk)."""
    if e.filename:
        return e
    out = OSError(e.errno, e.strerror or str(e), str(path)) if e.errno else OSError(f"{path}: {e}")
    out.__cause__ = e
    return out


def _temporary(path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:  # read-only or missing folder: name the file we meant to write
        raise OSError(e.errno, e.strerror or str(e), str(path)) from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
    return Path(tmp)


def _sync(tmp: Path) -> None:
    """Flush `tmp` to disk and give it the intended mode (0666 less the umask: 0644 under the usual
    022). Set here, after the writer: a writer that makes its file anew (safetensors' save_file
    creates it 0600) would otherwise leave its own mode on the output."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(tmp, 0o666 & ~_UMASK)


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path in the target's folder; on success rename it onto `path`."""
    path = Path(path)
    tmp = _temporary(path)
    try:
        try:
            yield tmp
            _sync(tmp)
            os.replace(tmp, path)
        except OSError as e:
            named = _named(e, path)
            if named is e:
                raise
            raise named from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_with(path: str | Path, writer: Callable[[Path], None]) -> None:
    """Atomically create `path` with `writer(tmp_path)`."""
    with atomic_path(path) as tmp:
        writer(tmp)


def replace_set(folder: str | Path, files: Mapping[str, str | bytes | Callable[[Path], None] | None],
                marker: str) -> None:
    """Replace the files of a result set in `folder` as a whole. `files` maps each name of the set
    to its content (text, bytes, or a writer of a path), or to None for a file the new set does not
    have (removed). `marker` (one of the names) is the commit marker: readers trust the set only
    when it exists.

    Every file is first staged under a temporary name; then the marker is removed, the other files
    are renamed into place (or removed), and the marker is renamed last. A run killed at any point
    leaves either the old set, or a set without its marker, never new files beside an old marker."""
    folder = Path(folder)
    if marker not in files or files[marker] is None:
        raise ValueError(f"replace_set: the marker {marker!r} must be one of the files written")
    staged: dict[str, Path] = {}
    try:
        for name, content in files.items():
            if content is None:
                continue
            tmp = _temporary(folder / name)
            staged[name] = tmp
            try:
                if isinstance(content, str):
                    tmp.write_bytes(content.encode("utf-8"))
                elif isinstance(content, bytes):
                    tmp.write_bytes(content)
                else:
                    content(tmp)
                _sync(tmp)
            except OSError as e:
                raise _named(e, folder / name) from None
        (folder / marker).unlink(missing_ok=True)
        for name in files:
            if name == marker:
                continue
            if name in staged:
                os.replace(staged[name], folder / name)
                del staged[name]
            else:
                (folder / name).unlink(missing_ok=True)
        os.replace(staged[marker], folder / marker)
        del staged[marker]
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)


def clean_temporaries(folder: str | Path) -> int:
    """Remove temporaries left by a killed run; returns how many were removed. Call it only while
    holding the folder's lock (`data.lock.folder_lock`): a live writer's temporaries look the same."""
    n = 0
    for p in Path(folder).glob(".*.tmp"):
        p.unlink(missing_ok=True)
        n += 1
    return n
