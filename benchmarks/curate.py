"""Benchmark of the curate part.

1. Shot detection: generated multi-shot videos with known transitions (hard cuts, dissolves, fades
   through black; fast motion and single-frame flashes as distractors; several resolutions), written
   to MP4 and read back from the file by every detector with PyAV. Precision, recall and F1 (a hard
   cut matches within +-1 frame; a gradual transition matches a detection overlapping it +-1 frame)
   and frames/s (decode included) for orrery's detector next to PySceneDetect's detectors in the
   same run. The detector's thresholds were tuned on seed 1; this benchmark draws seed 7.
2. End to end: `curate()` on generated videos, video-seconds per core-second (CPU time of this
   process and its children) and peak resident memory.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/curate.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from orrery.curate.probe import decode
from orrery.curate.shots import detect_shots, shots_from_transitions
from orrery.curate.synth import make_video, match_transitions
from orrery.data.video import encode_mp4

RESOLUTIONS = [(64, 64), (96, 128), (180, 320), (270, 480)]


def make_set(folder: Path, seed: int, per_res: int, fps: float = 25.0) -> list[tuple[Path, list]]:
    rng = np.random.default_rng(seed)
    out = []
    for h, w in RESOLUTIONS:
        for i in range(per_res):
            v = make_video(rng, h, w, n_shots=6)
            p = folder / f"v{h}x{w}_{i}.mp4"
            p.write_bytes(encode_mp4(v.frames, fps, "yuv444p", 18))
            out.append((p, v.transitions, len(v.frames)))
    return out


def run_orrery(path: Path) -> list[tuple[int, int]]:
    frames, _, _ = decode(str(path), 128, 10**6)
    trans, _ = detect_shots(frames)
    return trans


def _scenedetect(make):
    def run(path: Path) -> list[tuple[int, int]]:
        from scenedetect import SceneManager, open_video

        video = open_video(str(path), backend="pyav", threading_mode="AUTO")  # the same FFmpeg threading as ours
        sm = SceneManager()
        sm.add_detector(make())
        sm.detect_scenes(video, show_progress=False)
        import av

        av.logging.set_level(av.logging.ERROR)  # PySceneDetect's PyAV backend turns libav logging up
        starts = [s[0] for s in sm.get_scene_list()[1:]]
        cuts = [t.frame_num if hasattr(t, "frame_num") else t.get_frames() for t in starts]
        return [(c, c) for c in cuts]
    return run


def detectors() -> tuple[dict, str | None]:
    dets = {"orrery": run_orrery}
    try:
        import scenedetect
        from scenedetect import AdaptiveDetector, ContentDetector
    except Exception as e:  # said plainly in the output, never hidden
        return dets, (f"PySceneDetect could not be imported ({type(e).__name__}: {e}); no baseline in this run "
                      "(`make bench-deps` installs it without its non-headless OpenCV)")
    dets["scenedetect.ContentDetector"] = _scenedetect(ContentDetector)
    dets["scenedetect.AdaptiveDetector"] = _scenedetect(AdaptiveDetector)
    if hasattr(scenedetect, "HistogramDetector"):
        dets["scenedetect.HistogramDetector"] = _scenedetect(scenedetect.HistogramDetector)
    if hasattr(scenedetect, "HashDetector"):
        dets["scenedetect.HashDetector"] = _scenedetect(scenedetect.HashDetector)
    return dets, None


def bench_shots(folder: Path, per_res: int) -> list[str]:
    data = make_set(folder, seed=7, per_res=per_res)
    dets, note = detectors()
    n_frames = sum(n for _, _, n in data)
    kinds = sorted({k for _, tr, _ in data for *_, k in tr})
    lines = [f"shot detection: {len(data)} videos, {n_frames} frames, "
             f"resolutions {', '.join(f'{w}x{h}' for h, w in RESOLUTIONS)}; "
             f"transitions: " + ", ".join(f"{k} {sum(1 for _, tr, _ in data for t in tr if t[2] == k)}" for k in kinds)]
    if note:
        lines.append("NOTE: " + note)
    lines.append(f"{'detector':32s} {'P':>6s} {'R':>6s} {'F1':>6s} " + " ".join(f"{'R.' + k:>10s}" for k in kinds)
                 + f" {'frames/s':>9s} {'frames/cpu-s':>12s} {'leak':>7s}")
    # round robin (video by video, every detector in turn) so that load from other jobs on a shared
    # machine falls on all detectors alike
    preds_by = {name: [] for name in dets}
    secs = dict.fromkeys(dets, 0.0)
    cpus = dict.fromkeys(dets, 0.0)
    for p, _, _ in data:
        for name, fn in dets.items():
            t0, c0 = time.perf_counter(), time.process_time()
            preds_by[name].append(fn(p))
            secs[name] += time.perf_counter() - t0
            cpus[name] += time.process_time() - c0
    for name in dets:
        tp = fp = fn_ = 0
        by_kind = {k: [0, 0] for k in kinds}
        preds, dt = preds_by[name], secs[name]
        leaked = total_gradual = 0
        for (_, truth, n), pred in zip(data, preds, strict=True):
            inside = np.zeros(n, bool)  # frames that end up in a detected shot
            for s, e in shots_from_transitions(n, sorted(pred)):
                inside[s:e] = True
            for a0, b0, kind in truth:
                if kind != "cut":
                    leaked += int(inside[a0:b0].sum())
                    total_gradual += b0 - a0
            a, b, c = match_transitions(pred, truth)
            tp, fp, fn_ = tp + a, fp + b, fn_ + c
            for k in kinds:
                sub = [t for t in truth if t[2] == k]
                by_kind[k][0] += match_transitions(pred, sub)[0]
                by_kind[k][1] += len(sub)
        p = tp / max(1, tp + fp)
        r = tp / max(1, tp + fn_)
        f1 = 2 * p * r / max(1e-9, p + r)
        lines.append(f"{name:32s} {p:6.3f} {r:6.3f} {f1:6.3f} "
                     + " ".join(f"{by_kind[k][0] / max(1, by_kind[k][1]):10.3f}" for k in kinds)
                     + f" {n_frames / dt:9.0f} {n_frames / cpus[name]:10.0f} {leaked / max(1, total_gradual):7.3f}")
    lines.append("frames/s: wall clock, decoding included (FFmpeg frame threads for all); frames/cpu-s: per "
                 "second of CPU time of all threads (fairer on a shared machine)")
    lines.append("leak: fraction of the frames of fades and dissolves left inside a detected shot (a detector "
                 "that returns cut points only leaves every mixed frame in a shot)")
    return lines


def _cpu_s() -> float:
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _vmhwm_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM")) / 1024


def bench_end_to_end(folder: Path, n_videos: int) -> list[str]:
    from orrery.curate.config import parse_config
    from orrery.curate.pipeline import curate

    rng = np.random.default_rng(11)
    inp = folder / "e2e-in"
    inp.mkdir()
    fps, seconds = 25.0, 0.0
    for i in range(n_videos):
        v = make_video(rng, 180, 320, n_shots=5)
        (inp / f"clip{i}.mp4").write_bytes(encode_mp4(v.frames, fps, "yuv444p", 18))
        seconds += len(v.frames) / fps
    from orrery.curate.faces import find_cascade

    cascade = find_cascade()
    faces = cascade is not None and cascade.is_file()
    cfg = parse_config({"privacy": {"face_blur": faces}})
    cpu0, t0 = _cpu_s(), time.perf_counter()
    summary = curate(inp, folder / "e2e-out", cfg, workers=1, progress=False)
    cpu, wall = _cpu_s() - cpu0, time.perf_counter() - t0
    peak_self = _vmhwm_mib()
    return [f"end to end: {n_videos} videos of 320x180 at 25 fps, {seconds:.1f} video-seconds, 1 worker; "
            f"kept {summary['kept']} clips, rejected {summary['rejected']}; face blur "
            + ("ON" if faces else "OFF (no face cascade: OpenCV 5 ships none; orrery pins opencv<5)"),
            f"  {seconds / cpu:.2f} video-seconds per core-second (cpu {cpu:.1f} s, wall {wall:.1f} s)",
            f"  peak resident memory of the driver process (stages run inline): {peak_self:.0f} MiB"]


def _decoder_peak_mib(path: Path) -> float:
    """Peak RSS (VmHWM, kB) of one isolated decoder process. Not ru_maxrss: Linux carries a forked
    parent's peak over exec into the child's ru_maxrss."""
    import subprocess

    out = tempfile.mkdtemp(prefix="dec-")
    code = ("import sys, runpy; sys.argv = ['probe', sys.argv[1], '128', '1000000', sys.argv[2]]; "
            "runpy.run_module('orrery.curate.probe', run_name='__main__'); "
            "print([ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0])")
    res = subprocess.run([sys.executable, "-c", code, str(path), out], capture_output=True, text=True, check=True)
    return int(res.stdout.split()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer videos")
    ap.add_argument("--part", choices=["all", "shots", "e2e"], default="all")
    args = ap.parse_args()
    import av

    av.logging.set_level(av.logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="orrery-bench-curate-") as d:
        folder = Path(d)
        if args.part in ("all", "shots"):
            print("\n".join(bench_shots(folder, per_res=2 if args.quick else 5)), flush=True)
            av.logging.set_level(av.logging.ERROR)  # PySceneDetect turns libav logging up
        if args.part == "all":  # end to end in a fresh process: its peak memory is its own
            import subprocess

            cmd = [sys.executable, __file__, "--part", "e2e"] + (["--quick"] if args.quick else [])
            subprocess.run(cmd, check=True)
        elif args.part == "e2e":
            print("\n".join(bench_end_to_end(folder, 2 if args.quick else 6)), flush=True)
            print(f"  peak resident memory of one decoder process: "
                  f"{_decoder_peak_mib(next((folder / 'e2e-in').glob('*.mp4'))):.0f} MiB")
    if args.part != "e2e":
        print(f"python {sys.version.split()[0]}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")


if __name__ == "__main__":
    main()
