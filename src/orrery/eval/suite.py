"""Versioned benchmark suites: a fixed, seeded set of clips any video model is scored on, and the
leaderboard file format.

`export_suite("physics-v1", out)` simulates the suite's clips from its fixed spec (all eleven
scenarios; the `test` split in distribution and the `test_ood` split out of it, 64 px) in a
temporary folder and exports each split as a benchmark folder (`bench_export`) under `out/<split>`,
with `suite.json` (the resolved spec, settings and format versions) and `README.md`. Nothing in it
depends on the machine, the folder or the time: exporting twice gives the same bytes.

The leaderboard (`leaderboard.json`, and `leaderboard.csv` with one row per entry and split) lists
entries {name, kind (baseline | orrery | outside), command, status, scores: {split: {metric:
value}}}; `benchmarks/suite.py` fills the baselines' and leaves orrery's models as slots with the
commands that produce them."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..data.atomic import write_text

FORMAT = 1  # version of suite.json and of the leaderboard files
LEADERBOARD_METRICS = ("position_error_px", "position_error_m", "velocity_error_time_avg", "acceleration_error",
                       "restitution_error", "energy_flag", "collisions_missed", "objects_lost", "objects_spawned",
                       "size_drift", "psnr")
SCENARIOS = {  # scenario -> (train-range parameters, out-of-distribution regions), as specs/standard.yaml
    "uniform_motion": ({"speed": {"range": [0.5, 2.5], "gap": [1.4, 1.7]}, "radius": [0.6, 0.7]},
                       {"speed": [[1.4, 1.7], [2.8, 3.2]], "count": [[4, 4]]}),
    "projectile": ({"speed": {"range": [4.0, 8.0], "gap": [5.8, 6.3]}}, {"speed": [[5.8, 6.3], [8.5, 9.5]],
                                                                        "gravity": [[4.0, 6.0]]}),
    "bounce": ({"restitution": {"range": [0.5, 0.9], "gap": [0.65, 0.75]}},
               {"restitution": [[0.65, 0.75], [0.95, 1.0]], "gravity": [[4.0, 6.0]]}),
    "collision_1d": ({"radius_a": [0.5, 0.8], "speed_a": {"range": [1.0, 3.0], "gap": [1.8, 2.2]},
                      "contact_time": [0.5, 0.7]}, {"radius_a": [[0.9, 1.1]], "speed_a": [[1.8, 2.2], [3.4, 3.8]]}),
    "collisions_2d": ({"count": [2, 4], "restitution": {"range": [0.5, 1.0], "gap": [0.7, 0.8]}},
                      {"count": [[5, 6]], "restitution": [[0.7, 0.8], [0.2, 0.4]]}),
    "pendulum": ({"length": {"range": [1.5, 4.0], "gap": [2.5, 3.0]}},
                 {"length": [[2.5, 3.0], [4.2, 4.5]], "amplitude": [[62.0, 68.0]]}),
    "spring": ({"stiffness": {"range": [10.0, 60.0], "gap": [30.0, 40.0]}},
               {"stiffness": [[30.0, 40.0], [80.0, 120.0]], "damping": [[1.0, 2.0]]}),
    "incline": ({"angle": {"range": [10.0, 40.0], "gap": [22.0, 27.0]}}, {"angle": [[22.0, 27.0], [42.0, 48.0]]}),
    "many_bodies": ({"count": [3, 5], "size": [0.6, 0.75]}, {"count": [[6, 7]]}),
    "phyre": ({"template": ["ramp-tower", "ramp-dominoes", "ramp-ball", "drop-tower", "drop-dominoes", "shelf-ball"]},
              {"template": ["drop-ball", "shelf-tower", "shelf-dominoes"]}),
    "push": ({"count": [2, 3], "size": [0.6, 0.75]}, {"count": [[4, 4]]}),
}


@dataclass(frozen=True)
class Suite:
    name: str
    summary: str
    seed: int
    size: int
    frames: int
    clips: int  # per scenario and split
    context: int = 4
    horizon: int = 12
    splits: tuple[str, ...] = ("test", "test_ood")
    scenarios: dict = field(default_factory=lambda: SCENARIOS)

    def spec(self, clips: int | None = None) -> dict:
        n = self.clips if clips is None else clips
        entries = []
        for i, (name, (params, ood)) in enumerate(self.scenarios.items()):
            entries.append({"scenario": name, "clips": {"train": 1 if i == 0 else 0, "val": 0, "test": n, "test_ood": n},
                            "params": params, "ood": ood})
        return {"name": self.name, "seed": self.seed, "shard_size": 64, "scenarios": entries,
                "video": {"size": self.size, "fps": 15, "frames": self.frames, "physics_hz": 480,
                          "codec": "yuv444p", "crf": 12}}


SUITES = {"physics-v1": Suite("physics-v1", "all eleven scenarios, in and out of distribution, 64 px, 15 fps; "
                              "4 context frames, 12 to predict", seed=20240613, size=64, frames=16, clips=16)}

README = """# {name} (orrery benchmark suite, format {format})

