"""`orrery engine run|scale|report`: the closed data loop."""

from __future__ import annotations

import typer


def _not_built(ctx: typer.Context) -> None:
    """(not built yet) the closed loop: mine failures, simulate more there, retrain."""
    typer.echo(f"orrery engine {ctx.info_name}: not built yet.", err=True)
    raise typer.Exit(2)


VERBS = [("run", _not_built), ("scale", _not_built), ("report", _not_built)]
