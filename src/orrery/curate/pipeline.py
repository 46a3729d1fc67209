"""`curate()`: real videos in, the dataset format of `simulate` out.

Two phases, both resumable:
  1. per input (one executor task each, any order): decode -> shots -> split -> filters -> caption
     -> privacy -> embed -> encode. The task writes `work/ID.tar` (the encoded clips) and then
     `work/ID.json` (its completion marker: clip records and rejections), both atomically. A rerun
     skips inputs whose marker exists, so a kill -9 loses at most the inputs in flight.
  2. over the whole set (in the driver, cheap: no decoding): the dataset-percentile blur floor,
     dedup, then shards, manifest.parquet, rejected.parquet and datasheet.md, rewritten from the
     markers every time (deterministic, so a rerun gives byte-identical files).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..data.atomic import clean_temporaries, write_text
from ..data.clip import Clip
from ..data.jsonfile import read_json
from ..data.lock import folder_lock
from ..data.manifest import SPLITS, write_manifest
from ..data.shards import read_shard, write_shard
from .captions import Caption
from .config import CurateConfig, dump_config
from .dedup import Embed, find_duplicates
from .filters import (
    BlankFilter,
    BlurFilter,
    DurationFilter,
    ExposureFilter,
    LetterboxFilter,
    MotionFilter,
    percentile_floor,
)
from .privacy import CaptionBlocklist, FaceBlur, PrivacyGuardError
from .probe import VIDEO_EXTS, ProbeDecode
from .split import DetectShots, SplitShots, input_id
from .stages import ClipItem, Pipeline, Stage

STAGE_ORDER = ["decode", "shots", "split", "duration", "letterbox", "blank", "exposure", "motion", "blur",
               "caption", "privacy", "blocklist", "embed", "encode"]


class InputError(ValueError):
    """INPUT is neither a folder, a video, nor a readable list of paths."""


def list_inputs(inp: str | Path, exclude: Path | None = None) -> list[tuple[str, str]]:
    """INPUT -> [(source as listed, resolved path)], sorted, unique.

    A folder: every non-hidden file below it (non-videos too: they are reported, not skipped
    silently). A video file: itself. Any other file: a list of paths, one per line (# comments),
    relative to the list's folder."""
    p = Path(inp)
    if not p.exists():
        raise InputError(f"{inp}: no such file or folder")
    if p.is_dir():
        out = []
        for f in sorted(p.rglob("*")):
            rel = f.relative_to(p)
            if any(part.startswith(".") for part in rel.parts) or f.is_dir():
                continue
            if exclude is not None and (f.resolve() == exclude or exclude in f.resolve().parents):
                continue
            out.append((rel.as_posix(), str(f)))
        return out
    if not p.is_file():  # a FIFO or device: reading it as a list of paths could wait forever
        raise InputError(f"{inp}: not a folder, a regular file or a list of paths (a FIFO or device?)")
    if p.suffix.lower() in VIDEO_EXTS:
        return [(p.name, str(p))]
    try:
        text = p.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as e:
        raise InputError(f"{inp}: not a folder, a video, or a text file listing paths ({e})") from None
    seen, out = set(), []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line in seen:
            continue
        seen.add(line)
        q = Path(line)
        out.append((line, str(q if q.is_absolute() else p.parent / q)))
    return out


class Encode(Stage):
    """ClipItem -> ClipItem with its shard members (H.264 mp4 + json meta)."""

    name = "encode"

    def __init__(self, cfg: CurateConfig):
        self.cfg = cfg

    def process(self, item: ClipItem):
        h, w = item.frames.shape[1:3]
        meta = {
            "key": item.key, "split": item.split, "source": "curate", "scenario": "curate", "fps": item.fps,
            "n_frames": int(len(item.frames)), "size": [int(h), int(w)], "captions": item.captions, "qa": [],
            "provenance": {"source": "curate", "file": item.source, "input_id": item.input_id, "shot": item.shot,
                           "start_s": round(item.start_s, 6), "end_s": round(item.end_s, 6),
                           "source_frames": list(item.source_frames)},
            "scores": {k: round(float(v), 6) for k, v in sorted(item.scores.items())},
            "privacy": {"faces_blurred": item.faces_blurred, "face_guard": self.cfg.privacy.face_blur},
        }
        clip = Clip(key=item.key, frames=item.frames, masks=None, meta=meta)
        item.sample = clip.to_sample(codec=self.cfg.clips.codec, crf=self.cfg.clips.crf)
        item.n_frames = len(item.frames)
        item.frames, item.work = item.frames[:0], None  # only the encoded bytes are kept from here
        return item


def build_stages(cfg: CurateConfig, tmp_root: str | None = None) -> list[Stage]:
    """The per-input stages in order (the privacy guard is constructed here: it fails closed)."""
    f = cfg.filters
    stages: list[Stage] = [
        ProbeDecode(cfg.decode.work_side, cfg.decode.max_frames, cfg.decode.timeout_s, tmp_root),
        DetectShots(cfg), SplitShots(cfg), DurationFilter(cfg.clips.min_s), LetterboxFilter(f), BlankFilter(f),
        ExposureFilter(f), MotionFilter(f), BlurFilter(f), Caption(cfg.captioner)]
    if cfg.privacy.face_blur:
        stages.append(FaceBlur(cfg.privacy.face_min_px, cfg.privacy.face_every, cfg.privacy.cascade))
    stages += [CaptionBlocklist(cfg.privacy.blocklist), Embed(cfg.dedup.semantic.embedding), Encode(cfg)]
    return stages


def process_input(task: dict) -> dict:
    """One input, start to end, in a worker. Writes work/ID.tar then work/ID.json; returns the marker."""
    work = Path(task["work"])
    marker = work / f"{task['input_id']}.json"
    if marker.exists():  # finished by an earlier (killed) run
        return read_json(marker)
    cfg = CurateConfig.model_validate(task["config"])
    pipe = Pipeline(build_stages(cfg, tmp_root=str(work)))
    kept, rejected = pipe.run((task["source"], task["path"], task["input_id"]))  # a stage's error is set aside
    kept = sorted(kept, key=lambda c: c.key)
    write_shard(work / f"{task['input_id']}.tar", [(c.key, c.sample) for c in kept])
    result = {
        "input_id": task["input_id"], "source": task["source"],
        "clips": [{"key": c.key, "split": c.split, "source": c.source, "start_s": c.start_s, "end_s": c.end_s,
                   "shot": c.shot, "fps": c.fps, "n_frames": c.n_frames, "captions": c.captions,
                   "scores": c.scores, "digest": c.digest, "phash": c.phash,
                   "embedding": [round(float(v), 7) for v in c.embedding]} for c in kept],
        "rejected": [r.row() for r in rejected],
        "counts": pipe.counts,
    }
    text = json.dumps(result, sort_keys=True)
    write_text(marker, text)
    return json.loads(text)  # exactly what a resumed run reads back


@dataclass
class _Progress:
    """Per-stage progress on the terminal (rich), or nothing."""

    enabled: bool
    total: int

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.p = Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                              TextColumn("{task.fields[info]}"), TimeElapsedColumn())
            self.p.__enter__()
            self.inputs = self.p.add_task("inputs", total=self.total, info="")
            self.stages = {s: self.p.add_task(s, total=None, info="", visible=False) for s in STAGE_ORDER}
        return self

    def update(self, counts: dict[str, list[int]], done: int) -> None:
        if not self.enabled:
            return
        self.p.update(self.inputs, completed=done)
        for s, (i, o, r) in counts.items():
            if s in self.stages and i:
                self.p.update(self.stages[s], completed=i, total=i, visible=True,
                              info=f"-> {o}" + (f", {r} rejected" if r else ""))

    def __exit__(self, *exc):
        if self.enabled:
            self.p.__exit__(*exc)


