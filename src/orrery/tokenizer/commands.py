"""CLI verbs of orrery.tokenizer: `orrery train tokenizer`, `orrery tokenize encode|decode`,
`orrery evaluate-tokenizer`. Heavy modules are imported inside the commands."""

from __future__ import annotations

from pathlib import Path

import typer


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def _load(run: Path):
    from .checkpoint import load_tokenizer

    try:
        return load_tokenizer(run)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))


def _savez(path: Path, arrays: dict, compressed: bool) -> None:
    """np.savez into an exact path (np.savez given a name appends '.npz'); closed before the rename."""
    import numpy as np

    with open(path, "wb") as f:
        (np.savez_compressed if compressed else np.savez)(f, **arrays)


def _read_frames(path: Path):
    """A video file (any container PyAV reads) or .npy/.npz of uint8 [T, H, W, 3] -> (frames, fps)."""
    import numpy as np

    if not path.exists():
        _fail(f"--input {path}: no such file")
    if path.suffix in (".npy", ".npz"):
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            _fail(f"--input {path}: unreadable ({e})")
        fps = 0.0
        if isinstance(data, np.lib.npyio.NpzFile):
            if "frames" not in data:
                _fail(f"--input {path}: no 'frames' array (has {', '.join(data.files)})")
            fps = float(data["fps"]) if "fps" in data else 0.0
            data = data["frames"]
        if data.dtype != np.uint8 or data.ndim != 4 or data.shape[-1] != 3:
            _fail(f"--input {path}: expected uint8 frames [T, H, W, 3], got {data.dtype} {list(data.shape)}")
        return data, fps
    from ..data.video import decode_mp4

    try:
        return decode_mp4(str(path))
    except Exception as e:  # PyAV raises many error types for a bad file; report the file and reason
        _fail(f"--input {path}: cannot decode video ({type(e).__name__}: {e})")


def register(app: typer.Typer) -> None:
    tok = typer.Typer(no_args_is_help=True, help="Encode clips to tokens/latents with a trained tokenizer, "
                                                 "or decode them back.")

    @tok.command("encode")
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
        from .codec import encode_clips

        if out.suffix != ".npz":
            raise typer.BadParameter(f"{out}: must end in .npz", param_hint="--out")
        model, _ = _load(run)
        frames, fps = _read_frames(input)
        try:
            z = encode_clips(model, frames[None])[0]
        except ValueError as e:
            _fail(f"--input {input}: {e}")
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

    @tok.command("decode")
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
        from .codec import decode_clips

        if out.suffix not in (".mp4", ".npz"):
            raise typer.BadParameter(f"{out}: must end in .mp4 or .npz", param_hint="--out")
        model, _ = _load(run)
        if not input.exists():
            _fail(f"--input {input}: no such file")
        try:
            data = dict(np.load(input, allow_pickle=False))
        except (OSError, ValueError) as e:
            _fail(f"--input {input}: unreadable ({e})")
        key = "indices" if model.fsq is not None else "latents"
        if key not in data:
            _fail(f"--input {input}: no '{key}' array for this {model.cfg.kind} tokenizer (has {', '.join(data)})")
        z = data[key]
        if key == "latents" and bool(data.get("normalized", False)):
            z = model.denormalize(torch.from_numpy(z)[None])[0].numpy()
        try:
            frames = decode_clips(model, z[None], int(data.get("n_frames", 0)) or None)[0]
        except (ValueError, RuntimeError) as e:
            _fail(f"--input {input}: cannot decode ({e})")
        fps = float(data.get("fps", 0.0)) or 15.0
        if out.suffix == ".mp4":
            write_bytes(out, encode_mp4(frames, fps))
        else:
            write_with(out, lambda tmp: _savez(tmp, {"frames": frames, "fps": np.float64(fps)}, compressed=True))
        typer.echo(f"wrote {out} ({len(frames)} frames)")

    app.add_typer(tok, name="tokenize")

    @app.command("evaluate-tokenizer")
    def evaluate(
        run: Path = typer.Option(..., "--run", help="tokenizer run folder"),
        data: Path = typer.Option(..., "--data", help="dataset folder"),
        split: str = typer.Option("test", "--split", help="train | val | test | test_ood, or several: test,test_ood"),
        positions: str = typer.Option("parse", "--positions",
                                      help="parse (orrery.sim.parse) | centroid (colour centroid on black)"),
        max_clips: int = typer.Option(0, "--max-clips", min=0, help="evaluate only the first N clips (0 = all)"),
        out: Path = typer.Option(None, "--out", help="JSON file for the results (default RUN/eval-SPLIT.json)"),
    ) -> None:
        """Reconstruction PSNR/SSIM and object-position error per scenario on a dataset split."""
        import json

        from rich.console import Console
        from rich.progress import Progress
        from rich.table import Table

        from ..data.atomic import write_text
        from .evaluate import evaluate_tokenizer

        if positions not in ("parse", "centroid"):
            raise typer.BadParameter(f"{positions!r} is not one of parse, centroid", param_hint="--positions")
        splits = [x.strip() for x in split.split(",") if x.strip()]
        if not splits:
            raise typer.BadParameter("name at least one split", param_hint="--split")
        model, _ = _load(run)
        results = {}
        for sp in splits:
            try:
                with Progress(transient=True) as bar:
                    task = bar.add_task(f"evaluate {sp}", total=None)
                    results[sp] = evaluate_tokenizer(model, data, sp, method=positions, max_clips=max_clips or None,
                                                     on_clip=lambda i, n, t=task: bar.update(t, completed=i, total=n))
            except (FileNotFoundError, ValueError) as e:
                _fail(str(e))
        table = Table(title=f"{run.name}: {model.cfg.kind} {model.cfg.compression} on {data.name} "
                            f"(positions: {positions})")
        cols = ["split", "scenario", "clips", "psnr", "ssim", "pos_mean_px", "pos_max_px", "lost", "bpp"]
        cols = [c for c in cols if c == "split" or c in results[splits[0]]["scenarios"][0]]
        short = {"pos_mean_px": "pos px", "pos_max_px": "pos max px"}
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


