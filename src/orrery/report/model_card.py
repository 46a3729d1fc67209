"""The model card (Mitchell et al., "Model Cards for Model Reporting", 2019), filled from what an
evaluation measured: details, intended use, factors, metrics, evaluation data, training data,
quantitative analyses, ethical considerations, caveats, out-of-scope uses; with YAML front matter
in the Hugging Face conventions (license, library, tags, datasets, metrics, model-index).

The intended use is what the model was trained on (the scenarios and parameter ranges its run
recorded), not every scenario orrery can make. Sections the evaluation cannot know (who trained
the model, its training data when the run folder does not say) are written as "not recorded",
never guessed."""

from __future__ import annotations

import math
from pathlib import Path


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.3g}"


BASELINES = ("copy-last", "constant-velocity", "linear-flow", "simulator")


def _sidecar(model) -> tuple[dict | None, str]:
    """The newest checkpoint sidecar of the model's run, and the sentence saying where it is (or why
    there is none)."""
    run = getattr(model, "run_dir", None)
    if run is None:
        if getattr(model, "name", "") in BASELINES:
            return None, "None: a baseline without learned parameters."
        return None, "Not recorded: the model object does not name its run folder."
    import json
    import re

    sidecars = sorted((p for p in Path(run, "checkpoints").glob("step-*.json") if re.fullmatch(r"step-\d+", p.stem)),
                      key=lambda p: int(p.stem[5:]))
    if not sidecars and Path(run, "model.json").exists():  # an inference export alone
        sidecars = [Path(run, "model.json")]
    if not sidecars:
        return None, f"Run folder {run}: no checkpoint sidecar found, so the training data is not recorded."
    try:
        side = json.loads(sidecars[-1].read_text())
    except (OSError, ValueError, RecursionError):
        return None, f"Run folder {run}: checkpoint sidecar {sidecars[-1].name} is unreadable."
    return side, (f"Run folder {run}, checkpoint {sidecars[-1].stem} (step {side.get('step', '?')}): data "
                  f"fingerprint {side.get('data_fingerprint', 'not recorded')}, code "
                  f"{side.get('code_version', 'not recorded')}; the resolved training config is the run's "
                  f"config.yaml.")


def _training(model) -> str:
    side, text = _sidecar(model)
    if side is None:
        return text
    data = (side.get("extra") or {}).get("training_data")
    if data:
        text += f" Trained on {data.get('clips', '?')} clips of split {data.get('split', 'train')!r} of dataset " \
                f"{data.get('dataset', '?')} ({data.get('path', '?')})."
    return f"{text} {lineage(side)}"


def _ranges(params: dict) -> str:
    parts = []
    for k, v in params.items():
        if len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
            parts.append(f"{k} {v[0]:.3g}–{v[1]:.3g}" if v[0] != v[1] else f"{k} {v[0]:.3g}")
        else:
            parts.append(f"{k} in {{{', '.join(map(str, v))}}}")
    return ", ".join(parts)


def intended_use(model) -> str:
    """What the model was trained on, as its intended use; the generic text when not recorded."""
    side, _ = _sidecar(model)
    extra = (side or {}).get("extra") or {}
    data, inputs = extra.get("training_data"), extra.get("inputs") or {}
    if not data or not data.get("scenarios"):
        if getattr(model, "name", "") in BASELINES:
            return ("A reference rule without learned parameters, for comparison beside learned models on the "
                    "same clips; it has no training distribution.")
        return ("Not recorded (the run has no record of its training data): treat every scene as possibly out of "
                "distribution. orrery's models are research models of simple 2-D rigid-body scenes.")
    scn = "; ".join(f"{name} ({_ranges(p)})" if p else name for name, p in data["scenarios"].items())
    size = inputs.get("frame_size")
    fmt = (f" at {size[1]}x{size[0]} px" if size else "") + (f", {inputs['fps']:g} fps" if inputs.get("fps") else "")
    ctx = f", from {inputs['context']} context frames" if inputs.get("context") else ""
    acts = f", with {inputs['action_dim']} action values per step" if inputs.get("action_dim") else ""
    return (f"Research on video prediction of the scenes it was trained on: {scn}{fmt}{ctx}{acts} "
            f"(dataset {data.get('dataset', '?')}). Scenarios, parameter values, object counts or frame formats "
            "outside these are out of distribution: its scores there measure generalisation, not intended use.")


def lineage(sidecar: dict) -> str:
    """One sentence on where a run's weights started: fresh, or post-trained from a chain of runs
    (`extra.lineage` of its checkpoint sidecar, oldest first)."""
    chain = (sidecar.get("extra") or {}).get("lineage") or []
    if not chain:
        return "Trained from a fresh initialisation (no --init)."
    links = []
    for item in reversed(chain):  # the run it started from first, then that run's own start
        frozen = item.get("frozen") or []
        links.append(f"{item.get('run', '?')} at step {item.get('step', '?')} (data fingerprint "
                     f"{item.get('data_fingerprint') or 'not recorded'}"
                     + (f", frozen: {', '.join(frozen)}" if frozen else "") + ")")
    return "Post-trained: started from " + ", which started from ".join(links) + "."


