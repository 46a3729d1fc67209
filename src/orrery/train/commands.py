"""`orrery train <what>`: one sub-command per trainable thing, each registered by its own part."""

from __future__ import annotations

import importlib

import typer


def register(app: typer.Typer) -> None:
    train_app = typer.Typer(no_args_is_help=True, help="Train a tokenizer or a world model.")
    for part in ("tokenizer", "models"):
        importlib.import_module(f"orrery.{part}.commands").register_train(train_app)
    app.add_typer(train_app, name="train")
