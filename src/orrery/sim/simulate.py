"""`simulate(spec, out)`: spec -> WebDataset shards + manifest + datasheet.

Plan first (every clip's key, parameters and seed follow from the spec alone), then run shards
as independent tasks on any executor. A shard is complete when its tar and its rows sidecar both
exist; both are written atomically, so a killed run resumes by redoing only incomplete shards and
the result is byte-identical to an uninterrupted run, for any number of workers."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import ConfigError, load_mapping
from ..data.atomic import clean_temporaries, write_bytes, write_text
from ..data.clip import Clip
from ..data.jsonfile import read_json
from ..data.lock import LOCK_NAME, folder_lock
from ..data.manifest import SPLITS, write_manifest
from ..data.schema import merge_all, scan_schema, type_of
from ..data.shards import adopt_old_sidecars, json_bytes, shard_done, sidecar_dir, sidecar_path, write_shard
from .annotate import annotate
from .params import Region, ood_kind, sample_params
from .render import Renderer
from .scenario import BuildContext, get_scenario
from .spec import ResolvedEntry, Spec, dump_spec, load_spec, parse_spec


@dataclass(frozen=True)
class ClipTask:
    key: str
    split: str
    scenario: str
    params: dict
    seed: int
    ood_axis: str | None
    require: tuple[str, str] | None
    held_out: tuple[tuple[str, str], ...]
    ood_kind: str | None = None  # gap | range | count | template | combo (params.ood_kind)


@dataclass(frozen=True)
class ShardTask:
    name: str  # "{split}-{n:05d}"
    shard_dir: str
    clips: tuple[ClipTask, ...]
    video: dict


def _seed(spec_seed: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(spec_seed, spawn_key=key)


def plan(spec: Spec, entries: list[ResolvedEntry]) -> dict[str, list[ClipTask]]:
    """Every clip of every split, in key order. Depends on the spec only."""
    out: dict[str, list[ClipTask]] = {}
    for s_idx, split in enumerate(SPLITS):
        tasks: list[ClipTask] = []
        for e in entries:
            n = getattr(e.entry.clips, split)
            if n == 0:
                continue
            rng = np.random.default_rng(_seed(spec.seed, e.index, s_idx, 0))
            is_ood = split == "test_ood"
            plist = sample_params(e.scenario.space, e.train, e.ood, n, e.entry.sampling, is_ood, rng,
                                  e.ood_axes_extra if is_ood else ())
            combo_rng = np.random.default_rng(_seed(spec.seed, e.index, s_idx, 2))
            for i, p in enumerate(plist):
                axis = p.pop("_ood_axis", None)
                require = None
                if axis == "combos":
                    require = e.combos[int(combo_rng.integers(len(e.combos)))]
                seed = int(_seed(spec.seed, e.index, s_idx, 1, i).generate_state(1, dtype=np.uint64)[0] >> 1)
                key = f"{split}-{len(tasks):06d}-{e.entry.scenario}"
                kind = None
                if axis is not None:
                    space = e.scenario.space.params
                    kind = ood_kind(axis, p.get(axis), e.train.get(axis, Region()),
                                    space[axis].kind if axis in space else "choice")
                tasks.append(ClipTask(key, split, e.entry.scenario, p, seed, axis, require, e.combos, kind))
        out[split] = tasks
    return out


def shard_tasks(spec: Spec, clips: dict[str, list[ClipTask]], out: Path) -> list[ShardTask]:
    tasks = []
    for split, items in clips.items():
        for n in range(math.ceil(len(items) / spec.shard_size)):
            chunk = tuple(items[n * spec.shard_size:(n + 1) * spec.shard_size])
            tasks.append(ShardTask(f"{split}-{n:05d}", str(out / "shards"), chunk, spec.video.model_dump()))
    return tasks


def make_clip(task: ClipTask, video: dict) -> Clip:
    """Build, run, render and annotate one clip. Raises ValueError on a non-finite result."""
    scenario = get_scenario(task.scenario)
    camera = scenario.camera(video["size"])
    rng = np.random.default_rng(task.seed)
    ctx = BuildContext(rng, camera, task.split, held_out=task.held_out, require=task.require)
    world = scenario.build(dict(task.params), ctx)
    traj = world.run(video["frames"], video["fps"], video["physics_hz"])
    for name in ("position", "velocity", "angle", "angular_velocity"):
        arr = getattr(traj, name)
        if not np.all(np.isfinite(arr)):
            bad = int(np.argwhere(~np.isfinite(arr))[0][0])
            raise ValueError(f"non-finite {name} at frame {bad}")
    frames, masks = Renderer(camera, world.statics).render_clip(world.objects, traj.position, traj.angle)
    meta = {
        "key": task.key, "split": task.split, "source": "simulate", "scenario": task.scenario,
        "params": task.params, "seed": task.seed, "ood_axis": task.ood_axis, "ood_kind": task.ood_kind,
        "held_out_combo": list(task.require) if task.require else None,
        "held_out": [list(c) for c in task.held_out],
        "fps": video["fps"], "n_frames": video["frames"], "size": video["size"], "physics_hz": video["physics_hz"],
        "camera": camera.to_dict(), "gravity": list(world.gravity),
        "objects": [o.to_dict() for o in world.objects], "statics": [s.to_dict() for s in world.statics],
        "states": {"position": traj.position.tolist(), "velocity": traj.velocity.tolist(),
                   "angle": traj.angle.tolist(), "angular_velocity": traj.angular_velocity.tolist()},
        "energy": {"kinetic": traj.kinetic.tolist(), "potential": traj.potential.tolist(),
                   "elastic": traj.elastic.tolist()},
        "events": traj.events,
        "actions": None if traj.actions is None else traj.actions.tolist(),
    }
    meta["captions"], meta["qa"] = annotate(meta, np.random.default_rng(_seed(task.seed, 7)))
    return Clip(task.key, frames, masks, meta)


def summary_row(clip: Clip, shard: str) -> dict:
    """One manifest row: identity, flattened parameters, summary statistics."""
    m = clip.meta
    vel = clip.state("velocity")
    speed = np.linalg.norm(vel, axis=-1) if vel.size else np.zeros((1, 1))
    e = m["energy"]
    total = np.sum(e["kinetic"], axis=1) + np.sum(e["potential"], axis=1) + np.asarray(e["elastic"])
    events = m["events"]
    row = {"key": clip.key, "split": m["split"], "shard": shard, "scenario": m["scenario"], "seed": m["seed"],
           "ood_axis": m["ood_axis"], "ood_kind": m.get("ood_kind"), "n_objects": len(m["objects"]),
           "n_collisions": sum(1 for ev in events if ev["a"] and ev["b"]),
           "n_contacts_scenery": sum(1 for ev in events if not (ev["a"] and ev["b"])),
           "mean_speed": float(speed.mean()), "max_speed": float(speed.max()),
           "energy_start": float(total[0]), "energy_end": float(total[-1]),
           "n_captions": len(m["captions"]), "n_qa": len(m["qa"]),
           "qa_yes": sum(1 for q in m["qa"] if q["answer"] == "yes"),
           "qa_no": sum(1 for q in m["qa"] if q["answer"] == "no")}
    for k, v in m["params"].items():
        row[f"param.{k}"] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
    return row


def _skeleton(meta: dict) -> dict:
    """The record with its per-frame arrays cut to their first frame: they come from numpy arrays
    (`tolist()`), so every frame has the type of the first, and the schema costs ~0.1 ms a clip
    instead of ~2 ms."""
    out = dict(meta)
    for name in ("states", "energy"):
        out[name] = {k: v[:1] for k, v in meta[name].items()}
    if meta.get("actions") is not None:
        out["actions"] = meta["actions"][:1]
    return out


def run_shard(task: ShardTask) -> dict:
    """Write one shard and its sidecar; returns the sidecar (manifest rows and rejected clips)."""
    shard_dir = Path(task.shard_dir)
    rows, rejected, samples, schema = [], [], [], "null"
    for ct in task.clips:
        try:
            clip = make_clip(ct, task.video)
        except (ValueError, ArithmeticError) as e:  # a bad clip is set aside; the shard goes on
            rejected.append({"key": ct.key, "split": ct.split, "scenario": ct.scenario,
                             "params": json.dumps(ct.params, sort_keys=True), "reason": str(e)})
            continue
        sample = clip.to_sample(task.video["codec"], task.video["crf"], task.video["lossless_frames"])
        samples.append((ct.key, sample))
        rows.append(summary_row(clip, f"{task.name}.tar"))
        schema = merge_all([schema, type_of(_skeleton(clip.meta) | {"video": {"codec": task.video["codec"],
                                                                                "crf": task.video["crf"]}})])
    write_shard(shard_dir / f"{task.name}.tar", samples)
    members = sorted({m for _, s in samples for m in s})
    sidecar = {"shard": task.name, "rows": rows, "rejected": rejected, "schema": schema, "members": members}
    # the sidecar is the completion marker: written after the tar
    write_bytes(sidecar_path(shard_dir, task.name), json_bytes(sidecar))
    return sidecar


def _same_spec(path: Path, spec: Spec) -> bool:
    """Whether a dataset's spec.yaml is `spec` once read and completed with today's defaults (a
    field added since, at its default, is no difference)."""
    from ..config import load_yaml

    try:
        return parse_spec(load_yaml(path, "spec"))[0].model_dump(mode="json") == spec.model_dump(mode="json")
    except ConfigError:
        return False


def prepare_out(spec: Spec, out: Path) -> None:
    """Create the dataset folder, or check that an existing one was made by the same spec. Call it
    holding the folder's lock: it removes the temporaries a killed run left."""
    text = dump_spec(spec)
    existing = out / "spec.yaml"
    if existing.exists():
        if existing.read_text() != text and not _same_spec(existing, spec):
            raise ConfigError(str(out), "this folder holds a dataset made by a different spec; "
                            "use another --out, or delete the folder to start again")
    else:
        out.mkdir(parents=True, exist_ok=True)
        if any(p.name != LOCK_NAME and not (p.name.startswith(".") and p.name.endswith(".tmp")) for p in out.iterdir()):
            raise ConfigError(str(out), "folder is not empty and holds no spec.yaml; refusing to write into it")
        write_text(existing, text)
    (out / "shards").mkdir(exist_ok=True)
    clean_temporaries(out / "shards")
    adopt_old_sidecars(out / "shards")
    sidecar_dir(out / "shards").mkdir(exist_ok=True)
    clean_temporaries(sidecar_dir(out / "shards"))
    clean_temporaries(out)


