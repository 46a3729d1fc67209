"""Simulation throughput against its practical limit, and wall time against the number of clips.

Part 1, encode (one process, one core). Pipeline (per clip): simulate (pymunk) + render (OpenCV) + annotate + encode (PyAV/x264) + write
the shard, for clips of 64x64 px, 32 frames, 4 objects (collisions_2d, count = 4). Baseline, in
the same run: PyAV encoding the same RGB frames the plain way (swscale conversion, same x264
settings), i.e. the practical limit. The per-dataset fixed costs (manifest, datasheet figures)
are reported apart, since they do not grow with the number of clips.

Part 2, scaling. `simulate` on the standard spec (all eleven scenarios, 64 px) cut to N training
clips per scenario (and 2 val, 2 test, 2 test_ood), for each N in --sizes and each worker count
in --workers, each run in a fresh process as `orrery simulate` would be (interpreter start,
imports, process pool, shards, manifest, datasheet). Wall time, and the CPU time of the run and
its workers (steadier than wall time on a shared machine), are fitted by least squares as fixed
cost + cost per clip, per worker count; manifest + datasheet time (measured inside the run) is
reported apart, with its share of the run. Runs are interleaved (repeat, size, workers)
so a change in machine load falls on every configuration alike; the spread is over --repeats.

    .venv/bin/python benchmarks/simulate.py [--clips 64] [--only encode|scaling]
        [--sizes 16,32,64] [--workers 1,2] [--repeats 2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from importlib import resources
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import av  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

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


def encode_part(n: int, physics_hz: float, repeats: int = 1) -> None:
    """The pipeline against plain PyAV encoding of the same frames, timed `repeats` times alternating
    (so a change in the machine's load hits both); the median ratio and its spread."""
    print(f"## encode: python {sys.version.split()[0]}, one process, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS')}; {n} clips x 32 frames, 64x64 px, 4 objects (collisions_2d), "
          f"physics {physics_hz:g} Hz\n")
    rows = []
    for codec in ("yuv444p", "lossless"):
        s_obj, entries = parse_spec(spec(n, codec, physics_hz))
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "ds"
            prepare_out(s_obj, out)
            tasks = shard_tasks(s_obj, plan(s_obj, entries), out)
            video = s_obj.video.model_dump()
            frames = [make_clip(c, video).frames for t in tasks for c in t.clips]
            pipes, encs = [], []
            for _ in range(repeats):  # alternating, so a change in the machine's load hits both
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
        if repeats > 1:
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


def standard_spec(n_train: int) -> dict:
    """The standard spec with N training clips (and 2 val, 2 test, 2 test_ood) per scenario."""
    data = yaml.safe_load((resources.files("orrery") / "specs" / "standard.yaml").read_text())
    for e in data["scenarios"]:
        e["clips"] = {"train": n_train, "val": 2, "test": 2, "test_ood": 2}
    return data


def child(spec_path: str, out: str, workers: int) -> None:
    """One run in this fresh process; prints its clip count and phase times as JSON."""
    from orrery.sim.simulate import simulate

    res = simulate(json.loads(Path(spec_path).read_text()), out, workers=workers, progress=False)
    print(json.dumps({"clips": sum(res["counts"].values()), **res["seconds"]}))


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares y = a + b x; returns (a, b)."""
    b, a = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    return float(a), float(b)


def span(vals: list[float], fmt: str = "{:.2f}") -> str:
    lo, hi = min(vals), max(vals)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def run_once(spec_path: Path, out: Path, workers: int, env: dict | None = None) -> dict:
    """One `simulate` in a fresh process: its wall time, the CPU time of it and its workers, its
    clip count and its phase times."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, __file__, "--child", str(spec_path), str(out), str(workers)],
                         check=True, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes the pool workers the child reaped
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"wall": wall, "cpu": cpu, **json.loads(res.stdout.strip().splitlines()[-1])}


