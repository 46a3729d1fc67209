"""`orrery curate INPUT --out DIR`: real video -> the dataset format."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import CONFIG, SETS, check_executor


def curate(
    input: Path = typer.Argument(..., help="a folder of videos, one video, or a text file listing paths"),
    out: Path = typer.Option(..., "--out", help="dataset folder to write (resumes if it exists)"),
    config: Path | None = CONFIG,
    set_: list[str] = SETS,
    workers: int = typer.Option(1, "--workers", min=1, help="parallel tasks (one input per task)"),
    executor: str = typer.Option("local", "--executor", help="local | ray"),
    ray_address: str | None = typer.Option(None, "--ray-address", help="an existing Ray cluster"),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress display"),
) -> None:
    """Curate real video into shards + manifest.parquet + rejected.parquet + datasheet.md:
    shot detection, split and transcode, filters, dedup, captions, privacy guard."""
    from rich.console import Console
    from rich.table import Table

    from ..curate.config import load_config
    from ..curate.pipeline import curate as run

    check_executor(executor)
    cfg = load_config(config, list(set_))
    summary = run(input, out, cfg, workers=workers, executor=executor, ray_address=ray_address,
                  progress=progress and not quiet)
    con = Console()
    con.print(f"{summary['inputs']} input(s): [green]{summary['kept']} clip(s) kept[/green] in "
              f"{len(summary['shards'])} shard(s); {summary['rejected']} set aside -> {out}")
    if summary["reasons"]:
        t = Table("reason", "count", title="set aside, by reason")
        for k, v in summary["reasons"].items():
            t.add_row(k, str(v))
        con.print(t)
