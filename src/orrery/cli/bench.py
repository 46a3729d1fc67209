"""`orrery bench export|score`: the benchmark for outside models."""

from __future__ import annotations

from pathlib import Path

import typer

from ..config import ConfigError
from .common import PROGRESS, QUIET


def export(
    data: Path = typer.Option(None, "--data", help="dataset folder made by `orrery simulate`"),
    suite: str = typer.Option(None, "--suite", help="a versioned benchmark suite instead of --data "
                                                   "(physics-v1): simulated from its fixed spec, every split"),
    split: str = typer.Option("test", "--split"),
    out: Path = typer.Option(..., "--out", help="benchmark folder to write"),
    context: int = typer.Option(4, "--context", min=1),
    horizon: int = typer.Option(12, "--horizon", min=1),
    start: int = typer.Option(0, "--start", min=0),
    limit: int = typer.Option(0, "--limit", min=0, help="at most this many clips (0 = all)"),
) -> None:
    """Write what an outside model needs: context MP4 + PNGs, prompts.jsonl, README, answer key."""
    from ..eval.bench import bench_export

    if suite is not None:
        export_suite(suite, out, data)
        return
    if data is None:
        raise ConfigError("--data", "give a dataset folder (or --suite NAME)")
    if not data.is_dir():
        raise ConfigError("--data", f"{data}: no such folder")
    info = bench_export(data, split, out, context=context, horizon=horizon, start=start, limit=limit or None)
    typer.echo(f"exported {info['n_items']} items to {out} ({len(info['skipped'])} clips skipped)")


def export_suite(name: str, out: Path, data: Path | None) -> None:
    from ..eval.suite import SUITES
    from ..eval.suite import export_suite as run

    if data is not None:
        raise ConfigError("--suite", "a suite is simulated from its own spec; give --suite or --data, not both")
    if name not in SUITES:
        raise ConfigError("--suite", f"unknown suite {name!r}; the suites are {', '.join(SUITES)}")
    doc = run(name, out, progress=True)
    typer.echo(f"exported suite {name} (format {doc['format']}): " + ", ".join(
        f"{split} {n} items" for split, n in doc["splits"].items()) + f" to {out}")


def score(
    bench_dir: Path = typer.Option(..., "--bench", help="folder written by `orrery bench export`"),
    videos: Path = typer.Option(..., "--videos", help="folder of KEY.mp4 predictions"),
    out: Path = typer.Option(None, "--out", help="where to write results (default: VIDEOS/../score)"),
    skip: int = typer.Option(0, "--skip", min=0, help="leading frames of each video to drop (if it repeats "
                                                      "the context)"),
    progress: bool = PROGRESS,
    quiet: bool = QUIET,
) -> None:
    """Score a folder of videos made by any model; problems with single videos are listed, not fatal."""
    from ..eval.bench import bench_score

    if not bench_dir.is_dir():
        raise ConfigError("--bench", f"{bench_dir}: no such folder")
    if not videos.is_dir():
        raise ConfigError("--videos", f"{videos}: no such folder")
    res = bench_score(bench_dir, videos, out or videos.parent / "score", skip=skip)
    for status, keys in sorted(res["status"].items()):
        if status != "ok" and keys and not quiet:
            typer.echo(f"{status}: {len(keys)} ({', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''})")
    typer.echo(f"scored {len(res['status'].get('ok', [])) + len(res['status'].get('short', []))} videos; "
               f"wrote {res['out']}")