{summary}. {n_test} clips in distribution (`test/`) and {n_ood} out of it (`test_ood/`: parameters
in held-out gaps and beyond the training ranges, more objects, other gravity), {per} per scenario
and split, simulated from the fixed spec in `suite.json` (seed {seed}). Exporting it again, on any
machine, gives these bytes.

Each split folder is an `orrery bench` folder: `context/KEY.mp4` and `context/KEY/NN.png` (the
{context} context frames), `prompts.jsonl` (key, caption, scenario, fps, size), `README.md`, and the
answer key `answers/` (never read by a fair submission). Predict the {horizon} frames after the
context, write `KEY.mp4` per item, and score each split:

    orrery bench score --bench {name}/test --videos YOUR_TEST_VIDEOS --out score-test
    orrery bench score --bench {name}/test_ood --videos YOUR_OOD_VIDEOS --out score-ood

## Leaderboard format (format {format})

`leaderboard.json`: {{"suite": "{name}", "format": {format}, "metrics": [{{name, unit, better}}],
"entries": [{{"name", "kind": "baseline" | "orrery" | "outside", "command", "status": "measured" |
"to be measured", "scores": {{"test": {{metric: mean over clips}}, "test_ood": {{...}}}}}}]}}.
`leaderboard.csv`: one row per entry and split: name, kind, split, status, the metrics, command.
Metrics ({metrics}) are `summary.json`'s `overall.submission` of `orrery bench score`; lower is
better except psnr.
"""


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; the suites are {', '.join(SUITES)}")
    return SUITES[name]


def export_suite(name: str, out: str | Path, clips: int | None = None, progress: bool = False) -> dict:
    """Simulate and export the suite `name` into `out` (see the module doc); `clips` (per scenario
    and split) is for tests: the published suite uses its own count. Returns suite.json's content."""
    from ..sim.simulate import simulate
    from .bench import bench_export

    suite = get_suite(name)
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "suite.json").exists():
        raise ValueError(f"{out}: folder is not empty and holds no suite; use another --out")
    spec = suite.spec(clips)
    counts = {}
    with tempfile.TemporaryDirectory(prefix=f"orrery-{name}-") as tmp:
        made = simulate(spec, Path(tmp) / "data", progress=progress)
        for split in suite.splits:
            info = bench_export(Path(tmp) / "data", split, out / split, context=suite.context,
                                horizon=suite.horizon, progress=progress)
            info["data"] = f"{name}/{split}"  # not the temporary folder: the bytes must not depend on it
            write_text(out / split / "bench.json", json.dumps(info, indent=1))
            counts[split] = info["n_items"]
    doc = {"suite": name, "format": FORMAT, "summary": suite.summary, "seed": suite.seed, "context": suite.context,
           "horizon": suite.horizon, "splits": counts, "metrics": list(LEADERBOARD_METRICS),
           "set_aside": [{"key": r["key"], "reason": r["reason"]} for r in made["rejected"]], "spec": spec}
    write_text(out / "suite.json", json.dumps(doc, indent=1))
    write_text(out / "README.md", README.format(
        name=name, format=FORMAT, summary=suite.summary[:1].upper() + suite.summary[1:], n_test=counts.get("test", 0),
        n_ood=counts.get("test_ood", 0), per=spec["scenarios"][0]["clips"]["test"], seed=suite.seed,
        context=suite.context, horizon=suite.horizon, metrics=", ".join(LEADERBOARD_METRICS)))
    return doc


def entry(name: str, kind: str, command: str, scores: dict | None = None) -> dict:
    """A leaderboard entry; `scores` {split: bench-score summary or {metric: value}} or None (a slot)."""
    if kind not in ("baseline", "orrery", "outside"):
        raise ValueError(f"entry {name}: kind must be baseline, orrery or outside, got {kind!r}")
    table = None
    if scores is not None:
        table = {}
        for split, s in scores.items():
            overall = s.get("overall", {}).get("submission", s) if isinstance(s, dict) else {}
            table[split] = {m: overall.get(m) for m in LEADERBOARD_METRICS}
    return {"name": name, "kind": kind, "command": command, "status": "measured" if table else "to be measured",
            "scores": table}


def write_leaderboard(folder: str | Path, suite: str, entries: list[dict]) -> None:
    """leaderboard.json and leaderboard.csv (format FORMAT) in `folder`."""
    from .scoring import METRIC_BY_NAME

    folder = Path(folder)
    metrics = [{"name": m, "unit": METRIC_BY_NAME[m].unit, "better": METRIC_BY_NAME[m].better}
               for m in LEADERBOARD_METRICS]
    doc = {"suite": suite, "format": FORMAT, "metrics": metrics, "entries": entries}
    write_text(folder / "leaderboard.json", json.dumps(doc, indent=1, allow_nan=False))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "kind", "split", "status", *LEADERBOARD_METRICS, "command"])
    for e in entries:
        for split in (e["scores"] or {"-": {}}):
            vals = (e["scores"] or {}).get(split, {})
            w.writerow([e["name"], e["kind"], split, e["status"],
                        *("" if vals.get(m) is None else f"{vals[m]:.6g}" for m in LEADERBOARD_METRICS), e["command"]])
    write_text(folder / "leaderboard.csv", buf.getvalue())
