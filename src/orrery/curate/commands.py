"""CLI verbs of orrery.curate: `orrery curate INPUT --out DIR [--config curate.yaml] [--workers N]
[--executor local|ray] [--ray-address ADDR]`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("curate")
    def curate_cmd(
        input: Path = typer.Argument(..., help="a folder of videos, one video, or a text file listing paths"),
        out: Path = typer.Option(..., "--out", help="dataset folder to write (resumes if it exists)"),
        config: Path | None = typer.Option(None, "--config", help="curate.yaml (defaults if omitted)"),
        workers: int = typer.Option(1, "--workers", min=1, help="parallel tasks (one input per task)"),
        executor: str = typer.Option("local", "--executor", help="local | ray"),
        ray_address: str | None = typer.Option(None, "--ray-address", help="an existing Ray cluster"),
        quiet: bool = typer.Option(False, "--quiet", help="no progress bars"),
    ) -> None:
        """Curate real video into shards + manifest.parquet + rejected.parquet + datasheet.md:
        shot detection, split and transcode, filters, dedup, captions, privacy guard."""
        from rich.console import Console
        from rich.table import Table

        from .config import ConfigError, load_config
        from .pipeline import InputError, curate
        from .privacy import PrivacyGuardError

        err = Console(stderr=True)
        if executor not in ("local", "ray"):
            raise typer.BadParameter(f"{executor!r} is not one of 'local', 'ray'", param_hint="--executor")
        try:
            cfg = load_config(config)
            summary = curate(input, out, cfg, workers=workers, executor=executor, ray_address=ray_address,
                             progress=not quiet)
        except (ConfigError, InputError, PrivacyGuardError) as e:
            err.print(f"[red]orrery curate:[/red] {e}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except RuntimeError as e:  # e.g. Ray missing or unreachable
            err.print(f"[red]orrery curate:[/red] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        con = Console()
        con.print(f"{summary['inputs']} input(s): [green]{summary['kept']} clip(s) kept[/green] in "
                  f"{len(summary['shards'])} shard(s); {summary['rejected']} set aside -> {out}")
        if summary["reasons"]:
            t = Table("reason", "count", title="set aside, by reason")
            for k, v in summary["reasons"].items():
                t.add_row(k, str(v))
            con.print(t)
