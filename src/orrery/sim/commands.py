"""CLI verbs of orrery.sim: `orrery simulate`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        spec: Path = typer.Argument(..., help="spec YAML (see specs/)"),
        out: Path = typer.Option(..., "--out", help="dataset folder to create (or resume)"),
        workers: int = typer.Option(1, "--workers", min=1, help="parallel shard tasks"),
        executor: str = typer.Option("local", "--executor", help="local | ray"),
        ray_address: str = typer.Option(None, "--ray-address", help="address of a running Ray cluster"),
    ) -> None:
        """Simulate physics scenarios into a dataset: shards, manifest, datasheet."""
        from rich.console import Console

        from .params import SpecError
        from .simulate import simulate as run

        if executor not in ("local", "ray"):
            raise typer.BadParameter(f"{executor!r} is not one of local, ray", param_hint="--executor")
        try:
            res = run(spec, out, workers=workers, executor=executor, ray_address=ray_address)
        except SpecError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None
        print_result(Console(), res)


def print_result(console, res: dict) -> None:
    from ..data.manifest import SPLITS

    counts = ", ".join(f"{s} {res['counts'][s]}" for s in SPLITS)
    console.print(f"clips: {counts}")
    if res["rejected"]:
        console.print(f"[yellow]{len(res['rejected'])} clip(s) set aside[/] (see rejected.parquet):")
        for r in res["rejected"][:10]:
            console.print(f"  {r['key']}: {r['reason']}")
    console.print(f"dataset: {res['out']}")
    console.print(f"datasheet: {res['datasheet']}")
