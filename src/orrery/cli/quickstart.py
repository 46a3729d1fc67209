"""`orrery quickstart`: the main job on the embedded default spec."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import CONFIG, PROGRESS, QUIET, SETS


def quickstart(
    out: Path = typer.Option(Path("runs/quickstart"), "--out", help="folder for data, run, evaluations"),
    model: str = typer.Option("pixel", "--model", help="world-model family: pixel | deterministic | latent | "
                                                       "autoregressive (the last two train a tokenizer first)"),
    preset: str = typer.Option("tiny", "--preset", help="world-model preset"),
    config: Path | None = CONFIG,
    set_: list[str] = SETS,
    tokenizer: Path | None = typer.Option(None, "--tokenizer", help="latent families: use this tokenizer run "
                                                                    "instead of training one"),
    tokenizer_set: list[str] = typer.Option([], "--tokenizer-set", help="a setting of the tokenizer the "
                                                                       "quickstart trains, e.g. "
                                                                       "model.compression=4x4x4"),
    workers: int = typer.Option(1, "--workers", min=1, help="parallel simulate tasks"),
    progress: bool = PROGRESS,
    quiet: bool = QUIET,
) -> None:
    """Simulate the embedded default, (train a tokenizer,) train a world model, evaluate it against physics;
    print report paths. --config/--set apply to the world model's training config."""
    from rich.console import Console

    from ..data.progress import configure_logging
    from ..engine.quickstart import quickstart as run

    configure_logging(quiet)
    console = Console(quiet=quiet)
    res = run(out, family=model, preset=preset, config=config, sets=list(set_), workers=workers, console=console,
              progress=progress and not quiet, tokenizer=tokenizer, tokenizer_sets=list(tokenizer_set))
    console = Console()
    console.print(f"datasheet: {res['datasheet']}")
    console.print(f"reports per split: {res['reports']['test']}, {res['reports']['test_ood']}")
    console.print(f"report: {res['reports']['comparison']}")
