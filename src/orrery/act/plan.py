"""`plan`: closed-loop control of the pusher, planned inside a world model and executed in the
true simulator, over many episodes, beside the same planner's ceiling and floor.

Planners (the `--model` and the comparison names):
- a run folder: CEM inside that world model (`act.cem`), cost from its predicted frames;
- `simulator`: the same CEM whose model is the exact simulator driven by the candidate commands
  (`models.baselines.ActionReplay`, its frames parsed the same way) — the ceiling;
- `random`: one random plan from CEM's initial distribution per re-plan, no look-ahead — the floor.

The first `execute` commands of each plan are applied in the true simulator (`act.episodes`),
which renders what happened; the planner re-plans from those frames. Success is read from the
simulator's states. The normalised success of a model is (model - random) / (simulator - random).
Per-episode results are kept under out/parts/ as they are made, so a killed run resumes."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
from pydantic import Field

from ..config import Config
from ..data.atomic import write_bytes, write_text
from .cem import PlannerConfig, cem, model_imagine, observed, random_plan, shift
from .episodes import Episode, TrueWorld, make_episodes

BUILTIN = ("simulator", "random")


class PlanConfig(Config):
    episodes: int = Field(120, ge=1, description="episodes, cycling through the goal distances and clips")
    distances: tuple[float, ...] = Field((1.0, 2.0, 3.0), min_length=1, description="goal distances, metres")
    steps: int = Field(45, ge=1, description="T: commands the planner may execute in an episode (3 s at 15 fps)")
    max_speed: float = Field(4.0, gt=0, description="m/s, the pusher's speed limit (the top of push's training range)")
    tolerance: float = Field(0.6, gt=0, description="metres from the goal that count as reaching it")
    context: int = Field(4, ge=1, description="frames observed before planning begins")
    seed: int = Field(0, ge=0, description="goals and the planner's random draws")
    animate: int = Field(6, ge=0, description="episodes whose frames are kept for the report")
    planner: PlannerConfig = Field(default_factory=PlannerConfig)


class Planner:
    """One of the three planners, by name; `model` is a loaded WorldModel for a run folder."""

    def __init__(self, name: str, model=None, context: int = 4, population: int = 32):
        self.name, self.model = name, model
        self.context = int(getattr(model, "context_frames", 0) or context)
        if model is not None and hasattr(model, "batch_size"):
            model.batch_size = max(int(model.batch_size), population)  # one rollout call per CEM iteration

    def imagine_with(self, ep: Episode, world: TrueWorld):
        if self.name == "simulator":
            from ..models.baselines import ActionReplay

            oracle = ActionReplay({ep.key: dict(ep.meta, actions=world.commands.tolist())})
            return model_imagine(oracle, ep, world, self.context)
        return model_imagine(self.model, ep, world, self.context)


def run_episode(ep: Episode, planner: Planner, cfg: PlanConfig) -> tuple[dict, dict]:
    """Plan and act until the goal is reached or T commands are spent. Returns the record (JSON)
    and the frames {true uint8 [T', S, S, 3] from the start frame, imagined [T' - 1, ...]}."""
    pc = cfg.planner
    rng = np.random.default_rng([cfg.seed, ep.index])
    world = TrueWorld.begin(ep)
    mean = None
    think = 0.0
    imagined = []
    while world.executed < ep.steps and not world.succeeded():
        k = min(pc.execute, ep.steps - world.executed)
        t0 = time.perf_counter()
        if planner.name == "random":
            commands, frames = random_plan(ep, pc, rng), None
        else:
            context, rows = observed(world, planner.context)
            best = cem(planner.imagine_with(ep, world), context, rows, ep, pc, rng, mean)
            commands, frames = best.commands, best.frames
            mean = shift(best.mean, k, pc.hold)
        think += time.perf_counter() - t0
        world.execute(commands[:k])
        imagined.append(frames[:k] if frames is not None else np.zeros_like(world.frames[-k:]))  # random: none
    d = world.distances()
    record = {"index": ep.index, "key": ep.key, "object": ep.name, "distance": ep.distance,
              "goal": ep.goal.tolist(), "success": world.succeeded(), "start_distance": float(d[0]),
              "final_distance": float(d[-1]), "min_distance": float(d.min()), "actions": world.executed,
              "planning_s": think, "seconds_per_action": think / max(world.executed, 1),
              "commands": world.commands[ep.start:].tolist(),
              "path": world.position[ep.start:, ep.target].tolist()}
    frames = {"true": world.frames[ep.start:],
              "imagined": np.concatenate(imagined) if imagined else world.frames[:0]}
    return record, frames


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[-80:]


def load_planner(name: str, context: int, population: int = 32) -> Planner:
    if name in BUILTIN:
        return Planner(name, None, context)
    from ..models.registry import load_world_model

    if not Path(name).is_dir():
        raise ValueError(f"--model {name}: not a run folder, `simulator` or `random`")
    wm = load_world_model(name)
    if not getattr(wm, "action_dim", 0):
        raise ValueError(f"--model {name}: this model was trained without actions; it cannot be planned with "
                         "(train it on data with push clips)")
    return Planner(name, wm, context, population)


_LOADED: dict[str, tuple[tuple, Planner]] = {}  # name -> (identity, planner) loaded in this process


def _planner(name: str, context: int, population: int) -> Planner:
    """A planner loaded once per process (a pool worker plans many episodes with it), loaded again
    when its run folder has changed since (a retrained run is never planned with stale weights)."""
    ident: tuple = (context, population)
    if name not in BUILTIN and Path(name).is_dir():
        ident += (max((f.stat().st_mtime_ns for f in Path(name).iterdir()), default=0),)
    if name not in _LOADED or _LOADED[name][0] != ident:
        _LOADED[name] = (ident, load_planner(name, context, population))
    return _LOADED[name][1]


def plan_episode(task: dict) -> dict:
    """One (planner, episode) task, run wherever the executor puts it: plan, write the record (and
    the frames of an animated episode) under `folder`, return the record. A worker process uses
    `threads` torch threads, so each worker of a pool holds one core's share."""
    from ..data.shards import npz_bytes
    from ..exec import torch_threads

    cfg: PlanConfig = task["cfg"]
    ep: Episode = task["episode"]
    with torch_threads(task["threads"]):
        record, frames = run_episode(ep, _planner(task["name"], cfg.context, cfg.planner.population), cfg)
    folder = Path(task["folder"])
    if ep.index < cfg.animate:
        write_bytes(folder / f"{ep.index:05d}.npz", npz_bytes(**frames))
    write_text(folder / f"{ep.index:05d}.json", json.dumps(record))
    return record