def register_train(train_app: typer.Typer) -> None:
    @train_app.command("tokenizer", context_settings={"allow_extra_args": True})
    def train_tokenizer_cmd(
        ctx: typer.Context,
        data: str = typer.Option(..., "--data", help="dataset folder, or 'synthetic' (rendered bouncing discs)"),
        preset: str = typer.Option("tiny", "--preset", help="tiny | small | base"),
        out: Path = typer.Option(..., "--out", help="run folder (re-run to resume)"),
        config: Path = typer.Option(None, "--config", help="YAML config layered over the preset"),
    ) -> None:
        """Train a causal video tokenizer. Extra arguments are overrides: model.kind=fsq
        model.compression=4x8x8 model.fsq_levels=[8,5,5,5] train.steps=500 data.frames=9 ..."""
        import yaml
        from rich.console import Console

        from ..train import ConfigError, resolve
        from .training import PRESETS, TokenizerRunConfig, train_tokenizer

        overrides = list(ctx.args)
        for item in overrides:
            if item.startswith("-") or "=" not in item:
                _fail(f"unexpected argument {item!r}: overrides read key=value (e.g. train.steps=500)")
        base = None
        if config is not None:
            if not config.exists():
                _fail(f"--config {config}: no such file")
            try:
                base = yaml.safe_load(config.read_text()) or {}
            except yaml.YAMLError as e:
                _fail(f"--config {config}: not valid YAML ({e})")
        try:
            cfg = resolve(TokenizerRunConfig, PRESETS, preset, overrides, base=base)
        except ConfigError as e:
            _fail(str(e))
        try:
            res = train_tokenizer(data, cfg, out)
        except (FileNotFoundError, ValueError) as e:
            _fail(str(e))
        c = Console()
        last = res["last"]
        c.print(f"trained {cfg.model.kind} {cfg.model.compression} tokenizer to step {res['step']} "
                f"({res['elapsed_s']:.0f} s, {res['samples_per_s']:.1f} clips/s)")
        vals = {k: v for k, v in last.items() if k.startswith("val/")}
        if vals:
            c.print("validation: " + ", ".join(f"{k[4:]} {v:.4g}" for k, v in vals.items()))
        c.print(f"tokenizer: {res['tokenizer']}")
