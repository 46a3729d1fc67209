"""The manifest: one Parquet row per clip (key, split, shard, scenario or source, flattened
parameters, summary statistics). Written atomically; rows are sorted by (split, key)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import atomic_path

SPLITS = ("train", "val", "test", "test_ood")
REQUIRED = ("key", "split", "shard")  # the columns every reader relies on


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


def read_manifest(path: str | Path, required: tuple[str, ...] = REQUIRED) -> pa.Table:
    """The manifest of a dataset folder (or a Parquet file of rows): a file that is not Parquet, a
    missing column or a key column that is not text is one ValueError naming the file."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no manifest; is this a dataset folder made by `orrery simulate` or `orrery curate`?")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        reason = " ".join(str(e).split())
        raise ValueError(f"{path}: not a readable Parquet manifest ({reason[:200]})") from None
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise ValueError(f"{path}: manifest has no column {missing[0]!r} (columns: "
                         f"{', '.join(table.column_names[:12])}); was it written by `orrery simulate` or `orrery curate`?")
    for c in ("key", "split"):
        if c not in table.column_names:
            continue
        if not pa.types.is_string(table.schema.field(c).type) and not pa.types.is_large_string(table.schema.field(c).type):
            raise ValueError(f"{path}: manifest column {c!r} holds {table.schema.field(c).type}, expected text")
    if "key" in table.column_names and table.column("key").null_count:
        raise ValueError(f"{path}: manifest column 'key' has empty rows")
    return table


def describe(root: str | Path, split: str = "train") -> dict:
    """What a split holds, for a model's record of its training data: the dataset's name, its clip
    count, its scenarios and each scenario's numeric parameter ranges [min, max] (and choices)."""
    root = Path(root)
    rows = [r for r in read_manifest(root).to_pylist() if r["split"] == split]
    ranges: dict[str, dict[str, list]] = {}
    for r in rows:
        scn = ranges.setdefault(str(r.get("scenario") or r.get("source") or "clips"), {})
        for k, v in r.items():
            if not k.startswith("param.") or v is None:
                continue
            name = k.removeprefix("param.")
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                lo, hi = scn.get(name, [v, v])
                scn[name] = [min(lo, v), max(hi, v)]
            else:
                scn[name] = sorted(set(scn.get(name, [])) | {str(v)})
    return {"dataset": root.resolve().name, "path": str(root.resolve()), "split": split, "clips": len(rows),
            "scenarios": {k: dict(sorted(v.items())) for k, v in sorted(ranges.items())}}
