"""The model card (Mitchell et al., "Model Cards for Model Reporting", 2019), filled from what an
evaluation measured: details, intended use, factors, metrics, evaluation data, training data,
quantitative analyses, ethical considerations, caveats, out-of-scope uses.

Sections the evaluation cannot know (who trained the model, its training data when the run folder
does not say) are written as "not recorded", never guessed."""

from __future__ import annotations

import math
from pathlib import Path


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.3g}"


def _training(model) -> str:
    run = getattr(model, "run_dir", None)
    if run is None:
        if getattr(model, "name", "") in ("copy-last", "constant-velocity", "linear-flow", "simulator"):
            return "None: a baseline without learned parameters."
        return "Not recorded: the model object does not name its run folder."
    import json
    import re

    sidecars = sorted((p for p in Path(run, "checkpoints").glob("step-*.json") if re.fullmatch(r"step-\d+", p.stem)),
                      key=lambda p: int(p.stem[5:]))
    if not sidecars:
        return f"Run folder {run}: no checkpoint sidecar found, so the training data is not recorded."
    try:
        side = json.loads(sidecars[-1].read_text())
    except (OSError, ValueError, RecursionError):
        return f"Run folder {run}: checkpoint sidecar {sidecars[-1].name} is unreadable."
    return (f"Run folder {run}, checkpoint {sidecars[-1].stem} (step {side.get('step', '?')}): data fingerprint "
            f"{side.get('data_fingerprint', 'not recorded')}, code {side.get('code_version', 'not recorded')}; "
            f"the resolved training config is the run's config.yaml. {lineage(side)}")


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
        ("Intended use", "Research on physically plausible video prediction of simple 2-D rigid-body scenes "
                         "(projectiles, bounces, collisions, pendulums, springs, inclines) rendered by orrery, and "
                         "generating candidate training data whose physics is then checked by this evaluator."),
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


def markdown(summary: dict, model=None) -> str:
    out = [f"# Model card: {summary['main']}", ""]
    for title, text in sections(summary, model):
        out += [f"## {title}", "", text, ""]
    return "\n".join(out)
