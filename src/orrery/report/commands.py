"""CLI verbs of orrery.report: none of its own; reports are written by the verbs that make them."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
