"""`orrery verify VIDEOS...`: physics checked from the videos alone, no ground truth."""

from __future__ import annotations

from pathlib import Path

import typer

from ..config import ConfigError


def verify(
    videos: list[Path] = typer.Argument(..., help="video files (.mp4, .webm, .mkv, .mov, .avi, .gif)"),
    out: Path = typer.Option(None, "--out", help="folder for verdicts.json and verdicts.csv"),
    layouts: Path = typer.Option(None, "--layouts", help="folder of clip records KEY.json (e.g. a benchmark's "
                                                       "answers/): the static layout of the scene of KEY.mp4"),
    fps: float = typer.Option(None, "--fps", min=0.001, help="frame rate, where a video states none"),
) -> None:
    """Check each video against the laws (free flight, energy, momentum, persistence, rigidity,
    interpenetration): one violation score per video and law, and the frames where it broke."""
    from ..verify import LAWS, verify_files

    for v in videos:
        if not v.is_file():
            raise ConfigError(str(v), "no such video file")
    if layouts is not None and not layouts.is_dir():
        raise ConfigError("--layouts", f"{layouts}: no such folder")
    verdicts, problems = verify_files(videos, out, layouts, fps)
    for v in verdicts:
        broken = [f"{law.name} {law.score:.2f} (frames {_span(law.frames)})" for law in v.laws if law.broken]
        typer.echo(f"{v.name}: score {v.score:.2f} {'FLAGGED: ' + '; '.join(broken) if broken else 'ok'}")
    for path, why in problems.items():
        typer.echo(f"{path}: not verified ({why})", err=True)
    if out is not None:
        typer.echo(f"wrote {out / 'verdicts.json'} and verdicts.csv ({len(LAWS)} laws)")
    if not verdicts:
        raise ValueError("no video could be verified")


def _span(frames: list[int]) -> str:
    return f"{frames[0]}-{frames[-1]}" if len(frames) > 1 else (str(frames[0]) if frames else "-")
