"""The benchmark for outside models: `bench_export` writes what any video model needs (context
frames as MP4 and PNG, prompts, a README for submitters) plus the answer key the scorer reads;
`bench_score` scores a folder of videos made by any model.

A submitted video `KEY.<mp4|webm|mkv|mov|avi|gif>` holds the frames that follow the context (use
`skip` if it starts by repeating the context). Other frame sizes are resized (area filter) and
other frame rates resampled to the benchmark's (nearest frame in time). Missing, extra, short
and unreadable videos are listed in the result, never fatal: a short video is scored on the
frames it has."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..data.atomic import clean_temporaries, replace_set, write_bytes, write_text
from ..data.jsonfile import read_json
from ..data.lock import folder_lock
from ..data.shards import npz_bytes, npz_load
from ..data.video import decode_mp4, decode_video, encode_mp4, probe_video, read_video_file
from .scoring import score_clip
from .truth import truth_problem

VIDEO_EXTS = (".mp4", ".webm", ".mkv", ".mov", ".avi", ".gif")

README = """# orrery physics benchmark ({n} items, split {split})

For each item, predict the **{horizon} frames** that follow the {context} context frames.

- `context/KEY.mp4` (H.264, yuv444p, {fps:g} fps, {size}x{size}) and `context/KEY/NN.png`: the context frames.
- `prompts.jsonl`: one line per item: key, caption (a description of the scene), fps, size, context, horizon.
- Submit a folder of videos named `KEY.mp4` (also .webm, .mkv, .mov, .avi, .gif) holding the predicted
  frames only, in order, starting with the frame right after the last context frame. If your model
  re-emits the context first, score with `--skip {context}`.
- Other sizes and frame rates are accepted: frames are resized to {size}x{size} and resampled to {fps:g} fps.
- Score: `orrery bench score --bench THIS_FOLDER --videos YOUR_FOLDER`. Missing, short (fewer than
  {horizon} frames), unreadable and extra videos are listed in the result.
- `answers/` is the scorer's answer key (exact simulated states and true future frames). A fair
  submission never reads it.