def simulate(spec: str | Path | dict, out: str | Path, workers: int = 1, executor: str = "local",
             ray_address: str | None = None, progress: bool = True, sets: list[str] | tuple[str, ...] = ()) -> dict:
    """Generate the dataset of `spec` (a file or a mapping; `sets` are `a.b=v` changes to it) into
    `out`; returns {'counts': {split: n}, 'rejected': [...], 'datasheet': path, 'seconds': {'shards',
    'manifest', 'datasheet'}} (wall time of each phase). Resumes a killed run in the same folder. One
    run at a time writes a folder (`folder_lock`)."""
    spec_obj, entries = parse_spec(load_mapping(spec, sets, "spec")) if isinstance(spec, dict) else load_spec(spec, sets)
    out = Path(out)
    with folder_lock(out, "simulate"):
        return _simulate(spec_obj, entries, out, workers, executor, ray_address, progress)


def _simulate(spec_obj: Spec, entries: list[ResolvedEntry], out: Path, workers: int, executor: str,
              ray_address: str | None, progress: bool) -> dict:
    from ..data.progress import Progress
    from ..exec import make_executor

    prepare_out(spec_obj, out)
    tasks = shard_tasks(spec_obj, plan(spec_obj, entries), out)
    shard_dir = out / "shards"
    todo = [t for t in tasks if not shard_done(shard_dir, t.name)]
    n_clips = sum(len(t.clips) for t in tasks)
    done_clips = n_clips - sum(len(t.clips) for t in todo)
    t0 = time.perf_counter()
    with Progress("simulate", n_clips, done_clips, progress, unit="clips") as bar:
        if todo:
            with make_executor(executor, workers, ray_address) as ex:
                for i, _ in ex.map_unordered(run_shard, todo):
                    bar.advance(len(todo[i].clips))
    t_shards = time.perf_counter() - t0
    res = finish(out, spec_obj, tasks)
    res["seconds"] = {"shards": t_shards, **res["seconds"]}
    return res


