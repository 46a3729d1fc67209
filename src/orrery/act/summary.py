"""From per-episode records to the plan summary: success per planner, overall and per goal
distance, with its standard error; final distances; seconds per action; and the normalised
success (model - random) / (simulator - random)."""

from __future__ import annotations

import math

import numpy as np


def _rate(records: list[dict]) -> tuple[float, float]:
    """Success rate and its binomial standard error."""
    if not records:
        return math.nan, math.nan
    p = float(np.mean([r["success"] for r in records]))
    return p, math.sqrt(p * (1 - p) / len(records))


def normalised(model: float, floor: float, ceiling: float) -> float | None:
    """(model - floor) / (ceiling - floor); None when the ceiling is not above the floor."""
    if any(x is None or math.isnan(x) for x in (model, floor, ceiling)) or ceiling - floor <= 0:
        return None
    return (model - floor) / (ceiling - floor)


def summarise(results: dict[str, list[dict]], main: str, cfg, stamp: dict) -> dict:
    planners = {}
    for name, recs in results.items():
        rate, sem = _rate(recs)
        by = {}
        for d in cfg.distances:
            sub = [r for r in recs if abs(r["distance"] - d) < 1e-9]
            r_d, s_d = _rate(sub)
            by[f"{d:g}"] = {"episodes": len(sub), "success": r_d, "sem": s_d,
                            "final_distance": float(np.mean([r["final_distance"] for r in sub])) if sub else None}
        actions = sum(r["actions"] for r in recs)
        planners[name] = {
            "episodes": len(recs), "success": rate, "sem": sem, "by_distance": by,
            "final_distance": float(np.mean([r["final_distance"] for r in recs])),
            "seconds_per_action": sum(r["planning_s"] for r in recs) / max(actions, 1),
            "actions": actions,
        }
    norm = None
    if main not in ("simulator", "random") and {"simulator", "random"} <= set(planners):
        m, s, r = planners[main], planners["simulator"], planners["random"]
        norm = {"overall": normalised(m["success"], r["success"], s["success"]),
                "by_distance": {d: normalised(m["by_distance"][d]["success"], r["by_distance"][d]["success"],
                                              s["by_distance"][d]["success"]) for d in m["by_distance"]}}
    return {"main": main, **stamp, "planners": _safe(planners), "normalised_success": norm}


def _safe(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_safe(v) for v in obj]
    return obj
