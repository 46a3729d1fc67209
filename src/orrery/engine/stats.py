"""Per-cell statistics from an evaluation folder: the ruler's per-clip errors, grouped by the cells
each clip lies in."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from .cells import CellMap

ERROR = "position_error_px"  # the error a cell is judged by: mean over the horizon, then over clips


def clip_errors(eval_dir: Path, metric: str = ERROR) -> dict[str, dict[str, float]]:
    """{model name: {clip key: that clip's mean of `metric` over the horizon}} from metrics.parquet."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    t = pq.read_table(Path(eval_dir) / "metrics.parquet", columns=["model", "key", "metric", "value"])
    t = t.filter(pc.equal(t["metric"], metric))
    acc: dict[tuple[str, str], list[float]] = defaultdict(list)
    for m, k, v in zip(t["model"].to_pylist(), t["key"].to_pylist(), t["value"].to_pylist(), strict=True):
        if v is not None and np.isfinite(v):
            acc[(m, k)].append(v)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (m, k), vs in acc.items():
        out[m][k] = float(np.mean(vs))
    return dict(out)


def by_cell(cells: CellMap, rows: list[dict], errors: dict[str, float]) -> dict[str, tuple[float, int]]:
    """(mean error, clips) per cell for per-clip errors {key: value}; rows carry 'key' and 'cells'."""
    acc: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r["key"] in errors:
            for c in str(r.get("cells") or "").split(","):
                if c:
                    acc[c].append(errors[r["key"]])
    return {c: (float(np.mean(acc[c])), len(acc[c])) if acc.get(c) else (float("nan"), 0) for c in cells.ids()}


def cell_stats(cells: CellMap, rows: list[dict], model: dict[str, float], floor: dict[str, float],
               baseline: dict[str, float]) -> dict[str, dict]:
    """{cell: {'model', 'floor', 'baseline', 'n'}} (mean px)."""
    m, f, b = by_cell(cells, rows, model), by_cell(cells, rows, floor), by_cell(cells, rows, baseline)
    return {c: {"model": m[c][0], "floor": f[c][0], "baseline": b[c][0], "n": m[c][1]} for c in cells.ids()}


def mean_over(errors: dict[str, float], keys) -> float:
    vals = [errors[k] for k in keys if k in errors]
    return float(np.mean(vals)) if vals else float("nan")
