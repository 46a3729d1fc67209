"""The main job on the embedded default: simulate -> train -> evaluate -> report.

Every stage writes into its own folder under `out` and resumes where it stopped, so rerunning
`orrery quickstart` after an interruption finishes the job instead of starting again."""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path

from rich.console import Console


def embedded_spec(name: str = "quickstart") -> Path:
    """The path of a spec shipped inside the package (src/orrery/specs/NAME.yaml)."""
    path = Path(str(resources.files("orrery") / "specs" / f"{name}.yaml"))
    if not path.exists():
        raise FileNotFoundError(f"no embedded spec {name!r} (looked for {path})")
    return path


def quickstart(out: str | Path, family: str = "pixel", preset: str = "tiny", config: str | Path | None = None,
               sets: list[str] = (), workers: int = 1, console: Console | None = None, progress: bool = True) -> dict:
    """Run the whole flow on the embedded quickstart spec; returns the paths it wrote. `family`,
    `preset`, `config` and `sets` choose the world model and its training."""
    from ..eval.evaluate import evaluate
    from ..recipes.world import resolve_world_config, train_world
    from ..report.compare import write_comparison
    from ..sim.simulate import simulate

    console = console or Console()
    out = Path(out)
    resolve_world_config(family, preset, config, sets)  # a bad setting fails before any work
    timings: dict[str, float] = {}

    def stage(name: str):
        console.rule(f"[bold]{name}")
        return time.perf_counter()

    t = stage("1/3 simulate")
    data = simulate(embedded_spec(), out / "data", workers=workers, progress=progress)
    timings["simulate"] = time.perf_counter() - t
    console.print(f"datasheet: {data['datasheet']}")

    t = stage(f"2/3 train the {family} {preset} world model")
    run = train_world(out / "data", out / "run", family, preset, config, list(sets), progress=progress)
    timings["train"] = time.perf_counter() - t
    console.print(f"run: {run.run_dir} (step {run.step}, {run.samples_per_s:.1f} samples/s); {run.reason}")

    reports, summaries = {}, {}
    t = stage("3/3 evaluate against the simulator, beside the baselines")
    for split in ("test", "test_ood"):
        summaries[split] = evaluate(str(out / "run"), out / "data", split, out / f"eval-{split}", progress=progress)
        reports[split] = out / f"eval-{split}" / "report.html"
        console.print(f"{split}: {reports[split]}")
        _print_headline(console, summaries[split])
    reports["comparison"] = write_comparison(out / "report.html", summaries,
                                             {s: str(reports[s]) for s in ("test", "test_ood")})
    timings["evaluate"] = time.perf_counter() - t
    console.rule()
    console.print("time: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    return {"data": str(out / "data"), "datasheet": data["datasheet"], "run": str(out / "run"),
            "reports": {k: str(v) for k, v in reports.items()}, "timings": timings}


def _print_headline(console: Console, summary: dict) -> None:
    """Position error (px) at horizons 1, 4, 8 and the last, and objects lost at the last step."""
    per_step = summary.get("per_step", {})
    for model in summary.get("models", []):
        pos = per_step.get(model, {}).get("position_error_px", [])
        lost = per_step.get(model, {}).get("objects_lost", [])
        if not pos:
            continue
        marks = [h for h in (1, 4, 8, len(pos)) if h <= len(pos)]
        text = "  ".join(f"h{h} {pos[h - 1]:6.2f}" for h in dict.fromkeys(marks))
        tail = f"  lost@{len(lost)} {lost[-1]:.2f}" if lost else ""
        console.print(f"  {model:28s} position error px: {text}{tail}")
