"""The `orrery` command. Thin: each part registers its own verbs from `orrery.<part>.commands`,
which parse and validate arguments and call that part's functions (imported lazily so that
`orrery --help` stays fast)."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="orrery: physically exact synthetic video, world models, and their measurement "
                       "against physical laws.")

# Order is the order of the help text.
_PARTS = ("sim", "curate", "train", "tokenizer", "models", "eval", "engine", "report")


@app.command()
def version() -> None:
    """Print the orrery version."""
    from orrery import __version__

    typer.echo(__version__)


for _part in _PARTS:
    importlib.import_module(f"orrery.{_part}.commands").register(app)


def main() -> None:
    app()
