"""`orrery engine run|scale|report`: the closed data loop and the data-scaling study."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import QUIET, SETS, check_executor


def run(
    spec: Path = typer.Argument(..., help="engine spec YAML (see specs/engine.yaml)"),
    out: Path = typer.Option(..., "--out", help="engine folder (re-running resumes it)"),
    set_: list[str] = SETS,
    workers: int = typer.Option(1, "--workers", min=1, help="parallel simulate tasks"),
    executor: str = typer.Option("local", "--executor", help="local | ray"),
    ray_address: str = typer.Option(None, "--ray-address", help="address of a running Ray cluster"),
    progress: bool = typer.Option(True, "--progress/--no-progress",
                                  help="training progress (bars on a terminal, log lines otherwise)"),
    quiet: bool = QUIET,
) -> None:
    """Find where the model breaks, simulate exactly there, retrain; every arm at equal compute.
    Writes results.json and report.html."""
    from ..engine.analysis import headline
    from ..engine.loop import run_engine
    from ..engine.report import write_engine_report

    check_executor(executor)
    results = run_engine(spec, out, executor, workers, ray_address, list(set_), progress=progress)
    _print_headline(results, headline)
    typer.echo(f"report: {write_engine_report(out)}")


def scale(
    spec: Path = typer.Argument(..., help="engine spec YAML (its world, start ranges, model and seeds)"),
    out: Path = typer.Option(..., "--out", help="engine folder (may be the one of `engine run`)"),
    sizes: str = typer.Option("16,32,64,128,256", "--sizes", help="training clips per run (comma-separated)"),
    seeds: str = typer.Option("0,1", "--seeds", help="seeds per size"),
    steps: int = typer.Option(600, "--steps", min=1, help="training steps of every run"),
    points: int = typer.Option(4, "--points", min=1, help="checkpoints measured per run (the steps axis)"),
    set_: list[str] = SETS,
    workers: int = typer.Option(1, "--workers", min=1, help="runs in parallel"),
    executor: str = typer.Option("local", "--executor", help="local | ray"),
    ray_address: str = typer.Option(None, "--ray-address"),
    progress: bool = typer.Option(False, "--progress/--no-progress", help="(runs train in parallel: no bars)"),
    quiet: bool = QUIET,
) -> None:
    """Train the same preset on 2^k clips (each size and seed one task on the executor); fit a power law."""
    from ..config import ConfigError
    from ..engine.report import write_engine_report
    from ..engine.scale import run_scale

    check_executor(executor)
    try:
        size_list = [int(x) for x in sizes.split(",") if x.strip()]
        seed_list = [int(x) for x in seeds.split(",") if x.strip()]
    except ValueError:
        raise ConfigError("--sizes/--seeds", f"expected comma-separated integers, got {sizes!r} / {seeds!r}") from None
    if len(size_list) < 2 or min(size_list) < 1:
        raise ConfigError("--sizes", f"need at least two sizes >= 1, got {size_list}")
    if not seed_list:
        raise ConfigError("--seeds", "need at least one seed")
    res = run_scale(spec, out, size_list, seed_list, steps, points, executor, workers, ray_address, list(set_))
    for name, f in res["fit"].items():
        typer.echo(f"{name.upper()}: error ~ {f['a']:.3g} * n^-{f['b']:.3f} (exponent spread over seeds {f['b_std']:.3f})")
    if (out / "results.json").exists():
        typer.echo(f"report: {write_engine_report(out)}")


def report(folder: Path = typer.Argument(..., help="an engine folder")) -> None:
    """Write FOLDER/report.html from its results (and its scaling study, if any)."""
    import json

    from ..engine.analysis import headline
    from ..engine.report import write_engine_report

    path = write_engine_report(folder)
    _print_headline(json.loads((folder / "results.json").read_text()), headline)
    typer.echo(f"report: {path}")


def _print_headline(results: dict, headline) -> None:
    import math

    for arm in results["spec"]["arms"]:
        if arm == "uniform":
            continue
        h = headline(results, arm)
        if not h:
            continue
        ratio = (f"{h['ratio_mean']:.2f} ± {h['ratio_std']:.2f}" if math.isfinite(h["ratio_mean"])
                 else f"not reached in {len(h['ratios']) - h['reached']}/{len(h['ratios'])} seeds")
        typer.echo(f"{arm}: clips to reach uniform's final weak-cell error / uniform's clips = {ratio}; "
                   f"final overall error vs uniform {h['overall_diff_mean']:+.3f} ± {h['overall_diff_std']:.3f} px")


VERBS = [("run", run), ("scale", scale), ("report", report)]
