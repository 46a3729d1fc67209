"""From long-format metric rows to metrics.parquet and the summary (tables and curves).

A row is {model, key, split, scenario, metric, step, value}; step is None for per-clip metrics.
Aggregation: a clip's per-step metric is first averaged over its steps, then clips are averaged
(NaN values, i.e. nothing measurable in that clip, are left out and counted)."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..data.atomic import write_with
from .scoring import METRICS

COLUMNS = ("model", "key", "split", "scenario", "metric", "step", "value", "ood")
TRUTH = "truth"  # rows of the true value of `target` metrics (not a model)
OOD_METRIC = "position_error_px"  # what the out-of-distribution table breaks down by axis


def write_metrics(path: str | Path, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "model": pa.array([r["model"] for r in rows], pa.string()),
        "key": pa.array([r["key"] for r in rows], pa.string()),
        "split": pa.array([r.get("split", "") for r in rows], pa.string()),
        "scenario": pa.array([r.get("scenario", "") for r in rows], pa.string()),
        "metric": pa.array([r["metric"] for r in rows], pa.string()),
        "step": pa.array([r["step"] for r in rows], pa.int32()),
        # nothing measured is null, not NaN: duckdb's avg() and polars' mean() skip nulls
        "value": pa.array([_measured(r["value"]) for r in rows], pa.float64()),
        "ood": pa.array([r.get("ood") for r in rows], pa.string()),  # the OOD axis kind, null in distribution
    })
    write_with(path, lambda tmp: pq.write_table(table, tmp))


def _measured(x) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _mean(xs) -> float:
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return float(np.mean(xs)) if xs else float("nan")


def _sem(xs) -> float:
    """Standard error of the mean over clips (NaN below two measured clips)."""
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return float(np.std(xs, ddof=1) / np.sqrt(len(xs))) if len(xs) > 1 else float("nan")


def clip_values(rows: list[dict]) -> dict[tuple, float]:
    """(model, key, split, scenario, metric) -> the clip's value (per-step metrics averaged)."""
    acc: dict[tuple, list] = defaultdict(list)
    for r in rows:
        acc[(r["model"], r["key"], r.get("split", ""), r.get("scenario", ""), r["metric"])].append(r["value"])
    return {k: _mean(v) for k, v in acc.items()}


def metric_doc(fn) -> str:
    """A metric's description for captions: its docstring's first paragraph, whole, without the
    internal '[H]' tag (per step)."""
    para = (fn.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(para.split()).removeprefix("[H] ")


def _truth(rows: list[dict]) -> dict:
    """{scenario: {metric: mean true value}} and {'*': ...} over every clip, from the truth rows."""
    acc: dict[tuple, list] = defaultdict(list)
    for r in rows:
        acc[(r.get("scenario", ""), r["metric"])].append(r["value"])
        acc[("*", r["metric"])].append(r["value"])
    out: dict[str, dict] = defaultdict(dict)
    for (sc, me), v in acc.items():
        out[sc][me] = _mean(v)
    return dict(out)


def _by_ood(rows: list[dict], models: list[str]) -> dict:
    """{kind: {'clips': n, model: mean over clips of OOD_METRIC}} for clips that carry an OOD kind."""
    per: dict[tuple, list] = defaultdict(list)
    clips: dict[str, set] = defaultdict(set)
    for r in rows:
        if r.get("ood") and r["metric"] == OOD_METRIC:
            per[(r["model"], r["ood"], r["key"])].append(r["value"])
            clips[r["ood"]].add(r["key"])
    out: dict[str, dict] = {}
    for kind in sorted(clips):
        out[kind] = {"clips": len(clips[kind])}
        for m in models:
            out[kind][m] = _mean([_mean(v) for (mm, k, _), v in per.items() if mm == m and k == kind])
    return out


def summarise(rows: list[dict], stamp: dict, skipped: list[dict], main: str) -> dict:
    truth = _truth([r for r in rows if r["model"] == TRUTH])
    by_ood_rows = rows
    rows = [r for r in rows if r["model"] != TRUTH]
    per_clip = clip_values(rows)
    names = {k[0] for k in per_clip} - {main}
    floors = sorted(n for n in names if n.startswith("floor:"))  # e.g. floor:tokenizer, before the floor
    models = [main] + sorted(names - {"floor"} - set(floors)) + floors + ["floor"]
    groups: dict[tuple, list] = defaultdict(list)
    overall: dict[tuple, list] = defaultdict(list)
    for (model, _key, split, scenario, metric), v in per_clip.items():
        groups[(model, split, scenario, metric)].append(v)
        overall[(model, metric)].append(v)
    table = [{"model": m, "split": sp, "scenario": sc, "metric": me, "mean": _mean(v), "sem": _sem(v),
              "n": int(sum(not math.isnan(x) for x in v)), "clips": len(v)}
             for (m, sp, sc, me), v in sorted(groups.items())]
    steps: dict[tuple, list] = defaultdict(list)
    for r in rows:
        if r["step"] is not None:
            steps[(r["model"], r["metric"], int(r["step"]))].append(r["value"])
    horizon = int(stamp.get("horizon", 0))
    per_step = {m: {me.name: [_mean(steps.get((m, me.name, i), [])) for i in range(horizon)]
                    for me in METRICS if me.per_step} for m in models}
    return {
        **stamp,
        "main": main,
        "models": models,
        "n_clips": len({k[1] for k in per_clip}),
        "skipped": skipped,
        "scenarios": sorted({k[3] for k in per_clip}),
        "overall": {m: {me.name: _mean(overall.get((m, me.name), [])) for me in METRICS} for m in models},
        "overall_sem": {m: {me.name: _sem(overall.get((m, me.name), [])) for me in METRICS} for m in models},
        "table": table,
        "per_step": per_step,
        "metrics": {me.name: {"unit": me.unit, "better": me.better, "per_step": me.per_step, "physics": me.physics,
                              "trivial": me.trivial, "needs": list(me.needs) if me.needs else None,
                              "doc": metric_doc(me.fn)} for me in METRICS},
        "truth": truth,
        "by_ood": _by_ood(by_ood_rows, models),
        "clip_scores": {f"{k[0]}|{k[1]}": v for k, v in per_clip.items() if k[4] == "position_error_px"},
    }



def json_safe(obj):
    """NaN and infinities -> None, recursively: summary.json stays strict JSON (null = not measured)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj
