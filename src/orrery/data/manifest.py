"""The manifest: one Parquet row per clip (key, split, shard, scenario or source, flattened
parameters, summary statistics). Written atomically; rows are sorted by (split, key)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import atomic_path

SPLITS = ("train", "val", "test", "test_ood")


def write_manifest(path: str | Path, rows: list[dict]) -> None:
    """Rows (dicts; missing columns become null) -> Parquet, atomically."""
    rows = sorted(rows, key=lambda r: (SPLITS.index(r["split"]) if r.get("split") in SPLITS else 99, r["key"]))
    columns: dict[str, None] = {}
    for r in rows:
        for k in r:
            columns.setdefault(k, None)
    table = pa.Table.from_pylist([{k: r.get(k) for k in columns} for r in rows])
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_manifest(path: str | Path) -> pa.Table:
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no manifest; is this a dataset folder made by `orrery simulate` or `orrery curate`?")
    return pq.read_table(path)
