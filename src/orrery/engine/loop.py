"""`run_engine`: the closed data loop.

Per seed: simulate the starting set (the start ranges of the world), train the starting model,
measure it on the probe set; then, for every arm, R rounds of: per-cell statistics of the
current model on the probe set -> acquire N clips over cells -> simulate them (fresh seeds, any
executor) -> the grown training set (start + every clip added so far, shards linked, provenance in
the manifest) -> train (from the previous round's weights, or from scratch; the same steps and
batch for every arm) -> measure on the probe and on the held-out test set. Arms share the starting
data and model of their seed. The engine is never told where the gaps are: it reads them off the
probe errors. Every stage writes its output atomically and is skipped when it exists, so a killed
run resumes where it stopped."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml
from rich.console import Console

from ..data.atomic import write_text
from ..data.lock import folder_lock
from .acquire import failure_score, make_acquirer
from .cells import CellMap
from .datasets import Request, batch_rows, clip_seed, compose, simulate_requests
from .spec import EngineSpec, ResolvedWorld, dump_engine_spec, load_engine_spec
from .stats import cell_stats, clip_errors

PURPOSES = {"start": 1, "probe": 2, "test": 3, "acquired": 4, "params": 5, "scale": 6}


class Engine:
    """The state of one engine folder: spec, cells, shared sets and helpers to run each stage."""

    def __init__(self, spec: EngineSpec, world: list[ResolvedWorld], out: Path, executor: str = "local",
                 workers: int = 1, ray_address: str | None = None, console: Console | None = None,
                 progress: bool = True):
        self.spec, self.world, self.out = spec, world, Path(out)
        self.cells = CellMap(world, spec.bins)
        self.executor, self.workers, self.ray_address = executor, workers, ray_address
        self.console = console or Console()
        self.progress = progress

    # ---- helpers -----------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.spec.seed, spawn_key=(PURPOSES["params"], *key)))

    def spec_yaml(self, name: str) -> str:
        """A simulate-style spec describing a composed dataset (for its datasheet)."""
        return yaml.safe_dump({"name": f"{self.spec.name}-{name}", "seed": self.spec.seed,
                               "video": self.spec.video.model_dump(mode="json"),
                               "scenarios": [{"scenario": w.name, "sampling": "uniform",
                                              "params": w.entry.params, "start": w.entry.start} for w in self.world]},
                              sort_keys=False)

    def requests_in_cells(self, counts: dict[str, int], split: str, purpose: str, key: tuple[int, ...],
                          prefix: str, extra: dict | None = None) -> list[Request]:
        """`counts[cell]` clips drawn inside each cell, with fresh seeds under `key`."""
        rng = self.rng(PURPOSES[purpose], *key)
        out = []
        for ci, cid in enumerate(sorted(counts)):
            cell = self.cells.cells[cid]
            for _ in range(counts[cid]):
                params = self.cells.sample(cid, cell.scenario, rng)
                i = len(out)
                out.append(Request(key=f"{split}-{prefix}-{i:06d}-{cell.scenario}", split=split,
                                   scenario=cell.scenario, params=params,
                                   seed=clip_seed(self.spec.seed, PURPOSES[purpose], *key, ci, i), purpose=purpose,
                                   cells=",".join(self.cells.cells_of(cell.scenario, params)), asked_for=cid,
                                   **(extra or {})))
        return out

    def evaluate(self, model: str | Path, data: Path, out: Path) -> dict[str, dict[str, float]]:
        """Per-clip errors {model name: {key: px}} of `model` (a run folder or baseline:NAME) on a
        probe or test set, measured once and read back afterwards."""
        from ..eval.evaluate import evaluate

        if not (out / "summary.json").exists():
            evaluate(str(model), data, "test", out, baselines=(), context=self.spec.eval.context,
                     horizon=self.spec.eval.horizon, progress=False, report=False)
        errors = clip_errors(out)
        main = json.loads((out / "summary.json").read_text())["main"]
        return {"model": errors.get(main, {}), "floor": errors.get("floor", {})}

    def train(self, data: Path, run: Path, steps: int, seed: int, init: Path | None) -> Path:
        """Train (or resume) a model; a run that reached its steps is not trained again."""
        from ..checkpoint import latest_checkpoint
        from ..recipes.world import train_world

        if latest_checkpoint(run) == steps:
            return run
        m = self.spec.model
        sets = [*m.sets, f"train.steps={steps}", f"train.seed={seed}"]
        train_world(data, run, m.family, m.preset, None, sets, tokenizer=m.tokenizer or None, init=init,
                    progress=self.progress)
        return run

    # ---- the shared sets ------------------------------------------------------------------------
    def eval_set(self, purpose: str) -> tuple[Path, list[dict], dict[str, float], dict[str, float]]:
        """The probe or test set over the whole world: (folder, manifest rows, baseline errors,
        floor errors). `probe` / `test` clips per cell, seeds of their own purpose."""
        n = self.spec.probe if purpose == "probe" else self.spec.test
        folder = self.out / "sets" / purpose
        if not (folder / "manifest.parquet").exists():
            self.say(f"[bold]{purpose} set[/]: {n} clips in each of {len(self.cells)} cells")
            reqs = self.requests_in_cells({c: n for c in self.cells.ids()}, "test", purpose, (0,), purpose)
            batch = simulate_requests(reqs, self.out / "sets" / f"{purpose}-clips", purpose, self.spec, self.executor,
                                      self.workers, self.ray_address)
            compose(folder, [batch], self.spec_yaml(purpose), f"The {purpose} set: clips drawn inside every cell.")
        rows = batch_rows(self.out / "sets" / f"{purpose}-clips")
        base = self.evaluate(f"baseline:{self.spec.baseline}", folder, self.out / "sets" / f"{purpose}-baseline")
        return folder, rows, base["model"], base["floor"]

    def start_set(self, seed: int) -> Path:
        """The starting training set of a seed: `start.train` (+ `start.val`) clips per scenario,
        uniform over the start ranges."""
        folder = self.out / f"seed-{seed}" / "start-clips"
        if not (folder / "requests.json").exists():
            reqs = []
            for split, n in (("train", self.spec.start.train), ("val", self.spec.start.val)):
                for w in self.world:
                    rng = self.rng(PURPOSES["start"], seed, w.index, 0 if split == "train" else 1)
                    for _ in range(n):
                        params = self.cells.sample(None, w.name, rng, start=True)
                        reqs.append(Request(key=f"{split}-start-{len(reqs):06d}-{w.name}", split=split,
                                            scenario=w.name, params=params,
                                            seed=clip_seed(self.spec.seed, PURPOSES["start"], seed, len(reqs)),
                                            purpose="start", cells=",".join(self.cells.cells_of(w.name, params))))
            simulate_requests(reqs, folder, f"start-s{seed}", self.spec, self.executor, self.workers,
                              self.ray_address)
        return folder


def run_engine(spec: str | Path | dict, out: str | Path, executor: str = "local", workers: int = 1,
               ray_address: str | None = None, sets: list[str] | tuple[str, ...] = (), progress: bool = True,
               console: Console | None = None) -> dict:
    """Run (or resume) the experiment of an engine spec into `out`; returns the results
    (also written to OUT/results.json), from which `orrery engine report` draws."""
    spec_obj, world = load_engine_spec(spec, sets)
    out = Path(out)
    with folder_lock(out, "orrery engine run"):
        return _run(spec_obj, world, out, executor, workers, ray_address, progress, console)


def _run(spec_obj: EngineSpec, world: list[ResolvedWorld], out: Path, executor: str, workers: int,
         ray_address: str | None, progress: bool, console: Console | None) -> dict:
    _prepare(out, spec_obj)
    eng = Engine(spec_obj, world, out, executor, workers, ray_address, console, progress)
    s = spec_obj
    probe_dir, probe_rows, probe_base, probe_floor = eng.eval_set("probe")
    test_dir, test_rows, test_base, test_floor = eng.eval_set("test")
    results = {"spec": s.model_dump(mode="json"), "cells": {c: cell.label for c, cell in eng.cells.cells.items()},
               "test_keys": [r["key"] for r in test_rows], "probe_keys": [r["key"] for r in probe_rows],
               "test_rows": [{"key": r["key"], "cells": r["cells"], "scenario": r["scenario"]} for r in test_rows],
               "test_baseline": test_base, "test_floor": test_floor, "seeds": {}}
    for seed in s.seeds:
        root = out / f"seed-{seed}"
        start_batch = eng.start_set(seed)
        start_data = compose(root / "start-data", [start_batch], eng.spec_yaml("start"), "The starting set.")
        eng.say(f"[bold]seed {seed}[/]: starting model ({s.train.start_steps} steps on "
                f"{sum(1 for r in batch_rows(start_batch) if r['split'] == 'train')} clips)")
        start_run = eng.train(start_data, root / "start" / "run", s.train.start_steps, seed, None)
        probe0 = eng.evaluate(start_run, probe_dir, root / "start" / "probe")
        test0 = eng.evaluate(start_run, test_dir, root / "start" / "test")
        stats0 = cell_stats(eng.cells, probe_rows, probe0["model"], probe_floor, probe_base)
        per_seed = {"start": {"probe_stats": stats0, "test": test0["model"]}, "arms": {}}
        for ai, arm in enumerate(s.arms):
            acquire = make_acquirer(arm, s.min_share)
            batches, prev, stats = [start_batch], start_run, stats0
            rounds = []
            for r in range(1, s.rounds + 1):
                rdir = root / arm / f"round-{r}"
                counts = acquire(stats, s.clips_per_round, eng.rng(PURPOSES["acquired"], seed, ai, r), eng.cells)
                scores = {c: failure_score(stats.get(c, {})) for c in counts}
                reqs = [replace(req, score=scores[req.asked_for])
                        for req in eng.requests_in_cells(counts, "train", "acquired", (seed, ai, r), f"r{r}-{arm}",
                                                         {"round": r, "arm": arm})]
                batches.append(simulate_requests(reqs, rdir / "clips", f"r{r}-{arm}-s{seed}", s, eng.executor,
                                                 eng.workers, eng.ray_address))
                data = compose(rdir / "data", batches, eng.spec_yaml(f"{arm}-round-{r}"),
                               f"Arm `{arm}`, seed {seed}, after round {r}: the starting set plus "
                               f"{r * s.clips_per_round} clips added by the engine.")
                scratch = s.train.init == "scratch"
                eng.say(f"seed {seed} · {arm} · round {r}/{s.rounds}: +{s.clips_per_round} clips "
                        f"({len(counts)} cells), train {s.train.start_steps if scratch else s.train.steps} steps")
                run = eng.train(data, rdir / "run", s.train.start_steps if scratch else s.train.steps, seed,
                                None if scratch else prev)
                probe_r = eng.evaluate(run, probe_dir, rdir / "probe")
                test_r = eng.evaluate(run, test_dir, rdir / "test")
                stats = cell_stats(eng.cells, probe_rows, probe_r["model"], probe_floor, probe_base)
                rounds.append({"round": r, "added": r * s.clips_per_round, "counts": counts, "probe_stats": stats,
                               "test": test_r["model"]})
                prev = run
            per_seed["arms"][arm] = rounds
        results["seeds"][str(seed)] = per_seed
    write_text(out / "results.json", json.dumps(results, indent=0, allow_nan=True))
    return results


def _prepare(out: Path, spec: EngineSpec) -> None:
    """Create the engine folder, or check that an existing one was made by the same spec."""
    text = dump_engine_spec(spec)
    existing = out / "engine.yaml"
    if existing.exists():
        from ..config import ConfigError, load_yaml, validate

        # compared as specs, not text: a field added since (with its default) is no difference
        try:
            before = validate(EngineSpec, load_yaml(existing, "engine spec")).model_dump(mode="json")
        except ConfigError:
            before = None
        if before != spec.model_dump(mode="json"):
            raise ConfigError(str(out), "this folder holds an engine run of a different spec; use another --out")
        return
    out.mkdir(parents=True, exist_ok=True)
    if any(p.name != ".lock" for p in out.iterdir()):
        from ..config import ConfigError

        raise ConfigError(str(out), "folder is not empty and holds no engine.yaml; refusing to write into it")
    write_text(existing, text)
