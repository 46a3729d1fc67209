"""`run_scale`: a data-scaling study. The same preset is trained on 2^k clips of the starting
distribution (for several k and seeds, the same steps for every size), each size and seed one
independent task on the chosen executor; every run is measured at several checkpoints on an
in-distribution test set (the start ranges) and an out-of-distribution one (the engine's test
clips that lie outside the start ranges). Error against clips on log-log axes gets a fitted power
law, err = a * n^-b; error against steps shows where a size stops being compute-limited and
becomes data-limited."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..data.atomic import write_text
from ..data.lock import folder_lock
from .datasets import Request, clip_seed, compose, simulate_requests
from .loop import PURPOSES, Engine, _prepare
from .spec import load_engine_spec, parse_engine_spec


def _inside_start(eng: Engine, scenario: str, params: dict) -> bool:
    w = eng.cells.world[scenario]
    for p in w.space:
        region, v = w.start[p.name], params[p.name]
        if p.kind in ("choice", "bool"):
            if v not in region.choices:
                return False
        elif not any(a - 1e-9 <= float(v) <= b + 1e-9 for a, b in region.intervals):
            return False
    return True


def scale_task(job: dict) -> dict:
    """One (size, seed): simulate its training set, train, measure each checkpoint. Runs inside an
    executor worker; inputs and outputs are plain data."""
    from ..exec import torch_threads

    with torch_threads(job["threads"]):  # inline, this is the caller's process: its count comes back
        return _scale_task(job)


def _scale_task(job: dict) -> dict:
    from ..checkpoint import list_checkpoints
    from ..eval.evaluate import evaluate
    from ..models.registry import load_world_model
    from .stats import clip_errors

    spec, world = parse_engine_spec(job["spec"])
    eng = Engine(spec, world, Path(job["out"]), progress=False)
    root = Path(job["out"]) / "scale" / f"n{job['size']:05d}-s{job['seed']}"
    per_scn = [job["size"] // len(world) + (1 if i < job["size"] % len(world) else 0) for i in range(len(world))]
    reqs = []
    for w, n in zip(world, per_scn, strict=True):
        rng = eng.rng(PURPOSES["scale"], job["seed"], job["size"], w.index)
        for _ in range(n):
            params = eng.cells.sample(None, w.name, rng, start=True)
            reqs.append(Request(key=f"train-n{job['size']}-{len(reqs):06d}-{w.name}", split="train",
                                scenario=w.name, params=params,
                                seed=clip_seed(spec.seed, PURPOSES["scale"], job["seed"], job["size"], len(reqs)),
                                purpose="scale", cells=",".join(eng.cells.cells_of(w.name, params))))
    batch = simulate_requests(reqs, root / "clips", f"n{job['size']}-s{job['seed']}", spec)
    data = compose(root / "data", [batch], eng.spec_yaml(f"scale-{job['size']}"), "A scaling-study training set.")
    steps = job["steps"]
    m = spec.model
    every = max(1, steps // job["points"])
    sets = [*m.sets, f"train.steps={steps}", f"train.seed={job['seed']}", f"train.ckpt_every={every}",
            f"train.keep_last={job['points'] + 1}", "data.val_split=''"]
    from ..recipes.world import train_world

    run = root / "run"
    train_world(data, run, m.family, m.preset, None, sets, tokenizer=m.tokenizer or None, progress=False)
    out = {"size": job["size"], "seed": job["seed"], "points": []}
    for step in list_checkpoints(run):
        point = {"step": step}
        for name in ("id", "ood"):
            ev = root / f"eval-{name}-{step}"
            if not (ev / "summary.json").exists():
                wm = load_world_model(run, step=step)
                evaluate(wm, Path(job["sets"][name]), "test", ev, baselines=(), context=spec.eval.context,
                         horizon=spec.eval.horizon, progress=False, report=False)
            main = json.loads((ev / "summary.json").read_text())["main"]
            errs = clip_errors(ev).get(main, {})
            point[name] = float(np.mean(list(errs.values()))) if errs else math.nan
        out["points"].append(point)
    return out


def run_scale(spec_path: str | Path | dict, out: str | Path, sizes: list[int], seeds: list[int], steps: int,
              points: int = 4, executor: str = "local", workers: int = 1, ray_address: str | None = None,
              sets: list[str] | tuple[str, ...] = ()) -> dict:
    """Run (or resume) a scaling study into OUT/scale; returns the results (OUT/scale.json). Its
    tasks run in executor workers, which take no lock: the study holds OUT's."""
    spec, world = load_engine_spec(spec_path, sets)
    out = Path(out)
    with folder_lock(out, "orrery engine scale"):  # shares sets/ with `engine run` in the same folder
        return _scale(spec, world, out, sizes, seeds, steps, points, executor, workers, ray_address)


