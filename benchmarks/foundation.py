"""One world model for every law: simulate the foundation spec, train the `foundation` preset on all
eleven laws, evaluate it in and out of distribution beside the baselines and the floor, and print
the per-scenario table (position error in px, mean over the predicted frames).

    python benchmarks/foundation.py --out runs/foundation                        # 32 px on CPU
    python benchmarks/foundation.py --out runs/foundation-64 --spec foundation-64 --preset foundation-64
    python benchmarks/foundation.py --out /tmp/f --smoke                         # seconds (a default test)

Each step is skipped when its output exists (rerun to resume). The run folder is
OUT/run; the evaluations OUT/eval-test and OUT/eval-test_ood (report.html each); the table
OUT/table.md and OUT/table.json."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import yaml

from orrery.checkpoint import latest_checkpoint
from orrery.data.progress import configure_logging
from orrery.eval.evaluate import evaluate
from orrery.recipes.world import resolve_world_config, train_world
from orrery.sim.simulate import simulate

SPECS = Path(__file__).resolve().parents[1] / "src" / "orrery" / "specs"
BASELINES = ("copy-last", "constant-velocity")
SMOKE = {"spec": {"name": "smoke", "seed": 0, "video": {"size": 32, "fps": 15, "frames": 6, "physics_hz": 240},
                  "shard_size": 16,
                  "scenarios": [{"scenario": "bounce", "clips": {"train": 2, "test": 1, "test_ood": 1},
                                 "ood": {"restitution": [[0.95, 1.0]]}},
                                {"scenario": "push", "clips": {"train": 2, "test": 1, "test_ood": 1},
                                 "ood": {"count": [[4, 4]]}}]},
         "sets": ["model.channels=[8,8]", "model.cond_dim=8", "model.text_dim=8", "model.context=2",
                  "train.steps=2", "train.batch_size=4", "train.val_every=0", "train.ckpt_every=0",
                  "data.val_split="],
         "context": 2, "horizon": 2}


def per_scenario(summaries: dict[str, dict]) -> list[dict]:
    """Rows {scenario, split, model, position_error_px} from the evaluations' summaries."""
    rows = []
    for split, s in summaries.items():
        for r in s["table"]:
            if r["metric"] == "position_error_px":
                rows.append({"scenario": r["scenario"], "split": split, "model": r["model"], "px": r["mean"],
                             "clips": r["clips"]})
    return rows


def markdown(rows: list[dict], main: str) -> str:
    """scenario | split | model | copy-last | constant-velocity | floor, position error in px."""
    models = [main, *(f"baseline:{b}" for b in BASELINES), "floor"]
    cell = {(r["scenario"], r["split"], r["model"]): r["px"] for r in rows}
    keys = sorted({(r["scenario"], r["split"]) for r in rows})
    head = "| scenario | split | model | copy-last | constant-velocity | floor |"
    lines = [head, "|" + "---|" * 6]
    for sc, sp in keys:
        vals = [cell.get((sc, sp, m), math.nan) for m in models]
        lines.append(f"| {sc} | {sp} | " + " | ".join("–" if math.isnan(v) else f"{v:.3f}" for v in vals) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--spec", default="foundation", help="a spec shipped in src/orrery/specs, or a YAML path")
    p.add_argument("--family", default="deterministic", choices=["deterministic", "pixel"])
    p.add_argument("--preset", default="foundation")
    p.add_argument("--set", dest="sets", action="append", default=[], help="a.b=v for training")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--context", type=int, default=4)
    p.add_argument("--horizon", type=int, default=12)
    p.add_argument("--smoke", action="store_true")
    a = p.parse_args(argv)
    configure_logging()  # progress lines on stderr when the output is a log file, as the CLI does
    if a.smoke:
        spec, a.preset, a.sets = SMOKE["spec"], "tiny", SMOKE["sets"] + a.sets
        a.context, a.horizon = SMOKE["context"], SMOKE["horizon"]
    else:
        path = SPECS / f"{a.spec}.yaml" if (SPECS / f"{a.spec}.yaml").exists() else Path(a.spec)
        spec = yaml.safe_load(path.read_text())
    data, run = a.out / "data", a.out / "run"
    if not (data / "manifest.parquet").exists():
        simulate(spec, data, workers=a.workers, progress=not a.smoke)
    steps = resolve_world_config(a.family, a.preset, sets=a.sets).train.steps
    if latest_checkpoint(run) != steps:
        train_world(data, run, a.family, a.preset, sets=a.sets, progress=not a.smoke)
    summaries = {}
    for split in ("test", "test_ood"):
        where = a.out / f"eval-{split}"
        if not (where / "summary.json").exists():
            evaluate(str(run), data, split, where, progress=not a.smoke, baselines=BASELINES, context=a.context,
                     horizon=a.horizon)
        summaries[split] = json.loads((where / "summary.json").read_text())
    rows = per_scenario(summaries)
    table = markdown(rows, str(run))
    (a.out / "table.json").write_text(json.dumps(rows, indent=1, default=lambda x: None))
    (a.out / "table.md").write_text(table + "\n")
    print(f"position error (px, mean over {a.horizon} predicted frames) of {run}:\n{table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