Objects are identified by colour: keep each object's colour and the black background.
"""


def bench_export(data_dir: str | Path, split: str, out: str | Path, context: int = 4, horizon: int = 12,
                 start: int = 0, limit: int | None = None, progress: bool = True) -> dict:
    """Export one split as a benchmark folder; resumes (items already written are kept). One export
    at a time writes `out` (`folder_lock`)."""
    if context < 1 or horizon < 1 or start < 0:
        raise ValueError(f"context >= 1, horizon >= 1, start >= 0 required; got {context}, {horizon}, {start}")
    out = Path(out)
    with folder_lock(out, "bench export"):
        clean_temporaries(out)
        return _export(data_dir, split, out, context, horizon, start, limit, progress)


def _export(data_dir: str | Path, split: str, out: Path, context: int, horizon: int, start: int,
            limit: int | None, progress: bool) -> dict:
    from ..data.dataset import ClipStore

    store = ClipStore(data_dir, split)
    n = len(store) if limit is None else min(limit, len(store))
    items, skipped, sizes, fpss = [], [], set(), set()
    from rich.progress import Progress

    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"exporting {split}", total=n)
        for i in range(n):
            bar.advance(task)
            _export_one(store.clip(i), out, start, context, horizon, items, skipped, sizes, fpss)
    if not items:
        raise ValueError(f"{data_dir}: no clip of split {split!r} could be exported"
                         + (f" ({skipped[0]['reason']})" if skipped else ""))
    if len(sizes) > 1 or len(fpss) > 1:
        raise ValueError(f"{data_dir}: clips of split {split!r} mix sizes {sorted(sizes)} or rates {sorted(fpss)}; "
                         "a benchmark needs one size and one frame rate")
    info = {"split": split, "data": str(Path(data_dir).resolve()), "context": context, "horizon": horizon,
            "start": start, "fps": fpss.pop(), "size": sizes.pop(), "keys": [it["key"] for it in items],
            "skipped": skipped, "n_items": len(items)}
    write_text(out / "prompts.jsonl", "".join(json.dumps(it) + "\n" for it in items))
    write_text(out / "README.md", README.format(n=len(items), split=split, horizon=horizon, context=context,
                                                fps=info["fps"], size=info["size"]))
    write_text(out / "bench.json", json.dumps(info, indent=1))
    return info


def _export_one(clip, out: Path, start: int, context: int, horizon: int, items: list, skipped: list,
                sizes: set, fpss: set) -> None:
    """Write one clip's context, prompt and answer key; the answer key is written last, so a clip
    with one was exported whole and is kept on resume."""
    from PIL import Image

    key = clip.key
    need = start + context + horizon
    if clip.frames.shape[0] < need:
        skipped.append({"key": key, "reason": f"{clip.frames.shape[0]} frames < {need}"})
        return
    problem = truth_problem(clip.meta, start, need)
    if problem is not None:  # a curated clip, or ground truth that cannot score: nothing to score against
        skipped.append({"key": key, "reason": problem[0]})
        return
    ctx = clip.frames[start:start + context]
    truth = clip.frames[start + context:start + need]
    sizes.add(int(ctx.shape[1]))
    fpss.add(clip.fps)
    answer = out / "answers" / f"{key}.npz"
    if not answer.exists():
        write_bytes(out / "context" / f"{key}.mp4", encode_mp4(ctx, clip.fps))
        for j, f in enumerate(ctx):
            p = out / "context" / key / f"{j:02d}.png"
            p.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(f).save(p)
        write_text(out / "answers" / f"{key}.json", json.dumps(clip.meta))
        arrays = {"truth": truth}
        if clip.masks is not None:
            arrays["masks"] = clip.masks[:need]
        write_bytes(answer, npz_bytes(**arrays))
    items.append({"key": key, "caption": clip.captions[0] if clip.captions else "", "scenario": clip.scenario,
                  "fps": clip.fps, "size": int(ctx.shape[1]), "context": context, "horizon": horizon,
                  "context_mp4": f"context/{key}.mp4",
                  "context_png": [f"context/{key}/{j:02d}.png" for j in range(context)]})


def _find_video(folder: Path, key: str) -> Path | None:
    for ext in VIDEO_EXTS:
        p = folder / f"{key}{ext}"
        if os.path.lexists(p):
            return p
    return None


def read_submission(path: Path, skip: int, need_s: float, target_fps: float) -> tuple[np.ndarray, float]:
    """The frames of one submitted video that scoring uses, bounded: a file that is not a regular
    file (a FIFO would block) or is too large is refused unread; decoding stops after `skip` frames
    plus those covering `need_s` seconds at the video's own rate."""
    data = read_video_file(path)
    fps = probe_video(data, path)["fps"]
    rate = fps if fps > 0 else target_fps
    first = skip + int(np.ceil(need_s * rate)) + 2
    return decode_video(data, path, first=first)


def conform(frames: np.ndarray, fps: float, size: int, target_fps: float, horizon: int) -> tuple[np.ndarray, list[str]]:
    """Resize frames [T, H, W, 3] to size x size and resample from fps to target_fps; at most
    `horizon` frames. Returns (frames, notes on what was changed)."""
    import cv2

    notes = []
    if frames.shape[1:3] != (size, size):
        notes.append(f"resized {frames.shape[2]}x{frames.shape[1]} -> {size}x{size}")
        interp = cv2.INTER_AREA if frames.shape[1] > size else cv2.INTER_LINEAR
        frames = np.stack([cv2.resize(f, (size, size), interpolation=interp) for f in frames])
    if fps > 0 and abs(fps - target_fps) > 1e-3 * target_fps:
        notes.append(f"resampled {fps:g} -> {target_fps:g} fps")
        # frame i of the benchmark is at time (i + 1) / target after the last context frame, frame j
        # of the video at (j + 1) / fps: take the nearest (never the context, which it does not hold)
        src = np.maximum(np.floor((np.arange(horizon) + 1) * fps / target_fps + 0.5).astype(int) - 1, 0)
        src = src[src < frames.shape[0]]
        frames = frames[src]
    return frames[:horizon], notes


def bench_score(bench: str | Path, videos: str | Path, out: str | Path, skip: int = 0, progress: bool = True) -> dict:
    """Score every video of `videos` against the benchmark `bench`; writes metrics.parquet,
    summary.json (with each video's status) and report.html into `out`, replaced as one set.
    One scoring at a time writes `out` (`folder_lock`)."""
    if skip < 0:
        raise ValueError(f"--skip: must be >= 0, got {skip}")
    out = Path(out)
    with folder_lock(out, "bench score"):
        clean_temporaries(out)
        return _score(Path(bench), Path(videos), out, skip, progress)


