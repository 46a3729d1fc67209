"""Acquisition: where the next round's clips go. One interface,

    acquire(stats, n, rng, cells) -> {cell id: count}   (counts sum to n)

where `stats` maps each cell id to its probe statistics ({'model', 'floor', 'baseline', 'n'}: mean
position error in px) and `cells` is the world's `CellMap`.

- `uniform` (the control): n clips from the whole world — scenarios equally, and within a
  scenario each cell in proportion to its share of the parameter space (equal-width bins: equally).
  It reads no statistics.
- `targeted`: n clips over cells in proportion to the failure score, with a share `min_share`
  spread evenly over all cells so that no cell starves.
- `neighbours`: like `targeted`, but each cell's score also counts half of its neighbours'
  (the cells one bin away), so data goes next to the worst cells too: failures rarely stop at a
  bin edge.

The failure score of a cell is its error above the parser's floor relative to a baseline's error
above the floor in the same cell, `(model - floor) / (baseline - floor)`: a cell that is hard for
every predictor (fast, crowded) is not chased for that alone."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .cells import CellMap

Acquire = Callable[[dict[str, dict], int, np.random.Generator, CellMap], dict[str, int]]


def failure_score(s: dict) -> float:
    """(model - floor) / (baseline - floor), >= 0; NaN-safe (a cell without figures scores 0)."""
    m, f, b = s.get("model", np.nan), s.get("floor", np.nan), s.get("baseline", np.nan)
    if not np.isfinite(m) or not np.isfinite(f):
        return 0.0
    excess = max(m - f, 0.0)
    ref = b - f if np.isfinite(b) else np.nan
    if not np.isfinite(ref) or ref <= 1e-6:
        ref = max(abs(f), 1e-3) * 10.0  # a baseline at the floor: judge the excess against the floor itself
    return float(excess / ref)


def apportion(weights: dict[str, float], n: int) -> dict[str, int]:
    """Integer counts summing to n in proportion to weights (largest remainder; ties by id)."""
    ids = sorted(weights)
    w = np.array([max(weights[i], 0.0) for i in ids], dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones(len(ids))
    exact = n * w / w.sum()
    counts = np.floor(exact).astype(int)
    order = sorted(range(len(ids)), key=lambda j: (-(exact[j] - counts[j]), ids[j]))
    for j in order[: n - int(counts.sum())]:
        counts[j] += 1
    return {i: int(c) for i, c in zip(ids, counts, strict=True) if c}


def uniform(stats: dict[str, dict], n: int, rng: np.random.Generator, cells: CellMap) -> dict[str, int]:
    by_scn: dict[str, list[str]] = {}
    for cid, c in cells.cells.items():
        by_scn.setdefault(c.scenario, []).append(cid)
    weights = {cid: 1.0 / len(by_scn) / len(ids) for ids in by_scn.values() for cid in ids}
    return apportion(weights, n)


def _mix(scores: dict[str, float], n: int, min_share: float) -> dict[str, int]:
    total = sum(scores.values())
    k = len(scores)
    weights = {c: min_share / k + (1 - min_share) * (s / total if total > 0 else 1.0 / k) for c, s in scores.items()}
    return apportion(weights, n)


def make_targeted(min_share: float) -> Acquire:
    def targeted(stats, n, rng, cells):
        return _mix({c: failure_score(stats.get(c, {})) for c in cells.ids()}, n, min_share)

    return targeted


def make_neighbours(min_share: float) -> Acquire:
    def neighbours(stats, n, rng, cells):
        own = {c: failure_score(stats.get(c, {})) for c in cells.ids()}
        spread = {c: own[c] + 0.5 * sum(own[m] for m in cells.neighbour_ids(c)) for c in own}
        return _mix(spread, n, min_share)

    return neighbours


ACQUIRERS = ("uniform", "targeted", "neighbours")


def make_acquirer(name: str, min_share: float) -> Acquire:
    if name == "uniform":
        return uniform
    if name == "targeted":
        return make_targeted(min_share)
    if name == "neighbours":
        return make_neighbours(min_share)
    raise KeyError(f"unknown acquisition {name!r}; choose from {', '.join(ACQUIRERS)}")
