"""Options every verb shares, written once."""

from __future__ import annotations

from pathlib import Path

import typer

from ..config import ConfigError

CONFIG = typer.Option(None, "--config", help="YAML file with this verb's settings (layered over the preset)")
SETS = typer.Option([], "--set", help="one setting a.b=value (repeatable), e.g. --set train.lr=3e-4")
PROGRESS = typer.Option(True, "--progress/--no-progress", help="progress display (plain log lines when not "
                                                                "on a terminal)")
QUIET = typer.Option(False, "--quiet", "-q", help="print only the results")


def check_executor(executor: str) -> None:
    """Before any work: a known executor, and Ray installed when it is asked for (one line saying
    how to install it)."""
    if executor not in ("local", "ray"):
        raise ConfigError("--executor", f"{executor!r} is not one of local, ray")
    if executor == "ray":
        from ..exec.executors import require_ray

        require_ray()


def option_sets(**values) -> list[str]:
    """Command-line options given explicitly (not None) as `key=value` settings, so they layer
    over `--config` like `--set` does."""
    import json

    return [f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in values.items() if v is not None]


def existing(path: Path | None, what: str) -> Path | None:
    if path is not None and not path.exists():
        raise ConfigError(what, f"{path}: no such file or folder")
    return path


def input_file(path: Path, what: str) -> Path:
    """An input that must be a regular file: missing, a folder, a FIFO or a device is one line
    before anything opens it (reading a FIFO can wait forever)."""
    if not path.exists():
        raise ConfigError(what, f"{path}: no such file")
    if not path.is_file():
        raise ConfigError(what, f"{path}: not a regular file (a folder, FIFO or device?)")
    return path