def _score(bench: Path, videos: Path, out: Path, skip: int, progress: bool) -> dict:
    from ..report.html import report_files
    from .summary import json_safe, summarise, write_metrics

    info_path = bench / "bench.json"
    if not info_path.exists():
        raise FileNotFoundError(f"{bench}: no bench.json; make the folder with `orrery bench export`")
    info = read_json(info_path)
    try:
        keys, h, tc = [str(k) for k in info["keys"]], int(info["horizon"]), int(info["context"])
        size, target_fps, start = int(info["size"]), float(info["fps"]), int(info["start"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{info_path}: not a benchmark description ({type(e).__name__}: {e})") from None
    if len(set(keys)) != len(keys):
        raise ValueError(f"{info_path}: an item key appears more than once")
    status: dict[str, list[str]] = {"ok": [], "short": [], "missing": [], "unreadable": [], "extra": [],
                                    "unscorable": []}
    notes: dict[str, str] = {}
    rows: list[dict] = []
    examples = {}
    known = set(keys)
    for p in sorted(videos.iterdir()):
        if p.suffix.lower() in VIDEO_EXTS and p.stem not in known:
            status["extra"].append(p.name)
    from rich.progress import Progress

    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("scoring videos", total=len(keys))
        for key in keys:
            bar.advance(task)
            if "/" in key or key in (".", ".."):
                raise ValueError(f"{info_path}: item key {key!r} is not a plain name")
            path = _find_video(videos, key)
            if path is None:
                status["missing"].append(key)
                continue
            meta = read_json(bench / "answers" / f"{key}.json")
            problem = truth_problem(meta, start, start + tc + h) if isinstance(meta, dict) else ("not a record", "clip")
            if problem is not None:  # the answer key cannot score this item: said, not averaged away
                status["unscorable"].append(key)
                notes[key] = problem[0]
                continue
            try:
                frames, fps = read_submission(path, skip, (h + 1) / target_fps, target_fps)
            except (ValueError, OSError) as e:  # this video's problem, not the run's: listed
                status["unreadable"].append(key)
                notes[key] = str(e)[:300]
                continue
            frames = frames[skip:]
            pred, what = conform(frames, fps, size, target_fps, h)
            if what:
                notes[key] = "; ".join(what)
            if pred.shape[0] == 0:
                status["short"].append(key)
                notes[key] = (notes.get(key, "") + "; no frames left").strip("; ")
                continue
            ans = npz_load((bench / "answers" / f"{key}.npz").read_bytes())
            ctx, _ = decode_mp4(bench / "context" / f"{key}.mp4", max_frames=tc)
            hh = pred.shape[0]
            truth = ans["truth"][:hh]
            masks = ans.get("masks")
            # masks hold rows 0..start+tc+h of the clip; score_clip indexes them by clip frame
            for name, p in (("submission", pred), ("floor", truth)):
                for r in score_clip(meta, ctx, p, truth, start, masks):
                    r.update(model=name, key=key, split=info["split"], scenario=meta.get("scenario", ""))
                    rows.append(r)
            if hh < h:
                status["short"].append(key)
                notes[key] = (notes.get(key, "") + f"; {hh} of {h} frames").strip("; ")
            else:
                status["ok"].append(key)
            if len(examples) < 32:
                examples[key] = (ctx, truth, pred)
    result = {"out": str(out), "status": status, "notes": notes, "bench": str(bench), "videos": str(videos)}
    files: dict = {"metrics.parquet": None, "report.html": None, "model_card.md": None}
    if rows:
        stamp = {"model": "submission", "data": str(bench), "split": info["split"], "context": tc, "horizon": h,
                 "start": start}
        skipped = [{"key": k, "reason": notes.get(k, s), "scored": "no"}
                   for s in ("missing", "unreadable", "unscorable") for k in status[s]]
        summary = summarise(rows, stamp, skipped, main="submission")
        result["summary"] = summary
        files["metrics.parquet"] = lambda tmp: write_metrics(tmp, rows)
        files.update(report_files(summary, examples))
    files["summary.json"] = json.dumps(json_safe(result), indent=1, allow_nan=False)
    replace_set(out, files, marker="summary.json")  # never new metrics beside an old summary
    return result
