"""CLI verbs of orrery.models: `orrery rollout` and `orrery train world`."""

from __future__ import annotations

from pathlib import Path

import typer


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    @app.command()
    def rollout(
        model: Path = typer.Option(..., "--model", help="a run folder made by `orrery train world`"),
        context: Path = typer.Option(..., "--context", help="context clip (.mp4); its last Tc frames are used"),
        horizon: int = typer.Option(..., "--horizon", min=1, help="frames to predict"),
        out: Path = typer.Option(..., "--out", help="output .mp4 (context followed by the prediction)"),
        prompt: str = typer.Option(None, "--prompt", help="text prompt (models trained with captions)"),
        actions: Path = typer.Option(None, "--actions", help=".npy or .json float [Tc + horizon, A] actions"),
        seed: int = typer.Option(0, "--seed", help="sampling seed"),
        set_: list[str] = typer.Option([], "--set", help="inference override, e.g. --set steps=2"),
    ) -> None:
        """Predict the future of a clip with a trained world model and write it as a video."""
        import json

        import numpy as np

        from ..data.atomic import write_bytes
        from ..data.video import decode_mp4, encode_mp4
        from ..train.config import ConfigError
        from .base import Condition
        from .world import load_world_model

        if not context.exists():
            _fail(f"{context}: no such file")
        try:
            wm = load_world_model(model, seed=seed, overrides=set_)
        except (FileNotFoundError, ValueError, ConfigError) as e:
            _fail(f"{model}: {e}")
        try:
            frames, fps = decode_mp4(context.read_bytes())
        except Exception as e:  # noqa: BLE001 - any decoder failure is a bad input file
            _fail(f"{context}: cannot decode video ({e})")
        acts = None
        if actions is not None:
            if not actions.exists():
                _fail(f"{actions}: no such file")
            try:
                acts = (np.load(actions) if actions.suffix == ".npy"
                        else np.asarray(json.loads(actions.read_text()), np.float32))
            except (OSError, ValueError) as e:
                _fail(f"{actions}: cannot read actions ({e})")
            acts = np.asarray(acts, np.float32)
            if acts.ndim != 2:
                _fail(f"{actions}: expected [Tc + horizon, A] actions, got shape {list(acts.shape)}")
        tc = wm.context_frames
        ctx = frames[-tc:][None]
        cond = Condition(text=[prompt] if prompt is not None else None,
                         actions=None if acts is None else acts[None, -(ctx.shape[1] + horizon):])
        try:
            pred = wm.rollout(ctx, horizon, cond)[0]
        except ValueError as e:
            _fail(str(e))
        video = np.concatenate([ctx[0], pred], axis=0)
        write_bytes(out, encode_mp4(video, fps or 15.0, "yuv444p", 18))
        typer.echo(f"wrote {out}: {ctx.shape[1]} context + {horizon} predicted frames")


def register_train(train_app: typer.Typer) -> None:
    @train_app.command("world")
    def train_world_cmd(
        data: Path = typer.Option(..., "--data", help="dataset folder made by `orrery simulate`"),
        out: Path = typer.Option(..., "--out", help="run folder (re-running resumes it)"),
        model: str = typer.Option("diffusion", "--model", help="diffusion | autoregressive"),
        preset: str = typer.Option("tiny", "--preset", help="tiny | small | base"),
        tokenizer: Path = typer.Option(None, "--tokenizer", help="tokenizer run (latent models)"),
        set_: list[str] = typer.Option([], "--set", help="config override key=value, e.g. --set train.lr=3e-4"),
        progress: bool = typer.Option(True, "--progress/--no-progress"),
    ) -> None:
        """Train a world model on a dataset; writes checkpoints, metrics.csv and config.yaml."""
        from ..train.config import ConfigError
        from .world import PRESETS, resolve_world_config, train_ar_world, train_latent_world, train_world

        if model not in ("diffusion", "autoregressive"):
            _fail(f"--model: {model!r} is not one of diffusion, autoregressive")
        if model == "autoregressive" and tokenizer is None:
            _fail("--model autoregressive needs --tokenizer RUN (a discrete 1xSxS tokenizer from "
                  "`orrery train tokenizer`)")
        if tokenizer is not None and not tokenizer.exists():
            _fail(f"--tokenizer {tokenizer}: no such file or folder")
        if preset not in PRESETS:
            _fail(f"--preset: {preset!r} is not one of {', '.join(PRESETS)}")
        if not (data / "manifest.parquet").exists():
            _fail(f"{data}: not a dataset folder (no manifest.parquet); make one with `orrery simulate`")
        try:
            if model == "autoregressive":
                res = train_ar_world(data, out, tokenizer, preset, list(set_), progress=progress)
            elif tokenizer is not None:  # diffusion over the continuous tokenizer's latents (DiT)
                res = train_latent_world(data, out, tokenizer, preset, list(set_), progress=progress)
            else:
                resolve_world_config(preset, list(set_))
                res = train_world(data, out, preset, list(set_), progress=progress)
        except ConfigError as e:
            _fail(f"config: {e}")
        except (ValueError, FileNotFoundError) as e:
            _fail(str(e))
        typer.echo(f"trained {res.step} steps in {res.elapsed_s:.0f} s ({res.samples_per_s:.1f} samples/s): {out}")
