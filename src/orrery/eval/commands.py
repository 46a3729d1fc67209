"""CLI verbs of orrery.eval: `orrery evaluate` and `orrery bench export|score`."""

from __future__ import annotations

from pathlib import Path

import typer


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate_cmd(
        model: str = typer.Option(..., "--model", help="baseline:NAME (copy-last, constant-velocity, linear-flow, "
                                                       "simulator) or a training run folder"),
        data: Path = typer.Option(..., "--data", help="dataset folder made by `orrery simulate`"),
        split: str = typer.Option("test", "--split", help="train, val, test or test_ood"),
        out: Path = typer.Option(..., "--out", help="folder for metrics.parquet, summary.json, report.html"),
        context: int = typer.Option(4, "--context", help="context frames given to the model"),
        horizon: int = typer.Option(12, "--horizon", help="future frames to predict"),
        start: int = typer.Option(0, "--start", help="clip frame where the context begins"),
        baselines: str = typer.Option("copy-last,constant-velocity", "--baselines",
                                      help="comma-separated baselines scored beside the model ('' for none)"),
        limit: int = typer.Option(0, "--limit", help="evaluate at most this many clips (0 = all)"),
        batch_size: int = typer.Option(8, "--batch-size"),
    ) -> None:
        """Measure a world model's physics against the simulator: metrics.parquet, summary.json, report.html."""
        from ..models.baselines import BASELINES
        from .evaluate import evaluate
        from .loading import ModelLoadError

        names = tuple(b.strip() for b in baselines.split(",") if b.strip())
        for b in names:
            if b not in BASELINES:
                _fail(f"--baselines: unknown baseline {b!r}; choose from {', '.join(BASELINES)}")
        if not data.is_dir():
            _fail(f"--data {data}: no such folder")
        try:
            summary = evaluate(model, data, split, out, context=context, horizon=horizon, start=start,
                               baselines=names, batch_size=batch_size, limit=limit or None)
        except (ModelLoadError, ValueError, FileNotFoundError) as e:
            _fail(str(e))
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"{summary['main']} on {split} ({summary['n_clips']} clips)")
        t.add_column("metric")
        for m in summary["models"]:
            t.add_column(m.removeprefix("baseline:"), justify="right")
        for name in ("position_error_px", "velocity_error_per_frame", "acceleration_error", "energy_change_error",
                     "objects_lost", "psnr"):
            t.add_row(name, *[f"{summary['overall'][m].get(name, float('nan')):.3g}" for m in summary["models"]])
        Console(width=max(100, 24 + 16 * len(summary["models"]))).print(t)
        typer.echo(f"wrote {out / 'report.html'}")

    bench = typer.Typer(help="Benchmark for outside models: export context frames, score their videos.",
                        no_args_is_help=True)
    app.add_typer(bench, name="bench")

    @bench.command("export")
    def export_cmd(
        data: Path = typer.Option(..., "--data", help="dataset folder made by `orrery simulate`"),
        split: str = typer.Option("test", "--split"),
        out: Path = typer.Option(..., "--out", help="benchmark folder to write"),
        context: int = typer.Option(4, "--context"),
        horizon: int = typer.Option(12, "--horizon"),
        start: int = typer.Option(0, "--start"),
        limit: int = typer.Option(0, "--limit", help="at most this many clips (0 = all)"),
    ) -> None:
        """Write what an outside model needs: context MP4 + PNGs, prompts.jsonl, README, answer key."""
        from .bench import bench_export

        if not data.is_dir():
            _fail(f"--data {data}: no such folder")
        try:
            info = bench_export(data, split, out, context=context, horizon=horizon, start=start, limit=limit or None)
        except (ValueError, FileNotFoundError) as e:
            _fail(str(e))
        typer.echo(f"exported {info['n_items']} items to {out} ({len(info['skipped'])} clips skipped)")

    @bench.command("score")
    def score_cmd(
        bench_dir: Path = typer.Option(..., "--bench", help="folder written by `orrery bench export`"),
        videos: Path = typer.Option(..., "--videos", help="folder of KEY.mp4 predictions"),
        out: Path = typer.Option(None, "--out", help="where to write results (default: VIDEOS/../score)"),
        skip: int = typer.Option(0, "--skip", help="leading frames of each video to drop (if it repeats the context)"),
    ) -> None:
        """Score a folder of videos made by any model; problems with single videos are listed, not fatal."""
        from .bench import bench_score

        if not bench_dir.is_dir():
            _fail(f"--bench {bench_dir}: no such folder")
        if not videos.is_dir():
            _fail(f"--videos {videos}: no such folder")
        try:
            res = bench_score(bench_dir, videos, out or videos.parent / "score", skip=skip)
        except (ValueError, FileNotFoundError) as e:
            _fail(str(e))
        for status, keys in sorted(res["status"].items()):
            if status != "ok" and keys:
                typer.echo(f"{status}: {len(keys)} ({', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''})")
        typer.echo(f"scored {len(res['status'].get('ok', [])) + len(res['status'].get('short', []))} videos; "
                   f"wrote {res['out']}")