def curate(inp: str | Path, out: str | Path, config: CurateConfig | None = None, workers: int = 1,
           executor: str = "local", ray_address: str | None = None, progress: bool = True,
           on_result: Callable[[dict], None] | None = None) -> dict:
    """Curate INPUT (folder, video or list of paths) into the dataset folder OUT; returns a summary
    {kept, rejected, reasons: {reason: n}, inputs, shards}. Resumes from OUT/work. One run at a time
    writes a folder (`folder_lock`)."""
    cfg = config or CurateConfig()
    out = Path(out)
    with folder_lock(out, "curate"):
        return _curate(inp, out, cfg, workers, executor, ray_address, progress, on_result)


def clean_work(work: Path) -> int:
    """Remove what a killed run left in work/: temporaries and the decoder's `decode-*` folders.
    Only while holding the output folder's lock (a live run's files look the same)."""
    import shutil

    n = clean_temporaries(work)
    for d in work.glob("decode-*"):
        if d.is_dir():
            shutil.rmtree(d, ignore_errors=True)
            n += 1
    return n


def _curate(inp, out: Path, cfg: CurateConfig, workers: int, executor: str, ray_address: str | None,
            progress: bool, on_result: Callable[[dict], None] | None) -> dict:
    from ..exec import TaskError, make_executor

    work = out / "work"
    resolved = dump_config(cfg)
    spec = out / "curate.yaml"
    if spec.exists() and spec.read_text() != resolved and work.is_dir() and any(work.glob("*.json")):
        raise InputError(f"{out}: holds a curate run made with a different config ({spec}); resume needs the "
                         "same config: use a new --out, or delete that folder")
    inputs = list_inputs(inp, exclude=out.resolve())
    if cfg.privacy.face_blur:
        FaceBlur(cfg.privacy.face_min_px, cfg.privacy.face_every, cfg.privacy.cascade)  # fails closed, before work
    work.mkdir(parents=True, exist_ok=True)
    clean_work(work)
    clean_temporaries(out)
    write_text(spec, resolved)
    ids = [input_id(src) for src, _ in inputs]
    results: dict[str, dict] = {}
    tasks = []
    for (src, path), iid in zip(inputs, ids, strict=True):
        marker = work / f"{iid}.json"
        if marker.exists():
            results[iid] = read_json(marker)
        else:
            tasks.append({"source": src, "path": path, "input_id": iid, "work": str(work),
                          "config": cfg.model_dump(mode="json")})
    totals: dict[str, list[int]] = {s: [0, 0, 0] for s in STAGE_ORDER}

    def add(res: dict) -> None:
        for s, c in res.get("counts", {}).items():
            t = totals.setdefault(s, [0, 0, 0])
            for j in range(3):
                t[j] += c[j]

    for r in results.values():
        add(r)
    with _Progress(progress, len(inputs)) as prog:
        prog.update(totals, len(results))
        if tasks:
            try:
                with make_executor(executor, workers, ray_address) as ex:
                    for _, res in ex.map_unordered(process_input, tasks):
                        results[res["input_id"]] = res
                        add(res)
                        prog.update(totals, len(results))
                        if on_result is not None:
                            on_result(res)
            except TaskError as e:
                cause = e.cause
                if isinstance(cause, PrivacyGuardError) or "PrivacyGuardError" in type(cause).__name__:
                    raise PrivacyGuardError(str(cause)) from None
                raise
    return finish(out, cfg, [results[i] for i in ids if i in results], totals)


