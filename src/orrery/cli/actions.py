"""`orrery evaluate-actions`: the counterfactual action test (does a model obey its actions?).

A verb of its own rather than a flag of `evaluate`: it scores a model against futures that were
never recorded (the simulator re-runs each clip under other commands), feeds the same model three
kinds of actions, and reports a response ratio that has no per-clip, per-metric row in
`evaluate`'s tables."""

from __future__ import annotations

from pathlib import Path

import typer

from ..config import ConfigError
from .common import CONFIG, PROGRESS, QUIET, SETS, option_sets


def evaluate_actions(
    model: str = typer.Option(..., "--model", help="a run folder, `simulator` (the simulator driven by the given "
                                                   "actions: the ceiling) or baseline:NAME"),
    data: Path = typer.Option(..., "--data", help="dataset folder with push clips"),
    split: str = typer.Option("test", "--split", help="train, val, test or test_ood"),
    out: Path = typer.Option(..., "--out", help="folder for summary.json"),
    rotations: str = typer.Option(None, "--rotations", help="degrees the recorded commands are turned by, "
                                                             "comma-separated (default 0,90,180,270; 0 = recorded)"),
    context: int = typer.Option(None, "--context", help="context frames (default 4)"),
    horizon: int = typer.Option(None, "--horizon", help="future frames under each counterfactual (default 12)"),
    start: int = typer.Option(None, "--start", help="clip frame where the context begins (default 8)"),
    limit: int = typer.Option(None, "--limit", help="at most this many push clips (0 = all)"),
    config: Path | None = CONFIG,
    set_: list[str] = SETS,
    progress: bool = PROGRESS,
    quiet: bool = QUIET,
) -> None:
    """Counterfactual actions: position error against the re-run truth and the action response."""
    from ..config import load
    from ..eval.counterfactual import ActionTestConfig
    from ..eval.counterfactual import evaluate_actions as run

    rots = None
    if rotations is not None:
        try:
            rots = [float(x) for x in rotations.split(",") if x.strip()]
        except ValueError:
            raise ConfigError("--rotations", f"{rotations!r}: expected degrees like 0,90,180,270") from None
    cfg = load(ActionTestConfig, config, [*option_sets(context=context, horizon=horizon, start=start, limit=limit,
                                                       rotations=rots), *set_])
    if not data.is_dir():
        raise ConfigError("--data", f"{data}: no such folder")
    s = run(model, data, split, out, cfg)
    if quiet:
        typer.echo(f"wrote {out / 'summary.json'}")
        return
    typer.echo(f"{s['model']} on {split}: {s['variants']['given']['clips']} push clips x {len(cfg.rotations)} "
               f"counterfactuals ({', '.join(f'{r:g}' for r in cfg.rotations)} deg), horizon {cfg.horizon}")
    typer.echo(f"{'actions fed':<12}{'position error px':>20}{'response':>11}{'response (pusher)':>20}")
    for name, r in s["variants"].items():
        typer.echo(f"{name:<12}{_f(r['position_error_px']):>20}{_f(r['response']):>11}{_f(r['response_pusher']):>20}")
    typer.echo(f"wrote {out / 'summary.json'}")


def _f(x) -> str:
    return "n/a" if x is None or x != x else f"{x:.3g}"
