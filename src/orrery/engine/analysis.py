"""The engine's figures, from `results.json`: learning curves per arm on the held-out test set
(overall and on the weak cells), and the headline — how many added clips an arm needs to reach
the `uniform` arm's final error on the weak cells, as a share of uniform's clips.

The weak cells of a seed are the `weak_share` of cells whose starting model failed worst on the
*probe* set (failure score, `acquire.failure_score`); they are measured on the *test* set, which
never chose any data."""

from __future__ import annotations

import math

import numpy as np

from .acquire import failure_score


def weak_cells(stats: dict[str, dict], share: float) -> list[str]:
    ranked = sorted(stats, key=lambda c: (-failure_score(stats[c]), c))
    return ranked[:max(1, math.ceil(share * len(ranked)))]


def test_error(errors: dict[str, float], rows: list[dict], cells: set[str] | None = None) -> float:
    """Mean per-clip test error over the clips lying in `cells` (all clips when None)."""
    vals = [errors[r["key"]] for r in rows if r["key"] in errors
            and (cells is None or cells & set(str(r["cells"]).split(",")))]
    return float(np.mean(vals)) if vals else float("nan")


def curves(results: dict) -> dict:
    """{arm: {'added': [...], 'weak': [[per seed]...], 'overall': [[per seed]...]}} over rounds 0..R."""
    spec = results["spec"]
    rows = results["test_rows"]
    out: dict[str, dict] = {}
    for seed, per in results["seeds"].items():
        weak = set(weak_cells(per["start"]["probe_stats"], spec["weak_share"]))
        start_weak, start_all = test_error(per["start"]["test"], rows, weak), test_error(per["start"]["test"], rows)
        for arm, rounds in per["arms"].items():
            c = out.setdefault(arm, {"added": [0] + [r["added"] for r in rounds], "weak": {}, "overall": {},
                                     "weak_cells": {}})
            c["weak"][seed] = [start_weak] + [test_error(r["test"], rows, weak) for r in rounds]
            c["overall"][seed] = [start_all] + [test_error(r["test"], rows) for r in rounds]
            c["weak_cells"][seed] = sorted(weak)
    return out


def clips_to_reach(added: list[int], errors: list[float], target: float) -> float:
    """The smallest number of added clips at which the curve reaches `target` (linear between
    rounds); inf when it never does."""
    for i, e in enumerate(errors):
        if e <= target:
            if i == 0:
                return 0.0
            e0, n0, n1 = errors[i - 1], added[i - 1], added[i]
            return float(n0 + (n1 - n0) * (e0 - target) / max(e0 - e, 1e-12))
    return math.inf


def headline(results: dict, arm: str = "targeted", control: str = "uniform") -> dict:
    """Per seed: clips `arm` needs to reach `control`'s final weak-cell error, over `control`'s
    clips; and the final overall errors of both. Mean and standard deviation over seeds."""
    cv = curves(results)
    if arm not in cv or control not in cv:
        return {}
    a, u = cv[arm], cv[control]
    total = u["added"][-1]
    ratios, d_overall, per_seed = [], [], {}
    for seed in u["weak"]:
        target = u["weak"][seed][-1]
        n = clips_to_reach(a["added"], a["weak"][seed], target)
        ratio = n / total
        ratios.append(ratio)
        d_overall.append(a["overall"][seed][-1] - u["overall"][seed][-1])
        per_seed[seed] = {"ratio": ratio, "target_weak_px": target, f"{arm}_final_weak_px": a["weak"][seed][-1],
                          f"{arm}_final_overall_px": a["overall"][seed][-1],
                          f"{control}_final_overall_px": u["overall"][seed][-1]}
    finite = [r for r in ratios if math.isfinite(r)]
    return {"arm": arm, "control": control, "clips_control": total, "per_seed": per_seed,
            "ratio_mean": float(np.mean(ratios)) if len(finite) == len(ratios) else math.inf,
            "ratio_std": float(np.std(ratios)) if len(finite) == len(ratios) else math.nan,
            "ratios": ratios, "reached": len(finite),
            "overall_diff_mean": float(np.mean(d_overall)), "overall_diff_std": float(np.std(d_overall)),
            "control_overall_std": float(np.std([u["overall"][s][-1] for s in u["overall"]]))}
