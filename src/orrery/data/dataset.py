"""Reading a dataset folder back: random access to clips by index, as `Clip` records or as a
torch Dataset of tensors.

Shards are indexed once on open (tar headers only: member offsets and sizes), so `clip(i)`
reads just that clip's bytes. Member names are never used as file paths."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from torch.utils.data import Dataset

from .batching import clip_item
from .clip import Clip
from .manifest import SPLITS, read_manifest
from .shards import shard_members


def check_shard_name(value, key: str, manifest: Path) -> str:
    """A manifest's `shard` value is the bare file name of a tar in DATASET/shards/ (what simulate
    and curate write). Anything else (a sub-path, '..', an absolute path) could point outside the
    dataset folder and is refused, naming the manifest row."""
    if (not isinstance(value, str) or not value or value in (".", "..") or "/" in value or "\\" in value
            or "\0" in value or Path(value).is_absolute()):
        raise ValueError(f"{manifest}: row {key!r}: shard {value!r} is not a plain file name in shards/ "
                         "(a manifest names shards by file name only)")
    return value


class ClipStore:
    """The clips of one split of a dataset folder, in manifest order."""

    def __init__(self, root: str | Path, split: str, scenarios: list[str] | None = None):
        self.root = Path(root)
        if split not in SPLITS:
            raise ValueError(f"split: {split!r} is not one of {SPLITS}")
        manifest = self.root / "manifest.parquet"
        table = read_manifest(self.root).to_pylist()
        check_unique_keys(table, manifest)
        rows = [r for r in table if r["split"] == split and (scenarios is None or r.get("scenario") in scenarios)]
        if not rows:
            have = sorted({str(r["split"]) for r in table})
            raise ValueError(f"{self.root}: split {split!r} has no clips"
                             + (f" for scenarios {scenarios}" if scenarios else "") + f" (splits present: {have})")
        for r in rows:
            check_shard_name(r["shard"], r["key"], manifest)
        self.rows = rows
        self.split = split
        self._index: dict[str, dict[str, tuple[str, int, int]]] = {}
        for shard in sorted({r["shard"] for r in rows}):
            self._index_shard(shard)
        missing = [r for r in rows if r["key"] not in self._index]
        if missing:
            raise ValueError(f"{self.root / 'shards' / missing[0]['shard']}: clip {missing[0]['key']!r} of the "
                             f"manifest is not in its shard ({len(missing)} clip(s) missing; truncated shard?)")

    def _index_shard(self, shard: str) -> None:
        path = self.root / "shards" / shard
        if not path.is_file():
            raise FileNotFoundError(f"{path}: shard named in the manifest is missing")
        for key, ext, offset, size in shard_members(path):
            self._index.setdefault(key, {})[ext] = (str(path), offset, size)

    def __len__(self) -> int:
        return len(self.rows)

    def has_member(self, i: int, ext: str) -> bool:
        """Whether clip i's sample holds member `ext` (e.g. 'masks.npz'), read from the index."""
        return ext in self._index[self.rows[i]["key"]]

    def members(self, i: int) -> dict[str, bytes]:
        out = {}
        for ext, (path, offset, size) in self._index[self.rows[i]["key"]].items():
            with open(path, "rb") as f:
                f.seek(offset)
                out[ext] = f.read(size)
        return out

    def digest(self, i: int) -> str:
        """sha256 of clip i's stored bytes (every member, by extension): names its content, so a
        result computed from it is reused only for the same clip (a dataset regenerated at the same
        path, with the same keys, has other digests)."""
        h = hashlib.sha256()
        for ext, data in sorted(self.members(i).items()):
            h.update(f"{ext}:{len(data)}:".encode())
            h.update(data)
        return h.hexdigest()

    def clip(self, i: int, decode: bool = True) -> Clip:
        """Clip i; a member that does not read (bad KEY.json, garbage video) is a ValueError naming
        the shard and the member."""
        key = self.rows[i]["key"]
        shard = self.root / "shards" / self.rows[i]["shard"]
        return Clip.from_sample(key, self.members(i), decode=decode, where=shard)

    def __iter__(self) -> Iterator[Clip]:
        for i in range(len(self)):
            yield self.clip(i)


def check_unique_keys(rows: list[dict], manifest: Path) -> None:
    """Two manifest rows with one key would count (and score) a clip twice: refused, naming it."""
    seen: set = set()
    for r in rows:
        if r["key"] in seen:
            raise ValueError(f"{manifest}: clip key {r['key']!r} appears more than once; a manifest lists "
                             "each clip once")
        seen.add(r["key"])


class ClipDataset(Dataset):
    """A torch Dataset over one split; items are `batching.clip_item` dicts, of fixed shapes within
    the dataset, so `DataLoader(ds, batch_size=8, shuffle=True)` batches them as they are.
    `cache=True` keeps decoded clips in memory (small datasets, many epochs); `with_meta=True` adds
    each clip's full record (batch it with `collate_clips`); `meta(i)` reads one record alone."""

    def __init__(self, root: str | Path, split: str, cache: bool = False, scenarios: list[str] | None = None,
                 with_meta: bool = False):
        self.store = ClipStore(root, split, scenarios)
        self.cache = cache
        self.with_meta = with_meta
        self._cache: dict[int, dict] = {}
        self.n_objects, self.action_dim = padding(self.store)

    def __len__(self) -> int:
        return len(self.store)

    def meta(self, i: int) -> dict:
        return self.store.clip(i, decode=False).meta

    def __getitem__(self, i: int) -> dict:
        if i in self._cache:
            return self._cache[i]
        item = clip_item(self.store.clip(i), self.n_objects, self.action_dim, self.with_meta)
        if self.cache:
            self._cache[i] = item
        return item


def padding(store: ClipStore) -> tuple[int, int]:
    """(objects, action values per step) that every item of the split is padded to: the most
    objects of any clip (the manifest's n_objects), and the action size of the split's actuated
    clips (read from one record per scenario, without decoding video). A manifest without an
    n_objects column (written by hand, or by an older tool) is counted from the records."""
    if all("n_objects" in r and r["n_objects"] is not None for r in store.rows):
        n_objects = max((int(r["n_objects"]) for r in store.rows), default=0)
    else:
        n_objects = max((len(store.clip(i, decode=False).meta.get("objects") or []) for i in range(len(store))),
                        default=0)
    action_dim = 0
    first: dict[str, int] = {}
    for i, r in enumerate(store.rows):
        first.setdefault(str(r.get("scenario", "")), i)
    for i in first.values():
        a = store.clip(i, decode=False).actions
        if a is not None and a.ndim == 2:
            action_dim = max(action_dim, a.shape[1])
    return n_objects, action_dim


def open_dataset(root: str | Path, split: str, cache: bool = False, scenarios: list[str] | None = None,
                 with_meta: bool = False) -> ClipDataset:
    """The torch Dataset of one split of a dataset folder made by `simulate` or `curate`."""
    return ClipDataset(root, split, cache=cache, scenarios=scenarios, with_meta=with_meta)
