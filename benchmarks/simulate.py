"""Simulation throughput against its practical limit, in one process on one core.

Pipeline (per clip): simulate (pymunk) + render (OpenCV) + annotate + encode (PyAV/x264) + write
the shard, for clips of 64x64 px, 32 frames, 4 objects (collisions_2d, count = 4). Baseline, in
the same run: PyAV encoding the same RGB frames the plain way (swscale conversion, same x264
settings), i.e. the practical limit. The per-dataset fixed costs (manifest, datasheet figures)
are reported apart, since they do not grow with the number of clips.

    .venv/bin/python benchmarks/simulate.py [--clips 64]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import av  # noqa: E402
import numpy as np  # noqa: E402

from orrery.sim.simulate import finish, make_clip, plan, prepare_out, run_shard, shard_tasks  # noqa: E402
from orrery.sim.spec import parse_spec  # noqa: E402


def spec(n: int, codec: str, physics_hz: float = 480.0) -> dict:
    return {"name": "bench", "seed": 0, "shard_size": 32,
            "video": {"size": 64, "fps": 15, "frames": 32, "physics_hz": physics_hz, "codec": codec, "crf": 12},
            "scenarios": [{"scenario": "collisions_2d", "clips": {"train": n}, "params": {"count": 4}}]}


def plain_pyav_encode(frames: np.ndarray, codec: str) -> int:
    """The baseline: RGB frames straight into PyAV (its own colour conversion), same x264 settings."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4", options={"movflags": "frag_keyframe+empty_moov"}) as out:
        if codec == "lossless":
            st = out.add_stream("libx264rgb", rate=Fraction(15))
            st.pix_fmt, st.options = "rgb24", {"qp": "0", "preset": "ultrafast", "threads": "1"}
        else:
            st = out.add_stream("libx264", rate=Fraction(15))
            st.pix_fmt = "yuv444p"
            st.options = {"crf": "12", "preset": "veryfast", "threads": "1", "x264-params": "mbtree=0"}
        st.width, st.height = frames.shape[2], frames.shape[1]
        for f in frames:
            for p in st.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return len(buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--physics-hz", type=float, default=480.0, help="physics substep rate (default: the spec default)")
    ap.add_argument("--repeats", type=int, default=1, help="pipeline and encode-only timed this many times, "
                                                           "alternating; the median ratio and its spread are printed")
    args = ap.parse_args()
    n = args.clips
    print(f"python {sys.version.split()[0]}, one process, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}; "
          f"{n} clips x 32 frames, 64x64 px, 4 objects (collisions_2d), physics {args.physics_hz:g} Hz\n")
    rows = []
    for codec in ("yuv444p", "lossless"):
        s_obj, entries = parse_spec(spec(n, codec, args.physics_hz))
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "ds"
            prepare_out(s_obj, out)
            tasks = shard_tasks(s_obj, plan(s_obj, entries), out)
            video = s_obj.video.model_dump()
            frames = [make_clip(c, video).frames for t in tasks for c in t.clips]
            pipes, encs = [], []
            for _ in range(args.repeats):  # alternating, so a change in the machine's load hits both
                t0 = time.perf_counter()
                for t in tasks:
                    run_shard(t)
                pipes.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                size = sum(plain_pyav_encode(f, codec) for f in frames)
                encs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            finish(out, s_obj, tasks)
            t_fixed = time.perf_counter() - t0
            disk = sum(p.stat().st_size for p in out.glob("shards/*.tar"))
        ratios = sorted(e / p for p, e in zip(pipes, encs, strict=True))
        if args.repeats > 1:
            print(f"{codec}: ratio per repeat " + " ".join(f"{r:.2f}" for r in ratios)
                  + f"; median {ratios[len(ratios) // 2]:.2f}")
        t_pipe, t_enc = sorted(pipes)[len(pipes) // 2], sorted(encs)[len(encs) // 2]
        rows.append((codec, n / t_pipe, 32 * n / t_pipe, 32 * n / t_enc, ratios[len(ratios) // 2], size / n / 1024,
                     disk / n / 1024, t_fixed))
    print(f"{'codec':9} {'clips/s':>8} {'frames/s':>9} {'encode-only fr/s':>17} {'ratio':>6} "
          f"{'KB/clip mp4':>11} {'KB/clip shard':>13} {'fixed s':>8}")
    for codec, cps, fps, enc_fps, ratio, kb, disk_kb, fixed in rows:
        print(f"{codec:9} {cps:8.1f} {fps:9.0f} {enc_fps:17.0f} {ratio:6.2f} {kb:11.1f} {disk_kb:13.1f} {fixed:8.2f}")
    print("\nratio = pipeline frames/s / encode-only frames/s (1.0 = simulation, rendering, annotation and "
          "writing cost nothing beyond encoding)")
    print("fixed = manifest + datasheet (once per dataset)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of this process): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
