"""WebDataset shards: deterministic tar files written atomically, and their reading.

A sample is a key and a mapping of extension -> bytes (e.g. {'mp4': ..., 'json': ...}). Tar
members carry a fixed mtime and owner so that the same samples give byte-identical shards."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import orjson

from .atomic import atomic_path

# fixed tar mtime: shards are byte-identical across runs. An int: a float mtime makes tarfile add
# a 1 KB pax header to every member (30% of a 32 px shard)
_EPOCH = 0
SIDECARS = "sidecars"  # beside shards/, never in it: loaders read every file in shards/ as a tar


def sidecar_dir(shard_dir: str | Path) -> Path:
    """The folder of the sidecars of the shards in `shard_dir`: DIR/sidecars/ for DIR/shards/."""
    return Path(shard_dir).parent / SIDECARS


def sidecar_path(shard_dir: str | Path, name: str) -> Path:
    """Where the sidecar of shard `name` (its manifest rows, rejected clips and record schema;
    simulate's per-shard completion marker) lives: DIR/sidecars/NAME.rows.json for DIR/shards/."""
    return sidecar_dir(shard_dir) / f"{name}.rows.json"


def shard_done(shard_dir: str | Path, name: str) -> bool:
    """A shard is complete when its tar and its sidecar (written after it) both exist."""
    return (Path(shard_dir) / f"{name}.tar").exists() and sidecar_path(shard_dir, name).exists()


def adopt_old_sidecars(shard_dir: str | Path) -> int:
    """Move sidecars that older versions wrote inside shards/ to their place; returns how many."""
    n = 0
    for old in Path(shard_dir).glob("*.rows.json"):
        new = sidecar_path(shard_dir, old.name.removesuffix(".rows.json"))
        new.parent.mkdir(parents=True, exist_ok=True)
        old.replace(new)
        n += 1
    return n


def write_shard(path: str | Path, samples: Iterable[tuple[str, dict[str, bytes]]]) -> int:
    """Write samples to a tar shard atomically; returns the number written. Keys must not contain '.'.

    The bytes are those of webdataset's TarWriter (a stream-mode tar, members `KEY.EXT` in sorted
    order, fixed mtime, owner and mode); written with tarfile directly because importing
    webdataset imports torch, over a second of every simulate process and of each worker."""
    n = 0
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f, tarfile.open(fileobj=f, mode="w|") as tar:
            for key, members in samples:
                if "." in key or "/" in key:
                    raise ValueError(f"sample key {key!r}: must not contain '.' or '/'")
                for ext in sorted(members):
                    data = members[ext]
                    if not isinstance(data, (bytes, bytearray, memoryview)):
                        raise ValueError(f"sample {key!r}: member {ext!r} is {type(data).__name__}, not bytes")
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size, info.mtime, info.mode = len(data), _EPOCH, 0o644
                    info.uname = info.gname = "orrery"
                    tar.addfile(info, io.BytesIO(data))
                n += 1
    return n


def shard_members(path: str | Path) -> Iterator[tuple[str, str, int, int]]:
    """(key, extension, data offset, size) of every regular member of a tar shard, from its
    headers alone. Member names are never used as paths: only the part after the last '/' is read,
    as KEY.EXT. A bad header, a truncated file or a member reaching past the end of the file is a
    ValueError naming the shard."""
    path = Path(path)
    try:
        end = path.stat().st_size
        with tarfile.open(path, "r") as tar:
            for info in tar:
                if not info.isfile():
                    continue
                if info.offset_data + info.size > end:
                    raise ValueError(f"{path}: truncated: member {info.name!r} needs {info.size} bytes at "
                                     f"{info.offset_data}, the file ends at {end}")
                key, _, ext = info.name.rsplit("/", 1)[-1].partition(".")
                yield key, ext, info.offset_data, info.size
    except (tarfile.TarError, EOFError) as e:
        reason = " ".join(str(e).split())
        raise ValueError(f"{path}: not a readable tar shard, truncated or damaged ({type(e).__name__}: {reason})") from None


def read_shard(path: str | Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """Samples of one shard in order, as (key, {ext: bytes}). Member names are never used as paths."""
    current, members = None, {}
    with open(path, "rb") as f:
        for key, ext, offset, size in shard_members(path):
            if key != current and current is not None:
                yield current, members
                members = {}
            current = key
            f.seek(offset)
            members[ext] = f.read(size)
    if current is not None:
        yield current, members


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """Arrays -> compressed .npz bytes with fixed zip timestamps (np.savez stamps the wall clock)."""
    buf = io.BytesIO()
    # level 1: masks are mostly zeros; 10x faster than level 6 for ~1 KB more per 64 px clip
    with zipfile.ZipFile(buf, "w") as zf:
        for name, arr in arrays.items():
            inner = io.BytesIO()
            np.lib.format.write_array(inner, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            # a ZipInfo ignores the archive's level; give it here
            zf.writestr(info, inner.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return buf.getvalue()


def npz_load(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def json_bytes(obj) -> bytes:
    """Canonical JSON (sorted keys, compact) so equal records give equal bytes. orjson writes the
    same bytes as `json.dumps(sort_keys=True, separators=(",", ":"))` (tested) about 15x faster:
    the ground truth of a clip was the largest cost of simulate beyond encoding. It writes NaN as
    null; records are checked finite where they are made (`sim.simulate.make_clip`)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