def finish(out: Path, spec: Spec, tasks: list[ShardTask]) -> dict:
    """Assemble manifest.parquet (+ rejected.parquet), the datasheet and the dataset card from the
    shard sidecars."""
    from ..data.card import write_dataset_card
    from ..data.datasheet import write_datasheet

    t0 = time.perf_counter()
    rows, rejected, schemas, members = [], [], [], set()
    for t in tasks:
        side = read_json(sidecar_path(out / "shards", t.name))
        rows += side["rows"]
        rejected += side["rejected"]
        schemas.append(side.get("schema", "null"))
        members |= set(side.get("members", ()))
    write_manifest(out / "manifest.parquet", rows)
    if rejected:
        write_manifest(out / "rejected.parquet", rejected)
    counts = {s: sum(1 for r in rows if r["split"] == s) for s in SPLITS}
    t1 = time.perf_counter()
    sheet = write_datasheet(out)
    t2 = time.perf_counter()
    if any(s == "null" for s in schemas):  # a sidecar from before schemas were recorded
        schema, members = scan_schema(sorted((out / "shards").glob("*.tar")))
    else:
        schema = merge_all(schemas)
    write_dataset_card(out, spec.name, counts, schema, members, "simulate",
                       sorted({r["scenario"] for r in rows}))
    seconds = {"manifest": t1 - t0, "datasheet": t2 - t1, "card": time.perf_counter() - t2}
    return {"counts": counts, "rejected": rejected, "datasheet": str(sheet), "out": str(out), "seconds": seconds}
