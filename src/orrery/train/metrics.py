"""`metrics.csv`: one row per logged step (train and validation numbers side by side).

The file is rewritten atomically on every flush (it is small), so a killed run never leaves a
torn row, and on resume the rows after the resumed step are dropped rather than duplicated."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from ..data.atomic import write_text


class MetricsLog:
    def __init__(self, path: str | Path, resume_step: int | None = None):
        self.path = Path(path)
        self.rows: list[dict[str, float]] = []
        if resume_step is not None and self.path.exists():
            with open(self.path, newline="") as f:
                for row in csv.DictReader(f):
                    parsed = {k: float(v) for k, v in row.items() if v not in ("", None)}
                    if parsed.get("step", math.inf) <= resume_step:
                        self.rows.append(parsed)

    def log(self, step: int, values: dict[str, float]) -> None:
        """Merge `values` into the row of `step` (train and validation logs of one step share a row)."""
        if self.rows and self.rows[-1].get("step") == step:
            self.rows[-1].update(values)
        else:
            self.rows.append({"step": float(step), **values})

    def flush(self) -> None:
        cols = ["step"]
        for r in self.rows:
            cols += [k for k in r if k not in cols]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow({k: (int(v) if k == "step" else f"{v:.6g}") for k, v in r.items()})
        write_text(self.path, buf.getvalue())

    def last(self, key: str) -> float | None:
        for r in reversed(self.rows):
            if key in r:
                return r[key]
        return None
