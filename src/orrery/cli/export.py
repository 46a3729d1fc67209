"""`orrery export lerobot DATA --out DIR`: a dataset in another ecosystem's format."""

from __future__ import annotations

from pathlib import Path

import typer


def lerobot(
    data: Path = typer.Argument(..., help="dataset folder with action clips (e.g. the push scenario)"),
    out: Path = typer.Option(..., "--out", help="new folder for the LeRobot dataset (v3.0 layout)"),
    split: list[str] = typer.Option(["train"], "--split", help="split(s) to export (repeatable)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print only the output folder"),
) -> None:
    """Export action clips as a LeRobot dataset: per-frame parquet (observation.state, action,
    timestamps, episode and frame indices), one video per episode, meta/info.json and stats."""
    from ..config import ConfigError
    from ..data.lerobot import export_lerobot

    if not (data / "manifest.parquet").exists():
        raise ConfigError("DATA", f"{data}: not a dataset folder (no manifest.parquet)")
    res = export_lerobot(data, out, tuple(split))
    if not quiet:
        typer.echo(f"episodes: {res['episodes']}, frames: {res['frames']}, tasks: {res['tasks']}")
    typer.echo(f"lerobot dataset: {res['out']}")


VERBS = [("lerobot", lerobot)]
