"""The `orrery` command: one thin layer over the parts. Each verb parses and validates its
arguments and calls one function of a part; the list of verbs is `VERBS` below, and every error a
user can cause ends the same way — one line `error: THING: REASON` on stderr and exit code 2 —
through `_Errors`. (Set ORRERY_DEBUG=1 to see the traceback instead.)

Verb modules import only typer at the top, so `orrery --help` stays fast."""

from __future__ import annotations

import os
import sys

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from . import (
    actions,
    bench,
    curate,
    engine,
    evaluate,
    export,
    models,
    plan,
    quickstart,
    sim,
    tokenizer,
    verify,
)


class _Errors(TyperGroup):
    """Turns the errors a user can cause into one line and exit code 2, and Ctrl-C into exit 130."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (TyperException, typer.Exit, typer.Abort):
            # usage errors, and typer's Exit and Abort (RuntimeErrors, raised by --help in a
            # sub-command): typer's own handling, not a user error line. typer >= 0.29 carries its
            # own click: the `click` package is neither needed nor the one that raises.
            raise
        except KeyboardInterrupt:
            typer.echo("interrupted: the work done so far is kept; rerun the same command to resume", err=True)
            raise typer.Exit(130) from None
        except Exception as e:  # noqa: BLE001 - mapped to one line below, or re-raised
            line = user_error(e)
            if line is None or os.environ.get("ORRERY_DEBUG"):
                raise
            typer.echo(f"error: {line}", err=True)
            raise typer.Exit(2) from None


def user_error(e: BaseException) -> str | None:
    """The one-line message of an error a user can cause (bad input, config, file, disk), or None
    for a programming error (which keeps its traceback)."""
    from ..config import ConfigError

    if isinstance(e, ConfigError):
        return str(e)
    if isinstance(e, OSError):
        where = e.filename or ""
        reason = e.strerror or str(e)
        return f"{where}: {reason}" if where else reason
    if isinstance(e, (ValueError, FloatingPointError, RuntimeError, TimeoutError)) or type(e).__name__ in (
            "InputError", "PrivacyGuardError", "TaskError"):
        return " ".join(str(e).split("\n")[0].split()) or type(e).__name__
    return None


app = typer.Typer(cls=_Errors, no_args_is_help=True, add_completion=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="orrery: physically exact synthetic video, world models, and their measurement "
                       "against physical laws.")

# Every verb, in the order of the help text: (name, function) or (group, help, [(name, function)]).
VERBS = [
    ("quickstart", quickstart.quickstart),
    ("simulate", sim.simulate),
    ("curate", curate.curate),
    ("train", "Train a tokenizer or a world model.", [("tokenizer", tokenizer.train_tokenizer),
                                                      ("world", models.train_world)]),
    ("tokenize", "Encode clips to tokens/latents with a trained tokenizer, or decode them back.",
     [("encode", tokenizer.encode), ("decode", tokenizer.decode)]),
    ("evaluate-tokenizer", tokenizer.evaluate_tokenizer),
    ("rollout", models.rollout),
    ("evaluate", evaluate.evaluate),
    ("evaluate-actions", actions.evaluate_actions),
    ("plan", plan.plan),
    ("verify", verify.verify),
    ("bench", "Benchmark for outside models: export context frames, score their videos.",
     [("export", bench.export), ("score", bench.score)]),
    ("export", "Export a dataset in another ecosystem's format (LeRobot).", export.VERBS),
    ("engine", "The closed data loop: find where a model breaks, simulate there, retrain.",
     engine.VERBS),
]


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"orrery {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """orrery: physically exact synthetic video, world models, and their measurement against physical laws."""


@app.command("version")
def version() -> None:
    """Print the orrery version."""
    _version(True)


for _entry in VERBS:
    if len(_entry) == 2:
        app.command(_entry[0])(_entry[1])
    else:
        _name, _help, _subs = _entry
        _group = typer.Typer(no_args_is_help=True, help=_help, context_settings={"help_option_names": ["-h", "--help"]})
        for _sub, _fn in _subs:
            _group.command(_sub)(_fn)
        app.add_typer(_group, name=_name)


def main() -> None:
    from ..data.progress import configure_logging

    configure_logging()  # progress as log lines when not on a terminal; a verb's --quiet lowers it
    app(prog_name="orrery")


if __name__ == "__main__":  # `python -m orrery.cli`
    sys.exit(main())
