"""benchmarks/foundation.py at smoke size: one model trained on every law of the spec (push with
its actions beside a law without), evaluated in and out of distribution, per-scenario table."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import torch

torch.set_num_threads(1)
PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "foundation.py"


def test_the_smoke_foundation_run_gives_a_per_scenario_table(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("foundation_bench", PATH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--out", str(tmp_path), "--smoke"]) == 0
    rows = json.loads((tmp_path / "table.json").read_text())
    cells = {(r["scenario"], r["split"], r["model"]) for r in rows}
    for sc in ("bounce", "push"):
        for split in ("test", "test_ood"):
            for model in (str(tmp_path / "run"), "baseline:copy-last", "baseline:constant-velocity", "floor"):
                assert (sc, split, model) in cells
    assert all(math.isfinite(r["px"]) for r in rows)
    side = json.loads(next((tmp_path / "run" / "checkpoints").glob("step-*.json")).read_text())
    assert side["config"]["model"]["action_dim"] == 2  # push's commands, zeros for bounce
    out = capsys.readouterr().out
    assert "| push | test_ood |" in out and (tmp_path / "table.md").exists()
