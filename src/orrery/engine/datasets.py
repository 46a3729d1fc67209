"""The engine's data: clips asked for by (scenario, parameters, seed, why), simulated with the same
per-shard code as `orrery simulate` on any executor, and dataset folders composed from them.

A batch of requests is simulated into its own folder (shards + `requests.json`, the provenance of
every clip: round, arm, cell, the score that asked for it). A training set is a dataset folder
whose shards are hard links (copies where links are impossible) to those batches' shards, with one
manifest carrying the provenance columns. Everything is written to a temporary name and renamed,
and a batch whose shards exist is never simulated again: a killed engine resumes without
simulating a clip twice."""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..data.atomic import clean_temporaries, write_text
from ..data.manifest import SPLITS, read_manifest, write_manifest
from ..data.schema import merge_all
from ..data.shards import adopt_old_sidecars, shard_done, sidecar_dir
from ..sim.simulate import ClipTask, ShardTask, run_shard
from .spec import EngineSpec


@dataclass(frozen=True)
class Request:
    """One clip to simulate, and why."""

    key: str
    split: str
    scenario: str
    params: dict
    seed: int
    purpose: str  # start | probe | test | acquired | scale
    cells: str = ""  # the cells it lies in, comma-separated
    round: int = 0
    arm: str = ""
    asked_for: str = ""  # the cell it was drawn for
    score: float = float("nan")  # that cell's failure score when it was asked for


def clip_seed(spec_seed: int, *key: int) -> int:
    """A clip seed derived from the engine seed and a purpose key (never shared between purposes)."""
    return int(np.random.SeedSequence(spec_seed, spawn_key=key).generate_state(1, dtype=np.uint64)[0] >> 1)


def simulate_requests(requests: list[Request], folder: Path, tag: str, spec: EngineSpec, executor: str = "local",
                      workers: int = 1, ray_address: str | None = None) -> Path:
    """Simulate `requests` into `folder` (shards/ + requests.json), unless already done. `tag`
    names the batch in its shard names (`{split}-{tag}-{n}.tar`), which must differ between the
    batches a dataset is composed of."""
    done = folder / "requests.json"
    if done.exists():
        return folder
    shards = folder / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    clean_temporaries(shards)
    video = spec.video.model_dump()
    tasks = []
    for n in range(math.ceil(len(requests) / spec.shard_size)):
        chunk = requests[n * spec.shard_size:(n + 1) * spec.shard_size]
        clips = tuple(ClipTask(r.key, r.split, r.scenario, dict(r.params), r.seed, None, None, ())
                      for r in chunk)
        name = f"{chunk[0].split}-{tag}-{n:05d}"
        tasks.append(ShardTask(name, str(shards), clips, video))
    sidecar_dir(shards).mkdir(exist_ok=True)
    todo = [t for t in tasks if not shard_done(shards, t.name)]
    if todo:
        from ..exec import make_executor

        with make_executor(executor, workers, ray_address) as ex:
            for _ in ex.map_unordered(run_shard, todo):
                pass
    write_text(done, json.dumps([asdict(r) for r in requests], indent=0, allow_nan=True))
    return folder


def _sidecars(folder: Path) -> list[dict]:
    """A batch's shard sidecars (those an older version left in shards/ are moved into place first)."""
    adopt_old_sidecars(folder / "shards")
    return [json.loads(p.read_text()) for p in sorted(sidecar_dir(folder / "shards").glob("*.rows.json"))]


def batch_rows(folder: Path) -> list[dict]:
    """Manifest rows of a simulated batch with its provenance columns (clips set aside are left out)."""
    prov = {r["key"]: r for r in json.loads((folder / "requests.json").read_text())}
    rows = []
    for side in _sidecars(folder):
        for row in side["rows"]:
            p = prov[row["key"]]
            row.update({"purpose": p["purpose"], "cells": p["cells"], "round": p["round"], "arm": p["arm"],
                        "asked_for": p["asked_for"], "score": p["score"]})
            rows.append(row)
    return rows


def compose(folder: Path, batches: list[Path], spec_yaml: str, sheet_note: str = "") -> Path:
    """A dataset folder of the clips of `batches` (shards linked, one manifest), with its datasheet
    and a provenance section (why each clip was added). Rebuilt only if missing."""
    if (folder / "manifest.parquet").exists() and (folder / "datasheet.md").exists():
        return folder
    shards = folder / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    clean_temporaries(shards)
    rows = []
    for b in batches:
        for tar in sorted((b / "shards").glob("*.tar")):
            _link(tar, shards / tar.name)
        rows += batch_rows(b)
    keys = [r["key"] for r in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{folder}: batches {[str(b) for b in batches]} share clip keys")
    write_text(folder / "spec.yaml", spec_yaml)
    write_manifest(folder / "manifest.parquet", rows)
    from ..data.datasheet import write_datasheet

    sheet = write_datasheet(folder)
    write_text(sheet, sheet.read_text() + provenance_section(rows, sheet_note))
    from ..data.card import write_dataset_card

    sides = [s for b in batches for s in _sidecars(b)]
    counts = {s: sum(1 for r in rows if r["split"] == s) for s in SPLITS}
    write_dataset_card(folder, folder.name, counts, merge_all(s.get("schema", "null") for s in sides),
                       {m for s in sides for m in s.get("members", ())}, "simulate",
                       sorted({r["scenario"] for r in rows}))
    return folder


def _link(src: Path, dst: Path) -> None:
    if dst.exists():
        return
    tmp = dst.with_name(f".{dst.name}.link-{os.getpid()}")
    try:
        os.link(src, tmp)
    except OSError:  # another file system, or links not allowed: copy
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def provenance_section(rows: list[dict], note: str = "") -> str:
    """Markdown: how many clips each purpose, round and arm added, and the cells they were asked for."""
    from collections import Counter

    lines = ["", "## Provenance (data engine)", ""]
    if note:
        lines += [note, ""]
    by = Counter((r.get("purpose", ""), r.get("round", 0), r.get("arm", "")) for r in rows)
    lines += ["| why | round | arm | clips |", "|---|---|---|---|"]
    lines += [f"| {p} | {rd} | {a or '–'} | {n} |" for (p, rd, a), n in sorted(by.items())]
    asked = Counter(r["asked_for"] for r in rows if r.get("purpose") == "acquired" and r.get("asked_for"))
    if asked:
        scores = {}
        for r in rows:
            if r.get("asked_for"):
                scores.setdefault(r["asked_for"], []).append(r.get("score", float("nan")))
        lines += ["", "Clips added by the engine, by the cell they were asked for (failure score when asked: "
                  "the cell's probe error above the floor over the baseline's):", "",
                  "| cell | clips | failure score |", "|---|---|---|"]
        lines += [f"| {c} | {n} | {_mean(scores[c]):.3g} |" for c, n in sorted(asked.items())]
    lines.append("")
    return "\n".join(lines)


def _mean(xs) -> float:
    xs = np.asarray(xs, dtype=np.float64)
    xs = xs[np.isfinite(xs)]
    return float(xs.mean()) if xs.size else float("nan")


def manifest_rows(folder: Path) -> list[dict]:
    return read_manifest(folder).to_pylist()
