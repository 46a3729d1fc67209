"""`orrery train tokenizer`, `orrery tokenize encode|decode`, `orrery evaluate-tokenizer`. Heavy
modules are imported inside the commands."""

from __future__ import annotations

from pathlib import Path

import typer

from ..config import ConfigError
from .common import CONFIG, PROGRESS, QUIET, SETS, input_file


def _load(run: Path):
    from ..tokenizer.checkpoint import load_tokenizer

    return load_tokenizer(run)


def _savez(path: Path, arrays: dict, compressed: bool) -> None:
    """np.savez into an exact path (np.savez given a name appends '.npz'); closed before the rename."""
    import numpy as np

    with open(path, "wb") as f:
        (np.savez_compressed if compressed else np.savez)(f, **arrays)


def _read_frames(path: Path):
    """A video file (any container PyAV reads) or .npy/.npz of uint8 [T, H, W, 3] -> (frames, fps)."""
    import numpy as np

    input_file(path, "--input")
    if path.suffix in (".npy", ".npz"):
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ValueError(f"--input {path}: unreadable ({e})") from None
        fps = 0.0
        if isinstance(data, np.lib.npyio.NpzFile):
            if "frames" not in data:
                raise ValueError(f"--input {path}: no 'frames' array (has {', '.join(data.files)})")
            fps = float(data["fps"]) if "fps" in data else 0.0
            data = data["frames"]
        if data.dtype != np.uint8 or data.ndim != 4 or data.shape[-1] != 3:
            raise ValueError(f"--input {path}: expected uint8 frames [T, H, W, 3], got {data.dtype} {list(data.shape)}")
        return data, fps
    from ..data.video import decode_mp4

    try:
        return decode_mp4(str(path))
    except Exception as e:  # PyAV raises many error types for a bad file; report the file and reason
        raise ValueError(f"--input {path}: cannot decode video ({type(e).__name__}: {e})") from None


def encode(
    run: Path = typer.Option(..., "--run", help="tokenizer run folder (or its tokenizer.safetensors)"),
    input: Path = typer.Option(..., "--input", help="video file, or .npy/.npz of uint8 frames (T, H, W, 3)"),
    out: Path = typer.Option(..., "--out", help=".npz to write (indices for FSQ, latents for continuous)"),
    normalize: bool = typer.Option(False, "--normalize", help="continuous: store normalised latents"),
) -> None:
    """Frames -> token indices int32 (t, h, w) for FSQ, or latents float32 (C, t, h, w)."""
    import numpy as np
    import torch

    from ..data.atomic import write_with
    from ..tokenizer.codec import encode_clips

    if out.suffix != ".npz":
        raise ConfigError("--out", f"{out}: must end in .npz")
    model, _ = _load(run)
    frames, fps = _read_frames(input)
    try:
        z = encode_clips(model, frames[None])[0]
    except ValueError as e:
        raise ValueError(f"--input {input}: {e}") from None
    arrays = {"n_frames": np.int64(len(frames)), "fps": np.float64(fps),
              "size": np.array(frames.shape[1:3], dtype=np.int64)}
    if model.fsq is not None:
        arrays["indices"] = z
        # Bits over the input's own pixels (a clip padded to 1 + k s_t pays for its padding).
        bpp = z.size * model.fsq.bits_per_code / frames[..., 0].size
        typer.echo(f"tokens {list(z.shape)} of {model.fsq.codebook_size} codes: {bpp:.4f} bits/pixel")
    else:
        if normalize:
            z = model.normalize(torch.from_numpy(z)[None])[0].numpy()
        arrays["latents"] = z
        arrays["normalized"] = np.bool_(normalize)
        typer.echo(f"latents {list(z.shape)}{' (normalised)' if normalize else ''}")
    write_with(out, lambda tmp: _savez(tmp, arrays, compressed=False))
    typer.echo(f"wrote {out}")


def decode(
    run: Path = typer.Option(..., "--run", help="tokenizer run folder (or its tokenizer.safetensors)"),
    input: Path = typer.Option(..., "--input", help=".npz written by `orrery tokenize encode`"),
    out: Path = typer.Option(..., "--out", help=".mp4 (H.264 yuv444p crf 18) or .npz (exact frames)"),
) -> None:
    """Token indices or latents -> frames."""
    import numpy as np
    import torch

    from ..data.atomic import write_bytes, write_with
    from ..data.video import encode_mp4
    from ..tokenizer.codec import decode_clips

    if out.suffix not in (".mp4", ".npz"):
        raise ConfigError("--out", f"{out}: must end in .mp4 or .npz")
    model, _ = _load(run)
    input_file(input, "--input")
    try:
        data = dict(np.load(input, allow_pickle=False))
    except (OSError, ValueError) as e:
        raise ValueError(f"--input {input}: unreadable ({e})") from None
    key = "indices" if model.fsq is not None else "latents"
    if key not in data:
        raise ValueError(f"--input {input}: no '{key}' array for this {model.cfg.kind} tokenizer (has {', '.join(data)})")
    z = data[key]
    if key == "latents" and bool(data.get("normalized", False)):
        z = model.denormalize(torch.from_numpy(z)[None])[0].numpy()
    try:
        frames = decode_clips(model, z[None], int(data.get("n_frames", 0)) or None)[0]
    except (ValueError, RuntimeError) as e:
        raise ValueError(f"--input {input}: cannot decode ({e})") from None
    fps = float(data.get("fps", 0.0)) or 15.0
    if out.suffix == ".mp4":
        write_bytes(out, encode_mp4(frames, fps))
    else:
        write_with(out, lambda tmp: _savez(tmp, {"frames": frames, "fps": np.float64(fps)}, compressed=True))
    typer.echo(f"wrote {out} ({len(frames)} frames)")


