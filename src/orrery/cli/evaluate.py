"""`orrery evaluate`: a world model's physics measured against the simulator."""

from __future__ import annotations

from pathlib import Path

import typer

from ..config import ConfigError
from .common import CONFIG, PROGRESS, QUIET, SETS, option_sets


def evaluate(
    model: str = typer.Option(..., "--model", help="baseline:NAME (copy-last, constant-velocity, linear-flow, "
                                                   "simulator) or a training run folder"),
    data: Path = typer.Option(..., "--data", help="dataset folder made by `orrery simulate`"),
    split: str = typer.Option("test", "--split", help="train, val, test or test_ood"),
    out: Path = typer.Option(..., "--out", help="folder for metrics.parquet, summary.json, report.html"),
    config: Path | None = CONFIG,
    set_: list[str] = SETS,
    context: int = typer.Option(None, "--context", help="context frames given to the model (default 4)"),
    horizon: int = typer.Option(None, "--horizon", help="future frames to predict (default 12)"),
    start: int = typer.Option(None, "--start", help="clip frame where the context begins (default 0)"),
    baselines: str = typer.Option(None, "--baselines", help="comma-separated baselines scored beside the model "
                                                            "('' for none; default copy-last,constant-velocity)"),
    limit: int = typer.Option(None, "--limit", help="evaluate at most this many clips (0 = all)"),
    batch_size: int = typer.Option(None, "--batch-size", help="clips rolled out together (results do not "
                                                              "depend on it)"),
    seed: int = typer.Option(None, "--seed", help="sampling seed of a run-folder model (default 0)"),
    progress: bool = PROGRESS,
    quiet: bool = QUIET,
) -> None:
    """Measure a world model's physics against the simulator: metrics.parquet, summary.json, report.html."""
    from rich.console import Console
    from rich.table import Table

    from ..config import load
    from ..eval.evaluate import EvalConfig
    from ..eval.evaluate import evaluate as run

    names = None if baselines is None else [b.strip() for b in baselines.split(",") if b.strip()]
    cfg = load(EvalConfig, config, [*option_sets(context=context, horizon=horizon, start=start, baselines=names,
                                                 limit=limit, batch_size=batch_size, seed=seed), *set_])
    if not data.is_dir():
        raise ConfigError("--data", f"{data}: no such folder")
    summary = run(model, data, split, out, cfg=cfg, progress=progress and not quiet)
    t = Table(title=f"{summary['main']} on {split} ({summary['n_clips']} clips)")
    t.add_column("metric")
    for m in summary["models"]:
        t.add_column(m.removeprefix("baseline:"), justify="right")
    for name in ("position_error_px", "velocity_error_per_frame", "acceleration_error", "energy_change_error",
                 "objects_lost", "psnr"):
        t.add_row(name, *[f"{summary['overall'][m].get(name, float('nan')):.3g}" for m in summary["models"]])
    Console(width=max(100, 24 + 16 * len(summary["models"]))).print(t)
    typer.echo(f"wrote {out / 'report.html'}")
