"""`orrery plan`: model-predictive control inside a world model, executed in the true simulator."""

from __future__ import annotations

from pathlib import Path

import typer

from ..config import ConfigError
from .common import CONFIG, PROGRESS, QUIET, SETS, check_executor, option_sets


def plan(
    model: str = typer.Option(..., "--model", help="a run folder (trained with push actions), `simulator` (the "
                                                   "ceiling) or `random` (the floor)"),
    data: Path = typer.Option(..., "--data", help="dataset folder with push clips (their worlds are the episodes)"),
    out: Path = typer.Option(..., "--out", help="folder for summary.json, report.html and parts/ (resumable)"),
    split: str = typer.Option("test", "--split", help="train, val, test or test_ood"),
    episodes: int = typer.Option(None, "--episodes", help="episodes (default 120, cycling through the distances)"),
    distances: str = typer.Option(None, "--distances", help="goal distances in metres, comma-separated "
                                                             "(default 1,2,3)"),
    steps: int = typer.Option(None, "--steps", help="T: commands per episode (default 45)"),
    compare: str = typer.Option("simulator,random", "--compare", help="planners run on the same episodes "
                                                                      "('' for none)"),
    workers: int = typer.Option(1, "--workers", min=1, help="episodes planned in parallel (each worker gets "
                                                             "its share of the cores)"),
    executor: str = typer.Option("local", "--executor", help="local | ray"),
    ray_address: str = typer.Option(None, "--ray-address", help="address of a running Ray cluster"),
    config: Path | None = CONFIG,
    set_: list[str] = SETS,
    progress: bool = PROGRESS,
    quiet: bool = QUIET,
) -> None:
    """Plan with a world model: push a named object to a goal; success from the simulator's states."""
    from ..act.plan import PlanConfig, run_plans
    from ..config import load

    dists = None
    if distances is not None:
        try:
            dists = [float(x) for x in distances.split(",") if x.strip()]
        except ValueError:
            raise ConfigError("--distances", f"{distances!r}: expected metres like 1,2,3") from None
    check_executor(executor)
    cfg = load(PlanConfig, config, [*option_sets(episodes=episodes, distances=dists, steps=steps), *set_])
    if not data.is_dir():
        raise ConfigError("--data", f"{data}: no such folder")
    names = tuple(c.strip() for c in compare.split(",") if c.strip())
    s = run_plans(model, data, split, out, cfg, compare=names, progress=progress and not quiet,
                  workers=workers, executor=executor, ray_address=ray_address)
    ds = list(next(iter(s["planners"].values()))["by_distance"])
    typer.echo(f"{'planner':<14}{'success':>9}" + "".join(f"{d + ' m':>8}" for d in ds) + f"{'s/action':>10}")
    for name, p in s["planners"].items():
        label = "model" if name == s["main"] and name not in ("simulator", "random") else name
        typer.echo(f"{label:<14}{_pct(p['success']):>9}" + "".join(f"{_pct(p['by_distance'][d]['success']):>8}"
                                                                for d in ds) + f"{p['seconds_per_action']:>10.3f}")
    norm = s.get("normalised_success")
    if norm:
        typer.echo(f"{'normalised':<14}{_num(norm['overall']):>9}" + "".join(f"{_num(norm['by_distance'][d]):>8}"
                                                                             for d in ds))
    typer.echo(f"wrote {out / 'report.html'}")


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _num(x) -> str:
    return "n/a" if x is None else f"{x:.2f}"
