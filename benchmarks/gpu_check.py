"""GPU readiness: train every trainable through the real recipes and loop, then one latent world
model end to end, and say plainly what worked.

1. Data: `orrery simulate` of the quickstart spec at `--size` px (or `--spec FILE`).
2. For each tokenizer (continuous 1x4x4 and 4x8x8, FSQ 4x4x4) and each world-model family
   (pixel, deterministic, latent over the continuous 4x8x8 tokenizer, autoregressive over the FSQ
   4x4x4 one), with `--preset` (default small), bf16 and torch.compile off and on: `--steps` steps
   of `train_tokenizer` / `train_world`. Reported: whether the training loss fell (mean of the
   first fifth of the logged losses against the last fifth), steady samples/s (median of the
   loop's logged rates over the second half), peak memory (CUDA: `max_memory_allocated`; CPU:
   the process's peak RSS, which only grows) and wall time (compile included).
3. End to end (`--e2e-steps` > 0): a continuous 4x4x4 tokenizer with the object terms, then a
   latent DiT over it (latent chunks of 4 frames), evaluated on `test` with 4 context frames and
   horizons 1-12 beside copy-last, constant-velocity, the tokenizer's own floor and the parser's.

Exit status 1 when a loss did not fall and `--require-fall` (the default on CUDA). Everything is
written under `--out` (runs, evaluations, gpu_check.json, and the table printed at the end).

    python benchmarks/gpu_check.py --out /tmp/gpu_check                       # on a CUDA machine
    python benchmarks/gpu_check.py --device cpu --steps 3 --preset tiny --compile off --e2e-steps 3 \\
        --out /tmp/gpu_check_cpu                                             # the tested CPU path
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

TOKENIZERS = {"tok-continuous-1x4x4": ("continuous", "1x4x4"), "tok-continuous-4x8x8": ("continuous", "4x8x8"),
              "tok-fsq-4x4x4": ("fsq", "4x4x4")}
WORLDS = {"world-pixel": ("pixel", None), "world-deterministic": ("deterministic", None),
          "world-latent": ("latent", "tok-continuous-4x8x8"), "world-autoregressive": ("autoregressive", "tok-fsq-4x4x4")}
OBJECT_TERMS = ["model.colour_weight=1", "model.object_weight=1"]


def losses_and_rates(run: Path) -> tuple[list[float], list[float]]:
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    losses = [float(r["train/loss"]) for r in rows if r.get("train/loss")]
    rates = [float(r["samples_per_s"]) for r in rows if r.get("samples_per_s")]
    return losses, rates


def fell(losses: list[float]) -> bool:
    if len(losses) < 2:
        return False
    k = max(1, len(losses) // 5)
    return statistics.mean(losses[-k:]) < statistics.mean(losses[:k])


def peak_memory_mb(device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def train_sets(args, compile_on: bool) -> list[str]:
    sets = [f"train.steps={args.steps}", "train.precision=bf16", f"train.compile={str(compile_on).lower()}",
            f"train.device={args.device}", "train.val_every=0", f"train.ckpt_every={args.steps}",
            f"train.log_every={max(1, min(10, args.steps // 10))}"]
    return sets + ([f"train.batch_size={args.batch}"] if args.batch else [])


def one(name: str, fn, args, compile_on: bool) -> dict:
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    run = fn()
    wall = time.perf_counter() - t0
    losses, rates = losses_and_rates(run)
    row = {"name": name, "compile": compile_on, "steps": args.steps, "loss_first": losses[0] if losses else None,
           "loss_last": losses[-1] if losses else None, "loss_fell": fell(losses),
           "samples_per_s": statistics.median(rates[len(rates) // 2:]) if rates else None,
           "peak_memory_mb": peak_memory_mb(args.device), "wall_s": wall}
    print(f"{name:24s} compile={'on ' if compile_on else 'off'} loss {row['loss_first']:.4g} -> "
          f"{row['loss_last']:.4g} ({'fell' if row['loss_fell'] else 'DID NOT FALL'}), "
          f"{row['samples_per_s'] or 0:.1f} samples/s, peak {row['peak_memory_mb']:.0f} MiB, {wall:.0f} s",
          file=sys.stderr, flush=True)
    return row


def check_trainables(data: Path, out: Path, args) -> list[dict]:
    from orrery.recipes.tokenizer import resolve_config, train_tokenizer
    from orrery.recipes.world import train_world

    rows = []
    for compile_on in args.compile_modes:
        tag = "compiled" if compile_on else "eager"
        toks = {}
        for name, (kind, compression) in TOKENIZERS.items():
            run = out / tag / name
            cfg = resolve_config(args.tok_preset or args.preset, sets=[
                f"model.kind={kind}", f"model.compression={compression}", *OBJECT_TERMS, *train_sets(args, compile_on)])

            def fn(run=run, cfg=cfg):
                train_tokenizer(data, cfg, run, progress=False)
                return run

            rows.append(one(name, fn, args, compile_on))
            toks[name] = run
        for name, (family, tok) in WORLDS.items():
            run = out / tag / name

            def fn(run=run, family=family, tok=toks.get(tok), sets=train_sets(args, compile_on)):
                train_world(data, run, family, args.preset, sets=sets, tokenizer=tok, progress=False)
                return run

            rows.append(one(name, fn, args, compile_on))
    return rows


def end_to_end(data: Path, out: Path, args) -> dict:
    """A continuous 4x4x4 tokenizer, a latent DiT over it, evaluated beside the baselines."""
    from orrery.eval.evaluate import evaluate
    from orrery.recipes.tokenizer import resolve_config, train_tokenizer
    from orrery.recipes.world import train_world

    common = ["train.precision=bf16", f"train.device={args.device}"]
    tok_cfg = resolve_config(args.tok_preset or args.preset, sets=[
        "model.compression=4x4x4", *OBJECT_TERMS, f"train.steps={args.e2e_tok_steps or 2 * args.e2e_steps}", *common])
    train_tokenizer(data, tok_cfg, out / "e2e" / "tokenizer", progress=False)
    train_world(data, out / "e2e" / "latent", "latent", args.preset, tokenizer=out / "e2e" / "tokenizer",
                sets=[f"train.steps={args.e2e_steps}", *common], progress=False)
    res = {}
    for split in ("test", "test_ood"):
        s = evaluate(str(out / "e2e" / "latent"), data, split, out / "e2e" / f"eval-{split}", context=4, horizon=12,
                     limit=args.e2e_clips, progress=False)
        res[split] = {m: {"position_error_px": s["per_step"][m]["position_error_px"],
                          "objects_lost": s["per_step"][m]["objects_lost"]} for m in s["models"]}
    return res


def table(rows: list[dict]) -> str:
    lines = ["| trainable | compile | loss first -> last | fell | samples/s | peak MiB | wall s |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['name']} | {'on' if r['compile'] else 'off'} | {r['loss_first']:.4g} -> "
                     f"{r['loss_last']:.4g} | {'yes' if r['loss_fell'] else 'NO'} | {r['samples_per_s'] or 0:.1f} | "
                     f"{r['peak_memory_mb']:.0f} | {r['wall_s']:.0f} |")
    return "\n".join(lines)


def e2e_table(res: dict) -> str:
    lines = []
    for split, models in res.items():
        lines += [f"\n{split}: position error px at horizons 1, 2, 4, 8, 12 / objects lost at 12",
                  "| model | h1 | h2 | h4 | h8 | h12 | lost@12 |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for m, v in models.items():
            p, lost = v["position_error_px"], v["objects_lost"]
            cells = " | ".join(f"{p[h - 1]:.2f}" if h <= len(p) else "-" for h in (1, 2, 4, 8, 12))
            lines.append(f"| {m} | {cells} | {lost[-1] if lost else float('nan'):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=300, help="steps per trainable")
    ap.add_argument("--preset", default="small", help="world-model (and tokenizer) preset")
    ap.add_argument("--tok-preset", default=None, help="tokenizer preset (default: --preset)")
    ap.add_argument("--batch", type=int, default=0, help="override every preset's batch (0 = the presets')")
    ap.add_argument("--size", type=int, default=64, help="frame size of the simulated data")
    ap.add_argument("--spec", type=Path, default=None, help="simulate this spec instead of the quickstart's")
    ap.add_argument("--compile", choices=("both", "on", "off"), default="both")
    ap.add_argument("--e2e-steps", type=int, default=3000, help="latent DiT steps of the end-to-end run (0 = skip)")
    ap.add_argument("--e2e-tok-steps", type=int, default=0, help="its tokenizer's steps (0 = 2 x --e2e-steps)")
    ap.add_argument("--e2e-clips", type=int, default=0, help="clips evaluated per split (0 = all)")
    ap.add_argument("--require-fall", action=argparse.BooleanOptionalAction, default=None,
                    help="exit 1 when a loss did not fall (default: on CUDA only)")
    args = ap.parse_args(argv)
    args.compile_modes = {"both": (False, True), "on": (True,), "off": (False,)}[args.compile]
    require = args.require_fall if args.require_fall is not None else args.device.startswith("cuda")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("error: --device cuda: no CUDA device on this machine (use --device cpu for the CPU path)",
              file=sys.stderr)
        return 2

    from orrery.engine.quickstart import embedded_spec
    from orrery.sim.simulate import simulate

    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / "data"
    spec = args.spec or embedded_spec()
    simulate(spec, data, progress=False, sets=[f"video.size={args.size}"] if args.spec is None else [])
    rows = check_trainables(data, args.out, args)
    result = {"device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
              "torch": torch.__version__, "args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}
    if args.e2e_steps:
        result["e2e"] = end_to_end(data, args.out, args)
    (args.out / "gpu_check.json").write_text(json.dumps(result, indent=1))
    text = table(rows) + ("\n" + e2e_table(result["e2e"]) if "e2e" in result else "")
    (args.out / "gpu_check.md").write_text(text + "\n")
    print(text)
    bad = [f"{r['name']} (compile {'on' if r['compile'] else 'off'})" for r in rows if not r["loss_fell"]]
    if bad:
        print(f"{'error' if require else 'note'}: the loss did not fall for {', '.join(bad)}", file=sys.stderr)
    return 1 if bad and require else 0


if __name__ == "__main__":
    raise SystemExit(main())
