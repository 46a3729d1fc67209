"""Benchmarks of the ruler: parser speed and the parser floor.

    .venv/bin/python benchmarks/eval.py                 # closed-form scenes at 32, 64, 128 px
    .venv/bin/python benchmarks/eval.py --data DIR ...  # also the floor on dataset folders (test split)

1. Speed: frames parsed per second (one core), beside the renderer's frames per second measured
   in the same process on the same scenes (the ratio is what to compare across machines).
2. Floor: the parser's error on ground-truth video after the dataset's encoding (yuv444p), per
   resolution: the clip's own encoded frames scored as a prediction against the exact states.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from orrery.data.camera import Camera  # noqa: E402
from orrery.data.objects import ObjectSpec, StaticSpec  # noqa: E402
from orrery.data.video import decode_mp4, encode_mp4  # noqa: E402
from orrery.eval.scoring import score_clip  # noqa: E402
from orrery.eval.synthetic import scene  # noqa: E402
from orrery.sim.parse import background_image, parse_objects  # noqa: E402
from orrery.sim.render import Renderer  # noqa: E402

FLOOR_METRICS = ("position_error_px", "position_error_m", "velocity_error_per_frame", "velocity_error_time_avg",
                 "acceleration_error", "energy_change_error", "restitution_error", "size_drift",
                 "orientation_error_deg", "mask_iou")


def speed(size: int, repeats: int = 3) -> tuple[float, float]:
    frames, masks, meta = scene(size, 32, seed=0)
    cam = Camera.from_dict(meta["camera"])
    statics = [StaticSpec.from_dict(s) for s in meta["statics"]]
    objs = [ObjectSpec.from_dict(o) for o in meta["objects"]]
    pos, ang = np.asarray(meta["states"]["position"]), np.asarray(meta["states"]["angle"])
    bg = background_image(cam, statics)
    best_parse, best_render = 0.0, 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        parse_objects(frames, cam, bg, fps=meta["fps"])
        best_parse = max(best_parse, len(frames) / (time.perf_counter() - t))
        t = time.perf_counter()
        Renderer(cam, statics).render_clip(objs, pos, ang)
        best_render = max(best_render, len(frames) / (time.perf_counter() - t))
    return best_parse, best_render


def floor_synthetic(size: int, n: int = 8, start: int = 6, tc: int = 4, h: int = 16) -> dict[str, float]:
    acc: dict[str, list] = {}
    for seed in range(n):
        frames, masks, meta = scene(size, 32, seed=seed)
        dec = decode_mp4(encode_mp4(frames, meta["fps"]))[0]
        truth = dec[start + tc:start + tc + h]
        for r in score_clip(meta, dec[start:start + tc], truth, truth, start, masks):
            acc.setdefault(r["metric"], []).append(r["value"])
    return {k: float(np.nanmean(v)) for k, v in acc.items() if not np.all(np.isnan(v))}


def floor_dataset(path: str, tc: int = 4, h: int = 12) -> tuple[int, dict[str, float]]:
    from orrery.data.dataset import ClipStore

    store = ClipStore(path, "test")
    acc: dict[str, list] = {}
    size = 0
    for clip in store:
        size = clip.frames.shape[1]
        truth = clip.frames[tc:tc + h]
        for r in score_clip(clip.meta, clip.frames[:tc], truth, truth, 0, clip.masks):
            acc.setdefault(r["metric"], []).append(r["value"])
    return size, {k: float(np.nanmean(v)) for k, v in acc.items() if not np.all(np.isnan(v))}


def table(title: str, cols: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'metric':28s}" + "".join(f"{c:>12s}" for c in cols))
    for m in FLOOR_METRICS:
        print(f"{m:28s}" + "".join(f"{cols[c].get(m, float('nan')):12.4g}" for c in cols))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="*", default=[], help="dataset folders (their test split) to measure the floor on")
    ap.add_argument("--clips", type=int, default=8, help="closed-form clips per resolution for the floor")
    args = ap.parse_args(argv)
    print("parser speed (one core; 4 objects + scenery; best of 3 over a 32-frame clip)")
    print(f"{'size':>6s}{'parse fps':>12s}{'render fps':>12s}{'parse/render':>14s}")
    for size in (32, 64, 128):
        p, r = speed(size)
        print(f"{size:6d}{p:12.0f}{r:12.0f}{p / r:14.3f}")
    table("floor on closed-form scenes (encode_mp4 defaults: yuv444p; frames 10-25 of 32; mean over clips)",
          {f"{s} px": floor_synthetic(s, args.clips) for s in (32, 64, 128)})
    if args.data:
        cols = {}
        for d in args.data:
            size, vals = floor_dataset(d)
            cols[f"{size} px"] = vals
        table("floor on dataset test splits (context 4, horizon 12 from frame 0)", cols)
    return 0


if __name__ == "__main__":
    sys.exit(main())
