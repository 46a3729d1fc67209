"""Clip decoding for training and evaluation: `decode_video` (planes taken as decoded, one OpenCV
YCrCb->RGB conversion per clip) against FFmpeg's own RGB conversion per frame (`to_ndarray
("rgb24")`, what it did before), on the same shard clips, in one process, alternating, with
repeats; prints frames/s of each and the ratio per repeat.

    .venv/bin/python benchmarks/decode.py [--size 32] [--clips 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import av  # noqa: E402
import numpy as np  # noqa: E402

from orrery.data.dataset import ClipStore  # noqa: E402
from orrery.data.video import decode_video  # noqa: E402
from orrery.sim.simulate import simulate  # noqa: E402


def ffmpeg_rgb(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(s)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    spec = {"name": "dec", "seed": 0, "shard_size": 64,
            "video": {"size": args.size, "fps": 15, "frames": 32, "codec": "yuv444p", "crf": 12},
            "scenarios": [{"scenario": "collisions_2d", "clips": {"train": args.clips}, "params": {"count": 3}}]}
    with tempfile.TemporaryDirectory() as d:
        simulate(spec, Path(d) / "ds", progress=False)
        store = ClipStore(Path(d) / "ds", "train")
        clips = [store.members(i)["mp4"] for i in range(len(store))]
    worst = max(int(np.abs(decode_video(c)[0].astype(int) - ffmpeg_rgb(c)).max()) for c in clips)
    n = 32 * len(clips)
    print(f"{len(clips)} clips x 32 frames at {args.size} px (yuv444p, crf 12); max |ours - FFmpeg| = {worst} level")
    print(f"{'repeat':>6} {'FFmpeg rgb24 fr/s':>18} {'decode_video fr/s':>18} {'ratio':>6}")
    ratios = []
    for r in range(args.repeats):
        t = time.perf_counter()
        for c in clips:
            ffmpeg_rgb(c)
        old = n / (time.perf_counter() - t)
        t = time.perf_counter()
        for c in clips:
            decode_video(c)
        new = n / (time.perf_counter() - t)
        ratios.append(new / old)
        print(f"{r:>6} {old:18.0f} {new:18.0f} {new / old:6.2f}")
    print(f"ratio median {np.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    main()
