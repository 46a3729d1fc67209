"""Training speed of the world-model presets on this machine, in samples/s.

For every preset and pixel variant (the `deterministic` family, the pixel family's `hybrid` and
pure `diffusion` heads), a few optimiser steps of the real training step (loss, backward, AdamW)
on 32 px windows; the figure is the median step time after a warm-up step. Ratios are against the
`deterministic` family at the same preset, measured in the same process (so the numbers compare
across machines even when the machine is shared and absolute rates are not).

    python benchmarks/train.py [--presets tiny,small] [--steps 4] [--threads 2] [--bf16]

and the position-error table of docs/models.md for a trained run (model, copy-last,
constant-velocity and the floor, per horizon, with the share of objects lost):

    python benchmarks/train.py --evaluate RUN --data DIR --split test [--set residual_temperature=0]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from orrery.models.registry import get_family
from orrery.recipes.world import resolve_world_config

# variant -> (family, extra settings)
VARIANTS = {"deterministic": ("deterministic", []), "hybrid": ("pixel", []),
            "diffusion": ("pixel", ["model.head=diffusion"])}


def step_time(head: str, preset: str, steps: int, bf16: bool, size: int) -> tuple[float, int, int]:
    family, sets = VARIANTS[head]
    cfg = resolve_world_config(family, preset, sets=sets)
    model = get_family(family).net(cfg.model)
    n_params = sum(p.numel() for p in model.parameters())
    b = cfg.train.batch_size
    g = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (b, cfg.model.context + 1, size, size, 3), dtype=torch.uint8, generator=g)
    batch = {"frames": frames, "actions": torch.zeros(b, cfg.model.context + 1, 0), "caption": ["a ball"] * b}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, _ = model.loss(batch, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:  # the first step pays for allocations
            times.append(time.perf_counter() - t0)
    return statistics.median(times), b, n_params


def evaluate_run(run: str, data: str, split: str, overrides: list[str], out: str) -> None:
    """Per-horizon position error (px) and % of objects lost (of those the truth shows in full)."""
    import numpy as np

    from orrery.eval.evaluate import evaluate
    from orrery.models.registry import load_world_model

    wm = load_world_model(run, overrides=overrides)
    s = evaluate(wm, data, split, out, context=4, horizon=12, progress=False, report=False)
    for m in s["models"]:
        pe = s["per_step"][m]["position_error_px"]
        lost = np.asarray(s["per_step"][m]["objects_lost"]) / np.maximum(s["per_step"][m]["objects_visible"], 1e-9)
        print(f"{m:26s} px " + " ".join(f"{v:5.2f}" for v in pe) + f" | lost@12 {100 * lost[-1]:.1f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evaluate", metavar="RUN", help="evaluate a trained run instead of timing presets")
    ap.add_argument("--data", help="dataset folder (with --evaluate)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--set", action="append", default=[], help="inference override of the model config")
    ap.add_argument("--out", default="/tmp/orrery-eval", help="evaluation output folder (with --evaluate)")
    ap.add_argument("--presets", default="tiny,small")
    ap.add_argument("--heads", default="deterministic,hybrid,diffusion")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--bf16", action="store_true", help="CPU bf16 autocast (AMX) instead of fp32")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.evaluate:
        import shutil

        shutil.rmtree(args.out, ignore_errors=True)
        evaluate_run(args.evaluate, args.data, args.split, args.set, args.out)
        return
    print(f"torch {torch.__version__}, {args.threads} threads, {args.size} px, "
          f"{'bf16 autocast' if args.bf16 else 'fp32'}")
    print(f"{'preset':7s} {'head':14s} {'params':>9s} {'batch':>5s} {'s/step':>7s} {'samples/s':>9s} {'ratio':>6s}")
    for preset in args.presets.split(","):
        ref = None
        for head in args.heads.split(","):
            dt, b, n = step_time(head, preset, args.steps, args.bf16, args.size)
            sps = b / dt
            ref = ref or sps
            print(f"{preset:7s} {head:14s} {n:9,d} {b:5d} {dt:7.3f} {sps:9.1f} {sps / ref:6.2f}", flush=True)


if __name__ == "__main__":
    main()
