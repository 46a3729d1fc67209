"""CLI verbs of orrery.sim (written with the simulate pipeline)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