def run_plans(model: str, data_dir, split: str, out, cfg: PlanConfig | None = None,
              compare: tuple[str, ...] = BUILTIN, progress: bool = True, report: bool = True,
              workers: int = 1, executor: str = "local", ray_address: str | None = None) -> dict:
    """Run every planner on the same episodes; write out/summary.json (and report.html).

    Episodes are independent tasks: with `workers` > 1 they run on a local process pool (or Ray),
    each worker with its share of the cores (one thread each on a 2-core machine with 2 workers);
    an episode's result does not depend on where it ran, except for the last bits of the model's
    arithmetic when the thread count differs (as for training)."""
    from ..data.dataset import ClipStore
    from ..data.progress import Progress
    from ..exec import TaskError, make_executor, share_of_cores

    cfg = cfg or PlanConfig()
    for c in compare:
        if c not in BUILTIN:
            raise ValueError(f"--compare: {c!r} is not one of {', '.join(BUILTIN)}")
    store = ClipStore(data_dir, split, scenarios=["push"])
    metas = [store.clip(i, decode=False).meta for i in range(len(store))]
    names = [model, *[c for c in compare if c != model]]
    planners = [_planner(n, cfg.context, cfg.planner.population) for n in names]  # refuses a bad model here
    start = max(p.context for p in planners) - 1
    episodes = make_episodes(metas, cfg.distances, cfg.episodes, cfg.seed, start, cfg.steps, cfg.tolerance,
                             cfg.max_speed)
    out = Path(out)
    parts = out / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    stamp = {"data": str(Path(data_dir).resolve()), "split": split, "config": cfg.model_dump(mode="json"),
             "start": start}
    if (parts / "run.json").exists() and json.loads((parts / "run.json").read_text()) != stamp:
        raise ValueError(f"{out}: holds plans of another configuration ({parts / 'run.json'}); use another --out")
    write_text(parts / "run.json", json.dumps(stamp, indent=1))
    threads = 0 if workers <= 1 else share_of_cores(workers)  # one worker: the caller's threads
    tasks = []
    for planner in planners:
        folder = parts / _slug(planner.name)
        folder.mkdir(exist_ok=True)
        tasks += [{"name": planner.name, "episode": ep, "cfg": cfg, "folder": str(folder), "threads": threads}
                  for ep in episodes if not (folder / f"{ep.index:05d}.json").exists()]
    total = len(planners) * len(episodes)
    bar = Progress("plan", total, total - len(tasks), progress, unit="episodes")
    reached = {p.name: 0 for p in planners}
    try:
        with make_executor(executor, workers, ray_address) as ex:
            for i, record in ex.map_unordered(plan_episode, tasks):
                reached[tasks[i]["name"]] += bool(record["success"])
                bar.advance(reached=" ".join(f"{Path(n).name}:{k}" for n, k in reached.items()))
    except TaskError as e:
        t = tasks[e.index]
        raise RuntimeError(f"plan: {t['name']} on episode {t['episode'].index} ({t['episode'].key}) failed: "
                           f"{type(e.cause).__name__}: {e.cause}") from e.cause
    finally:
        bar.close()
    results = {p.name: [json.loads((parts / _slug(p.name) / f"{ep.index:05d}.json").read_text()) for ep in episodes]
               for p in planners}
    from .summary import summarise

    summary = summarise(results, model, cfg, stamp)
    write_text(out / "summary.json", json.dumps(summary, indent=1, allow_nan=False))
    if report:
        from .report import write_plan_report

        write_plan_report(out / "report.html", summary, parts, episodes[:cfg.animate])
    return summary