def scaling_part(sizes: list[int], workers: list[int], repeats: int) -> None:
    print(f"## scaling: standard spec (11 scenarios, 64 px, 32 frames), N train + 2 val + 2 test + 2 test_ood "
          f"per scenario, N in {sizes}; workers {workers}; {repeats} repeat(s); each run a fresh process\n")
    load = [os.getloadavg()[0]]
    runs = []  # dicts: repeat, workers, n, clips, wall, cpu, shards, manifest, datasheet
    with tempfile.TemporaryDirectory() as d:
        specs = {}
        for n in sizes:
            specs[n] = Path(d) / f"standard-{n}.json"
            specs[n].write_text(json.dumps(standard_spec(n)))
        for r in range(repeats):
            for n in sizes:
                for w in workers:
                    out = Path(d) / f"run-{r}-{n}-{w}"
                    x = run_once(specs[n], out, w)
                    runs.append({"repeat": r, "workers": w, "n": n, **x})
                    print(f"  repeat {r} N={n:<4} workers {w}: {x['clips']:4d} clips, wall {x['wall']:6.2f} s, "
                          f"CPU {x['cpu']:6.2f} s (shards {x['shards']:.2f}, manifest {x['manifest']:.2f}, "
                          f"datasheet {x['datasheet']:.2f})", flush=True)
                    subprocess.run(["rm", "-rf", str(out)], check=True)
                    load.append(os.getloadavg()[0])
    print(f"\n1-minute load average during the runs: {min(load):.1f}–{max(load):.1f} on {os.cpu_count()} CPU(s) "
          "(above the CPU count, other processes were competing and wall times are inflated)")
    report_scaling(runs, sizes, workers)


def report_scaling(runs: list[dict], sizes: list[int], workers: list[int]) -> None:
    print(f"\n{'workers':>7} {'N':>4} {'clips':>6} {'wall s':>13} {'manifest+datasheet+card s':>26} {'share':>11}")
    for w in workers:
        for n in sizes:
            sel = [x for x in runs if x["workers"] == w and x["n"] == n]
            fixed = [x["manifest"] + x["datasheet"] + x.get("card", 0.0) for x in sel]
            share = [100 * (x["manifest"] + x["datasheet"] + x.get("card", 0.0)) / x["wall"] for x in sel]
            print(f"{w:7d} {n:4d} {sel[0]['clips']:6d} {span([x['wall'] for x in sel]):>13} {span(fixed):>21} "
                  f"{span(share, '{:.1f}') + ' %':>11}")
    print(f"\nfit: time = fixed + per_clip x clips, least squares over the {len(sizes)} sizes. 'per repeat': the "
          "spread of one fit per repeat; 'all': every run; 'fastest': the fastest run of each size (the least "
          "disturbed on a shared machine); CPU: user + system time of the run and its workers")
    print(f"{'workers':>7} {'wall fixed s':>14} {'ms/clip':>11} {'all: fixed s':>13} {'ms/clip':>8} "
          f"{'fastest: fixed s':>17} {'ms/clip':>8} {'CPU all: fixed s':>17} {'ms/clip':>8}")
    for w in workers:
        sel = [x for x in runs if x["workers"] == w]
        per = [fit([x["clips"] for x in sel if x["repeat"] == r], [x["wall"] for x in sel if x["repeat"] == r])
               for r in sorted({x["repeat"] for x in sel})]
        a, b = fit([x["clips"] for x in sel], [x["wall"] for x in sel])
        best = [min((x for x in sel if x["n"] == n), key=lambda x: x["wall"]) for n in sizes]
        af, bf = fit([x["clips"] for x in best], [x["wall"] for x in best])
        ac, bc = fit([x["clips"] for x in sel], [x["cpu"] for x in sel])
        print(f"{w:7d} {span([p[0] for p in per]):>14} {span([1000 * p[1] for p in per], '{:.1f}'):>11} "
              f"{a:13.2f} {1000 * b:8.1f} {af:17.2f} {1000 * bf:8.1f} {ac:17.2f} {1000 * bc:8.1f}")


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=64, help="encode part: clips per codec")
    ap.add_argument("--physics-hz", type=float, default=480.0, help="physics substep rate (default: the spec default)")
    ap.add_argument("--only", choices=("encode", "scaling"), help="run one part (default: both)")
    ap.add_argument("--sizes", default="16,32,64", help="scaling part: training clips per scenario, comma-separated")
    ap.add_argument("--workers", default="1,2", help="scaling part: worker counts, comma-separated")
    ap.add_argument("--repeats", type=int, default=2, help="runs of each (size, workers) in the scaling part, "
                                                           "and alternating timings in the encode part")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, "
          f"{os.cpu_count()} CPU(s)\n")
    if args.only in (None, "encode"):
        encode_part(args.clips, args.physics_hz, args.repeats)
    if args.only in (None, "scaling"):
        if args.only is None:
            print()
        scaling_part([int(x) for x in args.sizes.split(",")], [int(x) for x in args.workers.split(",")], args.repeats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (max RSS of this process, not of the scaling runs): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
