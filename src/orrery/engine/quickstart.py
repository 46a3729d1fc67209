"""The main job on the embedded default: simulate -> (train a tokenizer) -> train -> evaluate -> report.

A family that predicts in a tokenizer's latent space (latent, autoregressive) gets a tokenizer
first: the one given, or one trained on the same data (`TOKENIZER_SETS`, then the caller's
settings). Every stage writes into its own folder under `out` and resumes where it stopped, so
rerunning `orrery quickstart` after an interruption finishes the job instead of starting again."""

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


# The tokenizer the quickstart trains for a latent family: the tiny preset, no temporal compression
# (the setting measured to keep every object, docs/tokenizer.md), with the object terms on (the
# simulated data has masks). `tokenizer_sets` layer over these, e.g. model.compression=4x4x4.
TOKENIZER_SETS = ("model.compression=1x4x4", "model.colour_weight=1", "model.object_weight=1")


def quickstart(out: str | Path, family: str = "pixel", preset: str = "tiny", config: str | Path | None = None,
               sets: list[str] = (), workers: int = 1, console: Console | None = None, progress: bool = True,
               tokenizer: str | Path | None = None, tokenizer_sets: list[str] = ()) -> dict:
    """Run the whole flow on the embedded quickstart spec; returns the paths it wrote. `family`,
    `preset`, `config` and `sets` choose the world model and its training; `tokenizer` (a run
    folder) or `tokenizer_sets` the tokenizer of a latent family."""
    from ..config import ConfigError
    from ..eval.evaluate import evaluate
    from ..models.registry import get_family
    from ..recipes.tokenizer import resolve_config, train_tokenizer
    from ..recipes.world import resolve_world_config, train_world
    from ..report.compare import write_comparison
    from ..sim.simulate import simulate

    console = console or Console()
    out = Path(out)
    resolve_world_config(family, preset, config, sets)  # a bad setting fails before any work
    fam = get_family(family)
    tok_cfg = None
    if fam.tokenizer is None and (tokenizer is not None or tokenizer_sets):
        raise ConfigError("--tokenizer", f"the {family} family works on pixels; it takes no tokenizer")
    if fam.tokenizer is not None and tokenizer is None:
        tok_cfg = resolve_config("tiny", sets=[f"model.kind={fam.tokenizer}", *TOKENIZER_SETS, *tokenizer_sets])
    elif tokenizer is not None and not Path(tokenizer).exists():
        raise ConfigError("--tokenizer", f"{tokenizer}: no such tokenizer run folder")
    timings: dict[str, float] = {}

    def stage(name: str):
        console.rule(f"[bold]{name}")
        return time.perf_counter()

    t = stage("1/3 simulate")
    data = simulate(embedded_spec(), out / "data", workers=workers, progress=progress)
    timings["simulate"] = time.perf_counter() - t
    console.print(f"datasheet: {data['datasheet']}")

    if tok_cfg is not None:
        t = stage(f"train the {fam.tokenizer} {tok_cfg.model.compression} tokenizer")
        tokenizer = out / "tokenizer"
        tok = train_tokenizer(out / "data", tok_cfg, tokenizer)
        timings["tokenizer"] = time.perf_counter() - t
        console.print(f"tokenizer: {tokenizer} (step {tok['step']})")

    t = stage(f"2/3 train the {family} {preset} world model")
    run = train_world(out / "data", out / "run", family, preset, config, list(sets), tokenizer=tokenizer,
                      progress=progress)
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
            "tokenizer": None if tokenizer is None else str(tokenizer),
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