def evaluate_tokenizer(
    run: Path = typer.Option(..., "--run", help="tokenizer run folder"),
    data: Path = typer.Option(..., "--data", help="dataset folder"),
    split: str = typer.Option("test", "--split", help="train | val | test | test_ood, or several: test,test_ood"),
    max_clips: int = typer.Option(0, "--max-clips", min=0, help="evaluate only the first N clips (0 = all)"),
    out: Path = typer.Option(None, "--out", help="JSON file for the results (default RUN/eval-SPLIT.json)"),
    progress: bool = PROGRESS,
    quiet: bool = QUIET,
) -> None:
    """Reconstruction PSNR/SSIM and object-position error per scenario on a dataset split, scored
    by the same parser and metrics as world models (beside the floor: the original frames)."""
    import json

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from ..data.atomic import write_text
    from ..eval.tokenizer import evaluate_tokenizer as run_eval

    splits = [x.strip() for x in split.split(",") if x.strip()]
    if not splits:
        raise ConfigError("--split", "name at least one split")
    model, _ = _load(run)
    results = {}
    for sp in splits:
        with Progress(transient=True, disable=not progress or quiet) as bar:
            task = bar.add_task(f"evaluate {sp}", total=None)
            results[sp] = run_eval(model, data, sp, max_clips=max_clips or None,
                                   on_clip=lambda i, n, t=task: bar.update(t, completed=i, total=n))
    table = Table(title=f"{run.name}: {model.cfg.kind} {model.cfg.compression} on {data.name}")
    cols = ["split", "scenario", "clips", "psnr", "ssim", "pos_px", "floor_px", "lost", "bpp"]
    cols = [c for c in cols if c == "split" or c in results[splits[0]]["scenarios"][0]]
    short = {"pos_px": "pos px", "floor_px": "floor px"}
    for c in cols:
        table.add_column(short.get(c, c), justify="left" if c in ("split", "scenario") else "right")
    for sp, res in results.items():
        for s in res["scenarios"]:
            s = {"split": sp, **s}
            table.add_row(*[f"{s[c]:.4g}" if isinstance(s[c], float) else str(s[c]) for c in cols])
    Console().print(table)
    for sp, res in results.items():
        path = (out.with_name(f"{out.stem}-{sp}{out.suffix}") if len(splits) > 1 else out) if out \
            else run / f"eval-{sp}.json"
        write_text(path, json.dumps(res, indent=1, default=float))
        typer.echo(f"wrote {path}")


def train_tokenizer(
    data: str = typer.Option(..., "--data", help="dataset folder, or 'synthetic' (rendered bouncing discs)"),
    out: Path = typer.Option(..., "--out", help="run folder (re-run to resume)"),
    preset: str = typer.Option("tiny", "--preset", help="tiny | small | base"),
    config: Path = CONFIG,
    set_: list[str] = SETS,
    progress: bool = PROGRESS,
    quiet: bool = QUIET,
    tensorboard: bool = typer.Option(False, "--tensorboard", help="also log to TensorBoard in RUN/tensorboard/"),
) -> None:
    """Train a causal video tokenizer, e.g. --set model.kind=fsq --set model.compression=4x8x8
    --set train.steps=500."""
    from rich.console import Console

    from ..data.progress import configure_logging
    from ..recipes.tokenizer import resolve_config
    from ..recipes.tokenizer import train_tokenizer as run

    configure_logging(quiet)
    cfg = resolve_config(preset, config, list(set_) + (["train.tensorboard=true"] if tensorboard else []))
    res = run(data, cfg, out, progress=progress and not quiet)
    c = Console(quiet=quiet)
    last = res["last"]
    c.print(f"trained {cfg.model.kind} {cfg.model.compression} tokenizer to step {res['step']} "
            f"({res['elapsed_s']:.0f} s, {res['samples_per_s']:.1f} clips/s): {res['reason']}")
    vals = {k: v for k, v in last.items() if k.startswith("val/")}
    if vals:
        c.print("validation: " + ", ".join(f"{k[4:]} {v:.4g}" for k, v in vals.items()))
    c.print(f"tokenizer: {res['tokenizer']}")
