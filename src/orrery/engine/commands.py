"""CLI verbs of orrery.engine: `orrery quickstart` (the main job), and `orrery engine` (the closed
data loop, not built yet: it says so and exits non-zero)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def quickstart(
        out: Path = typer.Option(Path("runs/quickstart"), "--out", help="folder for data, run, evaluations"),
        preset: str = typer.Option("tiny", "--preset", help="world-model preset"),
        workers: int = typer.Option(1, "--workers", min=1, help="parallel simulate tasks"),
        set_: list[str] = typer.Option([], "--set", help="training override key=value (repeatable)"),
    ) -> None:
        """Simulate the embedded default, train a world model, evaluate it against physics; print report paths."""
        from rich.console import Console

        from .quickstart import quickstart as run

        console = Console()
        res = run(out, preset=preset, overrides=set_, workers=workers, console=console)
        console.print(f"datasheet: {res['datasheet']}")
        console.print(f"reports per split: {res['reports']['test']}, {res['reports']['test_ood']}")
        console.print(f"report: {res['reports']['comparison']}")

    @app.command("engine", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def engine(ctx: typer.Context) -> None:
        """(not built yet) the closed loop: mine failures, simulate more there, retrain."""
        typer.echo("orrery engine: not built yet (the closed data loop has no issue yet).", err=True)
        raise typer.Exit(2)