def sections(summary: dict, model=None) -> list[tuple[str, str]]:
    """(title, plain text) of each card section."""
    main = summary["main"]
    o = summary["overall"]
    floor = o.get("floor", {})
    mine = o.get(main, {})
    key = ["position_error_px", "velocity_error_per_frame", "acceleration_error", "energy_change_error",
           "objects_lost", "psnr"]
    quant = "; ".join(f"{k} {_fmt(mine.get(k))} (floor {_fmt(floor.get(k))})" for k in key)
    worse = [k for k, info in summary["metrics"].items()
             if info["better"] == "lower" and not math.isnan(mine.get(k, math.nan)) and not math.isnan(floor.get(k, math.nan))
             and mine[k] > 3 * floor[k] + 1e-9]
    return [
        ("Model details", f"{main}: a video world model evaluated by orrery: it receives {summary['context']} context "
                          f"frames and predicts {summary['horizon']} future frames. "
                          f"{'It is a ' + getattr(model, 'name', '') + ' model.' if model is not None else ''}"),
        ("Intended use", intended_use(model)),
        ("Out-of-scope uses", "Any decision about real physical systems (robots, vehicles, safety) and real "
                              "camera footage; scenes, resolutions or frame rates unlike the evaluation data; "
                              "treating image quality (PSNR/SSIM) as evidence of physical correctness."),
        ("Factors", f"Scenario ({', '.join(summary['scenarios'])}), split ({summary['split']}), horizon step; the "
                    "tables break every metric down by these."),
        ("Metrics", "Physics metrics on objects parsed from pixels, compared with the exact simulated states: "
                    "position, velocity (per-frame and time-averaged), acceleration in free flight, momentum and "
                    "energy change across collisions, restitution, collision timing, objects lost/spawned, size, "
                    "colour and orientation drift, interpenetration; image metrics PSNR, SSIM, mask IoU and "
                    "motion-mask IoU as secondary. Each is shown beside the floor: the parser's own error on "
                    "the encoded ground-truth video."),
        ("Evaluation data", f"{summary['n_clips']} clips of split {summary['split']!r} from {summary['data']}; "
                            f"frames {summary['start']}..{summary['start'] + summary['context'] - 1} as context. "
                            f"{len(summary['skipped'])} clips skipped or scored on images only (reasons in the report)."),
        ("Training data", _training(model)),
        ("Quantitative analyses", quant + "."),
        ("Ethical considerations", "Synthetic scenes only; no people or personal data. A model that looks "
                                   "right but breaks physics can mislead downstream training: read the physics "
                                   "metrics, not the image ones."),
        ("Caveats and recommendations",
         ("Metrics more than 3x the floor: " + ", ".join(worse) + ". " if worse else "")
         + "Objects are identified by colour: objects sharing a colour are left out of the physics metrics; "
           "metrics computed from finite differences are noisier at 32 px (see the floor); a model that "
           "loses an object is not charged position error for it (read objects_lost)."),
    ]


CARD_METRICS = ("position_error_px", "velocity_error_per_frame", "objects_lost", "psnr", "ssim")


def front_matter(summary: dict, model=None) -> dict:
    """Hugging Face model-card metadata: license, library, tags, datasets (what it was trained on),
    metrics, and a model-index with this evaluation's results."""
    side, _ = _sidecar(model)
    extra = (side or {}).get("extra") or {}
    trained = (extra.get("training_data") or {}).get("dataset")
    evaluated = Path(str(summary.get("data", "data"))).name or "data"
    family = str(((side or {}).get("config") or {}).get("kind") or getattr(model, "name", "") or "")
    mine = summary["overall"].get(summary["main"], {})
    results = [{"type": k, "name": k, "value": round(float(mine[k]), 6)} for k in CARD_METRICS
               if mine.get(k) is not None and not math.isnan(mine[k])]
    meta = {"license": "apache-2.0", "library_name": "orrery",
            "tags": ["world-model", "video-prediction", "physics", "orrery", *([family] if family else [])],
            "datasets": [trained] if trained else [], "metrics": [k for k in CARD_METRICS if k in mine]}
    if results:
        meta["model-index"] = [{"name": str(summary["main"]), "results": [{
            "task": {"type": "video-prediction", "name": "Video prediction"},
            "dataset": {"type": evaluated, "name": evaluated, "split": str(summary.get("split", ""))},
            "metrics": results}]}]
    return meta


def markdown(summary: dict, model=None) -> str:
    import yaml

    out = ["---", yaml.safe_dump(front_matter(summary, model), sort_keys=False).rstrip(), "---", "",
           f"# Model card: {summary['main']}", ""]
    for title, text in sections(summary, model):
        out += [f"## {title}", "", text, ""]
    return "\n".join(out)
