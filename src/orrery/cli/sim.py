"""`orrery simulate SPEC --out DIR`: physics scenarios -> a dataset folder."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import SETS, check_executor


def simulate(
    spec: Path = typer.Argument(..., help="spec YAML (see specs/)"),
    out: Path = typer.Option(..., "--out", help="dataset folder to create (or resume)"),
    set_: list[str] = SETS,
    workers: int = typer.Option(1, "--workers", min=1, help="parallel shard tasks"),
    executor: str = typer.Option("local", "--executor", help="local | ray"),
    ray_address: str = typer.Option(None, "--ray-address", help="address of a running Ray cluster"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="progress bar (log lines when not on "
                                                                         "a terminal)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print only the result paths"),
) -> None:
    """Simulate physics scenarios into a dataset: shards, manifest, datasheet. SPEC is the config
    (`--config` of other verbs); `--set scenarios.0.clips.train=8` changes one value."""
    from rich.console import Console

    from ..data.progress import configure_logging
    from ..sim.simulate import simulate as run

    configure_logging(quiet)
    check_executor(executor)
    res = run(spec, out, workers=workers, executor=executor, ray_address=ray_address, sets=list(set_),
              progress=progress and not quiet)
    print_result(Console(quiet=False), res, quiet)


def print_result(console, res: dict, quiet: bool = False) -> None:
    from ..data.manifest import SPLITS

    if not quiet:
        counts = ", ".join(f"{s} {res['counts'][s]}" for s in SPLITS)
        console.print(f"clips: {counts}")
        if res["rejected"]:
            console.print(f"[yellow]{len(res['rejected'])} clip(s) set aside[/] (see rejected.parquet):")
            for r in res["rejected"][:10]:
                console.print(f"  {r['key']}: {r['reason']}")
    console.print(f"dataset: {res['out']}")
    console.print(f"datasheet: {res['datasheet']}")
