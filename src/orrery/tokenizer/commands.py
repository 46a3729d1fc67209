"""CLI verbs of orrery.tokenizer (not built yet: each says so plainly and exits non-zero)."""

from __future__ import annotations

import typer

NOT_BUILT = ("tokenize", "evaluate-tokenizer")


def register(app: typer.Typer) -> None:
    for verb in NOT_BUILT:
        def _cmd(ctx: typer.Context, verb: str = verb) -> None:
            typer.echo(f"orrery {verb}: not built yet.", err=True)
            raise typer.Exit(2)

        app.command(verb, help=f"(not built yet) {verb}", context_settings={"allow_extra_args": True,
                    "ignore_unknown_options": True})(_cmd)


def register_train(train_app: typer.Typer) -> None:
    @train_app.command("tokenizer", help="(not built yet) train a tokenizer",
                       context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def _train(ctx: typer.Context) -> None:
        typer.echo("orrery train tokenizer: not built yet.", err=True)
        raise typer.Exit(2)
