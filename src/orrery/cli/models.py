"""`orrery train world` and `orrery rollout`."""

from __future__ import annotations

from pathlib import Path

import typer

from ..config import ConfigError
from .common import CONFIG, PROGRESS, QUIET, SETS, existing, input_file

# --model accepts the family names, and the names of the first release: `diffusion` (pixel, or the
# latent family when a --tokenizer is given).
_ALIASES = {"diffusion": "pixel"}


def train_world(
    data: Path = typer.Option(..., "--data", help="dataset folder made by `orrery simulate` or `orrery curate`"),
    out: Path = typer.Option(..., "--out", help="run folder (re-running resumes it)"),
    model: str = typer.Option("pixel", "--model", help="family: pixel | deterministic | latent | autoregressive"),
    preset: str = typer.Option("tiny", "--preset", help="tiny | small | base (and per-family ones, e.g. "
                                                        "tiny-diffusion)"),
    tokenizer: Path = typer.Option(None, "--tokenizer", help="tokenizer run (latent and autoregressive)"),
    init: Path = typer.Option(None, "--init", help="post-train: start from this run's weights (same family; "
                                                   "--set init.freeze=[prefix,...] keeps parts fixed)"),
    config: Path | None = CONFIG,
    set_: list[str] = SETS,
    progress: bool = PROGRESS,
    quiet: bool = QUIET,
    tensorboard: bool = typer.Option(False, "--tensorboard", help="also log to TensorBoard in RUN/tensorboard/ "
                                                                  "(= --set train.tensorboard=true)"),
) -> None:
    """Train a world model on a dataset; writes checkpoints, metrics.csv and config.yaml (and
    model.safetensors + model.json, the inference-only export, at the end)."""
    from ..data.progress import configure_logging

    configure_logging(quiet)
    from ..models.registry import FAMILIES
    from ..recipes.world import train_world as run

    family = _ALIASES.get(model, model)
    if model == "diffusion" and tokenizer is not None:
        family = "latent"
    if family not in FAMILIES:
        raise ConfigError("--model", f"{model!r} is not one of {', '.join(FAMILIES)}")
    existing(tokenizer, "--tokenizer")
    existing(init, "--init")
    if not (data / "manifest.parquet").exists():
        raise ConfigError("--data", f"{data}: not a dataset folder (no manifest.parquet); make one with "
                                 "`orrery simulate`")
    sets = list(set_) + (["train.tensorboard=true"] if tensorboard else [])
    res = run(data, out, family, preset, config, sets, tokenizer, init=init, progress=progress and not quiet)
    typer.echo(f"trained {res.step} steps in {res.elapsed_s:.0f} s ({res.samples_per_s:.1f} samples/s): {out}; "
               f"{res.reason}")


def rollout(
    model: Path = typer.Option(..., "--model", help="a run folder made by `orrery train world`"),
    context: Path = typer.Option(..., "--context", help="context clip (.mp4); its last Tc frames are used"),
    horizon: int = typer.Option(..., "--horizon", min=1, help="frames to predict"),
    out: Path = typer.Option(..., "--out", help="output .mp4 (context followed by the prediction)"),
    prompt: str = typer.Option(None, "--prompt", help="text prompt (models trained with captions)"),
    actions: Path = typer.Option(None, "--actions", help=".npy or .json float [Tc + horizon, A] actions"),
    seed: int = typer.Option(0, "--seed", help="sampling seed"),
    set_: list[str] = typer.Option([], "--set", help="inference setting, e.g. --set steps=2"),
) -> None:
    """Predict the future of a clip with a trained world model and write it as a video."""
    import numpy as np

    from ..data.atomic import write_bytes
    from ..data.video import decode_video, encode_mp4, probe_video, read_video_file
    from ..models.base import Condition, check_rollout_inputs
    from ..models.registry import load_world_model

    if out.suffix.lower() != ".mp4":
        raise ConfigError("--out", f"{out}: rollout writes MP4 (H.264); name the file .mp4")
    existing(context, "--context")
    wm = load_world_model(model, seed=seed, overrides=set_)
    data = read_video_file(context)
    info = probe_video(data, context)  # size and rate checked from the header, before decoding
    acts = None if actions is None else _read_actions(actions)
    tc = wm.context_frames
    check_rollout_inputs(wm, tc, (info["height"], info["width"]), info["fps"], acts, horizon, str(context))
    frames, fps = decode_video(data, context, last=tc)  # only the last Tc frames are kept
    check_rollout_inputs(wm, len(frames), frames.shape[1:3], fps, acts, horizon, str(context))
    ctx = frames[None]
    cond = Condition(text=[prompt] if prompt is not None else None,
                     actions=None if acts is None else acts[None, -(ctx.shape[1] + horizon):])
    pred = wm.rollout(ctx, horizon, cond)[0]
    video = np.concatenate([ctx[0], pred], axis=0)
    rate = fps or (wm.inputs or {}).get("fps") or 15.0
    write_bytes(out, encode_mp4(video, rate, "yuv444p", 18))
    typer.echo(f"wrote {out}: {ctx.shape[1]} context + {horizon} predicted frames")


def _read_actions(path: Path):
    """--actions: .npy or .json of float [Tc + horizon, A]; one error naming the file otherwise."""
    import numpy as np

    from ..data.jsonfile import read_json

    input_file(path, "--actions")
    try:
        acts = np.load(path, allow_pickle=False) if path.suffix == ".npy" else np.asarray(read_json(path), np.float32)
        acts = np.asarray(acts, np.float32)
    except (OSError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: cannot read actions ({e})") from None
    if acts.ndim != 2:
        raise ValueError(f"{path}: expected [Tc + horizon, A] actions, got shape {list(acts.shape)}")
    return acts