def finish(out: Path, cfg: CurateConfig, results: list[dict], totals: dict) -> dict:
    """Phase 2: blur percentile, dedup, shards, manifest, rejected, datasheet (idempotent)."""
    from .datasheet import write_datasheet

    clips = [c for r in results for c in r["clips"]]
    rejected = [row for r in results for row in r["rejected"]]
    floor = percentile_floor([c["scores"]["sharpness"] for c in clips], cfg.filters.blur_percentile)
    blurry = {c["key"] for c in clips if c["scores"]["sharpness"] < floor}
    for c in clips:
        if c["key"] in blurry:
            rejected.append(_reject_row(c, "blur", "blurry",
                                        f"sharpness {c['scores']['sharpness']:.1f} below the dataset's "
                                        f"{cfg.filters.blur_percentile:g}th percentile ({floor:.1f})"))
    clips = [c for c in clips if c["key"] not in blurry]
    d = cfg.dedup
    dups = find_duplicates(clips, d.phash_max_distance, d.semantic.enabled, d.semantic.clusters,
                           d.semantic.max_cosine_distance, cfg.seed, exact=d.exact)
    for c in clips:
        if c["key"] in dups:
            reason, of = dups[c["key"]]
            rejected.append(_reject_row(c, "dedup", reason, f"duplicate of {of}"))
    clips = sorted((c for c in clips if c["key"] not in dups), key=lambda c: c["key"])
    by_input = {c["key"]: r["input_id"] for r in results for c in r["clips"]}
    shards_dir = out / "shards"
    shards_dir.mkdir(parents=True, exist_ok=True)
    rows, written = [], set()
    for split in sorted({c["split"] for c in clips}):
        members = [c for c in clips if c["split"] == split]
        for si in range(0, len(members), cfg.clips_per_shard):
            chunk = members[si:si + cfg.clips_per_shard]
            name = f"{split}-{si // cfg.clips_per_shard:05d}.tar"
            write_shard(shards_dir / name, _samples(out / "work", chunk, by_input))
            written.add(name)
            for c in chunk:
                rows.append(_manifest_row(c, name))  # a bare file name in shards/, as simulate writes
    for stale in shards_dir.glob("*.tar"):
        if stale.name not in written:
            stale.unlink()
    write_manifest(out / "manifest.parquet", rows)
    _write_rejected(out / "rejected.parquet", rejected)
    reasons = Counter(r["reason"] for r in rejected)
    summary = {"inputs": len(results), "kept": len(rows), "rejected": len(rejected),
               "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
               "shards": sorted(written), "stages": {s: list(v) for s, v in totals.items() if v[0]}}
    write_datasheet(out / "datasheet.md", cfg, summary, rows, rejected)
    from ..data.card import write_dataset_card
    from ..data.schema import scan_schema

    schema, members = scan_schema(sorted(shards_dir / n for n in written))
    counts = {s: sum(1 for r in rows if r["split"] == s) for s in SPLITS}
    write_dataset_card(out, out.name, counts, schema, members, "curate")
    return summary


