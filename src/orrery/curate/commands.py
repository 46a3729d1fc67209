"""CLI verbs of orrery.curate (not built yet: each says so plainly and exits non-zero)."""

from __future__ import annotations

import typer

NOT_BUILT = ("curate",)


def register(app: typer.Typer) -> None:
    for verb in NOT_BUILT:
        def _cmd(ctx: typer.Context, verb: str = verb) -> None:
            typer.echo(f"orrery {verb}: not built yet.", err=True)
            raise typer.Exit(2)

        app.command(verb, help=f"(not built yet) {verb}", context_settings={"allow_extra_args": True,
                    "ignore_unknown_options": True})(_cmd)