def _scale(spec, world, out: Path, sizes: list[int], seeds: list[int], steps: int, points: int, executor: str,
           workers: int, ray_address: str | None) -> dict:
    _prepare(out, spec)
    eng = Engine(spec, world, out)
    # the OOD set: the engine's test clips outside the start ranges; the ID set: fresh start-range clips
    test_dir, test_rows, _, _ = eng.eval_set("test")
    ood_rows = [r for r in test_rows if not _inside_start(eng, r["scenario"], _params(r))]
    ood_dir = out / "sets" / "scale-ood"
    if not (ood_dir / "manifest.parquet").exists():
        _subset(test_dir, ood_dir, {r["key"] for r in ood_rows}, eng)
    id_dir = out / "sets" / "scale-id"
    if not (id_dir / "manifest.parquet").exists():
        n = max(1, spec.test * len(eng.cells) // len(world))
        reqs = []
        for w in world:
            rng = eng.rng(PURPOSES["scale"], 10_000, w.index)
            for _ in range(n):
                params = eng.cells.sample(None, w.name, rng, start=True)
                reqs.append(Request(key=f"test-id-{len(reqs):06d}-{w.name}", split="test", scenario=w.name,
                                    params=params, seed=clip_seed(spec.seed, PURPOSES["scale"], 10_000, len(reqs)),
                                    purpose="scale", cells=",".join(eng.cells.cells_of(w.name, params))))
        batch = simulate_requests(reqs, out / "sets" / "scale-id-clips", "scale-id", spec, executor, workers,
                                  ray_address)
        compose(id_dir, [batch], eng.spec_yaml("scale-id"), "In-distribution test set of the scaling study.")
    from ..exec import make_executor, share_of_cores

    jobs = [{"spec": spec.model_dump(mode="json"), "out": str(out), "size": n, "seed": s, "steps": steps,
             "points": points, "sets": {"id": str(id_dir), "ood": str(ood_dir)},
             "threads": share_of_cores(workers)} for n in sizes for s in seeds]
    results = [None] * len(jobs)
    with make_executor(executor, workers, ray_address) as ex:
        for i, res in ex.map_unordered(scale_task, jobs):
            results[i] = res
            eng.say(f"scale: {res['size']} clips, seed {res['seed']}: "
                    + ", ".join(f"step {p['step']} id {p['id']:.2f} ood {p['ood']:.2f} px" for p in res["points"]))
    summary = {"sizes": sizes, "seeds": seeds, "steps": steps, "runs": results, "fit": fit(results)}
    write_text(out / "scale.json", json.dumps(summary, indent=0, allow_nan=True))
    return summary


def _params(row: dict) -> dict:
    return {k[len("param."):]: v for k, v in row.items() if k.startswith("param.")}


def _subset(src: Path, dst: Path, keys: set[str], eng: Engine) -> None:
    """A dataset folder holding only some clips of another (its shards linked, its manifest cut)."""
    from ..data.manifest import read_manifest, write_manifest
    from .datasets import _link

    rows = [r for r in read_manifest(src).to_pylist() if r["key"] in keys]
    (dst / "shards").mkdir(parents=True, exist_ok=True)
    for shard in {r["shard"] for r in rows}:
        _link(src / "shards" / shard, dst / "shards" / shard)
    write_text(dst / "spec.yaml", (src / "spec.yaml").read_text())
    write_manifest(dst / "manifest.parquet", rows)


def fit(runs: list[dict]) -> dict:
    """Power law err = a n^-b per test set, by least squares on log-log of the final checkpoint's
    error (mean over seeds per size); b and its spread over seeds (one fit per seed)."""
    out = {}
    for name in ("id", "ood"):
        by_size: dict[int, list[float]] = {}
        per_seed: dict[int, list[tuple[int, float]]] = {}
        for r in runs:
            if r and r["points"]:
                e = r["points"][-1][name]
                by_size.setdefault(r["size"], []).append(e)
                per_seed.setdefault(r["seed"], []).append((r["size"], e))
        sizes = sorted(by_size)
        if len(sizes) < 2:
            continue
        y = np.log([np.mean(by_size[n]) for n in sizes])
        slope, icpt = np.polyfit(np.log(sizes), y, 1)
        seeds_b = [-np.polyfit(np.log([n for n, _ in v]), np.log([e for _, e in v]), 1)[0]
                   for v in per_seed.values() if len(v) >= 2]
        out[name] = {"a": float(np.exp(icpt)), "b": float(-slope), "b_std": float(np.std(seeds_b)) if seeds_b else math.nan}
    return out