def _samples(work: Path, chunk: list[dict], by_input: dict[str, str]):
    cache_id, cache = None, {}
    for c in chunk:
        iid = by_input[c["key"]]
        if iid != cache_id:
            cache_id, cache = iid, dict(read_shard(work / f"{iid}.tar"))
        yield c["key"], cache[c["key"]]


def _reject_row(c: dict, stage: str, reason: str, detail: str) -> dict:
    return {"key": c["key"], "source": c["source"], "stage": stage, "reason": reason, "detail": detail,
            "start_s": c["start_s"], "end_s": c["end_s"],
            **{f"score.{k}": float(v) for k, v in sorted(c["scores"].items())}}


def _manifest_row(c: dict, shard: str) -> dict:
    row = {"key": c["key"], "split": c["split"], "shard": shard, "source": "curate", "scenario": "curate",
           "provenance.file": c["source"], "provenance.start_s": c["start_s"], "provenance.end_s": c["end_s"],
           "provenance.shot": c["shot"], "fps": c["fps"], "n_frames": c["n_frames"],
           "caption": c["captions"][0] if c["captions"] else "", "phash": f"{c['phash']:016x}"}
    row.update({f"score.{k}": float(v) for k, v in sorted(c["scores"].items())})
    return row


def _write_rejected(path: Path, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..data.atomic import atomic_path

    rows = sorted(rows, key=lambda r: (r["source"], r["key"], r["stage"]))
    cols: dict[str, None] = {k: None for k in ("key", "source", "stage", "reason", "detail", "start_s", "end_s")}
    for r in rows:
        for k in r:
            cols.setdefault(k, None)
    schema = pa.schema([(k, pa.string() if k in ("key", "source", "stage", "reason", "detail") else pa.float64())
                        for k in cols])
    table = pa.Table.from_pylist([{k: r.get(k) for k in cols} for r in rows], schema=schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)

