"""Typed parameter spaces of scenarios, the distributions a spec draws from, and sampling.

A scenario declares each parameter with its physical validity limits, a default range and a
unit. A spec narrows a parameter to a value, a range, a range with a held-out gap, or a subset of
choices, and names out-of-distribution (OOD) regions. Sampling is seeded and depends only on the
(scenario, split) group, never on how clips are spread over workers."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..config import ConfigError

Kind = Literal["float", "int", "choice", "bool"]


@dataclass(frozen=True)
class Param:
    """One scenario parameter: validity limits [min, max], default range [low, high], unit."""

    name: str
    kind: Kind
    low: float | int | None = None
    high: float | int | None = None
    min: float | int | None = None  # physical validity limit
    max: float | int | None = None
    values: tuple = ()  # choices
    unit: str = ""
    doc: str = ""

    @property
    def default(self) -> Any:
        if self.kind == "choice":
            return self.values[0]
        if self.kind == "bool":
            return False
        mid = (self.low + self.high) / 2
        return int(round(mid)) if self.kind == "int" else mid


def F(name: str, low: float, high: float, *, min: float | None = None, max: float | None = None,
      unit: str = "", doc: str = "") -> Param:
    """A float parameter."""
    return Param(name, "float", low, high, min, max, (), unit, doc)


def I(name: str, low: int, high: int, *, min: int | None = None, max: int | None = None,  # noqa: E743
      unit: str = "", doc: str = "") -> Param:
    """An integer parameter (inclusive range)."""
    return Param(name, "int", low, high, min, max, (), unit, doc)


def C(name: str, values: list | tuple, *, doc: str = "") -> Param:
    """A categorical parameter."""
    return Param(name, "choice", values=tuple(values), doc=doc)


def B(name: str, *, doc: str = "") -> Param:
    """A boolean parameter."""
    return Param(name, "bool", values=(False, True), doc=doc)


@dataclass
class Region:
    """A set of values: a union of closed intervals (numbers) or a set of choices."""

    intervals: list[tuple[float, float]] = field(default_factory=list)
    choices: tuple = ()

    def measure(self, kind: Kind) -> float:
        if kind in ("choice", "bool"):
            return float(len(self.choices))
        if kind == "int":
            return float(sum(int(math.floor(b)) - int(math.ceil(a)) + 1 for a, b in self.intervals))
        return float(sum(b - a for a, b in self.intervals))

    def at(self, kind: Kind, u: float) -> Any:
        """The value at quantile u in [0, 1) of the uniform distribution on this region."""
        if kind in ("choice", "bool"):
            return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]
        if kind == "int":
            values = [v for a, b in self.intervals for v in range(int(math.ceil(a)), int(math.floor(b)) + 1)]
            return values[min(int(u * len(values)), len(values) - 1)]
        total = self.measure(kind)
        if total == 0.0:  # a fixed value
            return self.intervals[0][0]
        target = u * total
        for a, b in self.intervals:
            if target <= b - a:
                return a + target
            target -= b - a
        return self.intervals[-1][1]


def _subtract(intervals: list[tuple[float, float]], gap: tuple[float, float]) -> list[tuple[float, float]]:
    out = []
    g0, g1 = gap
    for a, b in intervals:
        if g1 <= a or g0 >= b:
            out.append((a, b))
            continue
        if a < g0:
            out.append((a, g0))
        if g1 < b:
            out.append((g1, b))
    return out


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_number(path: str, p: Param, v: Any) -> float:
    if not _is_num(v):
        raise ConfigError(path, f"expected a number for {p.kind} parameter {p.name!r}, got {v!r}")
    if isinstance(v, float) and not math.isfinite(v):
        raise ConfigError(path, f"must be a finite number, got {v!r}")
    if p.kind == "int" and not float(v).is_integer():
        raise ConfigError(path, f"expected an integer, got {v!r}")
    if p.min is not None and v < p.min:
        raise ConfigError(path, f"{v!r} is below the physical minimum {p.min} {p.unit}".rstrip())
    if p.max is not None and v > p.max:
        raise ConfigError(path, f"{v!r} is above the physical maximum {p.max} {p.unit}".rstrip())
    return float(v)


def _parse_interval(path: str, p: Param, v: Any) -> tuple[float, float]:
    if not (isinstance(v, (list, tuple)) and len(v) == 2):
        raise ConfigError(path, f"expected a range [low, high], got {v!r}")
    a = _check_number(f"{path}[0]", p, v[0])
    b = _check_number(f"{path}[1]", p, v[1])
    if a > b:
        raise ConfigError(path, f"range is reversed: low {a} > high {b}")
    return (a, b)


class ParamSpace:
    """The ordered, typed parameters of one scenario."""

    def __init__(self, params: list[Param]):
        self.params = {p.name: p for p in params}
        if len(self.params) != len(params):
            raise ValueError("duplicate parameter names")

    def __iter__(self):
        return iter(self.params.values())

    def __contains__(self, name: str) -> bool:
        return name in self.params

    def draw(self, rng: np.random.Generator, n: int = 1, mode: str = "uniform") -> list[dict]:
        """n parameter sets from the default ranges, without a spec (tests, benchmarks, notebooks)."""
        return sample_params(self, self.parse_train("params", {}), {}, n, mode, False, rng)

    def default_region(self, p: Param) -> Region:
        if p.kind in ("choice", "bool"):
            return Region(choices=tuple(p.values))
        return Region(intervals=[(float(p.low), float(p.high))])

    def parse_train(self, path: str, overrides: dict) -> dict[str, Region]:
        """The in-distribution region of each parameter, after the spec's overrides."""
        unknown = sorted(set(overrides) - set(self.params))
        if unknown:
            raise ConfigError(f"{path}.{unknown[0]}", f"unknown parameter; expected one of {sorted(self.params)}")
        regions = {}
        for name, p in self.params.items():
            ppath = f"{path}.{name}"
            if name not in overrides:
                regions[name] = self.default_region(p)
                continue
            v = overrides[name]
            if p.kind in ("choice", "bool"):
                vals = v if isinstance(v, list) else [v]
                if not vals:
                    raise ConfigError(ppath, "empty list of choices")
                for i, x in enumerate(vals):
                    if x not in p.values or (p.kind == "choice" and isinstance(x, bool)):
                        raise ConfigError(f"{ppath}[{i}]" if isinstance(v, list) else ppath,
                                        f"{x!r} is not one of {list(p.values)}")
                regions[name] = Region(choices=tuple(vals))
            elif isinstance(v, dict):
                extra = sorted(set(v) - {"range", "gap"})
                if extra:
                    raise ConfigError(f"{ppath}.{extra[0]}", "unknown key; expected 'range' and optional 'gap'")
                if "range" not in v:
                    raise ConfigError(f"{ppath}.range", "missing; a parameter given as a mapping needs a range")
                rng = _parse_interval(f"{ppath}.range", p, v["range"])
                intervals = [rng]
                if "gap" in v:
                    gap = _parse_interval(f"{ppath}.gap", p, v["gap"])
                    if not (rng[0] < gap[0] and gap[1] < rng[1]):
                        raise ConfigError(f"{ppath}.gap", f"gap {list(gap)} must lie strictly inside range {list(rng)}")
                    intervals = _subtract(intervals, gap)
                regions[name] = Region(intervals=intervals)
            elif isinstance(v, (list, tuple)):
                regions[name] = Region(intervals=[_parse_interval(ppath, p, v)])
            else:
                x = _check_number(ppath, p, v)
                regions[name] = Region(intervals=[(x, x)])
            if regions[name].measure(p.kind) <= 0 and p.kind == "int":
                raise ConfigError(ppath, "the range contains no integer")
        return regions

    def parse_ood(self, path: str, ood: dict, train: dict[str, Region]) -> dict[str, Region]:
        """Out-of-distribution regions: each must be valid and disjoint from the training region."""
        unknown = sorted(set(ood) - set(self.params))
        if unknown:
            raise ConfigError(f"{path}.{unknown[0]}", f"unknown parameter; expected one of {sorted(self.params)}")
        regions = {}
        for name, v in ood.items():
            p = self.params[name]
            ppath = f"{path}.{name}"
            if p.kind in ("choice", "bool"):
                vals = v if isinstance(v, list) else [v]
                if not vals:
                    raise ConfigError(ppath, "empty list of choices")
                for i, x in enumerate(vals):
                    if x not in p.values:
                        raise ConfigError(f"{ppath}[{i}]", f"{x!r} is not one of {list(p.values)}")
                    if x in train[name].choices:
                        raise ConfigError(f"{ppath}[{i}]", f"{x!r} is also in the training distribution; "
                                        "remove it from params or from ood")
                regions[name] = Region(choices=tuple(vals))
                continue
            if not isinstance(v, list) or not v:
                raise ConfigError(ppath, f"expected a list of ranges [[low, high], ...], got {v!r}")
            intervals = []
            for i, iv in enumerate(v):
                a, b = _parse_interval(f"{ppath}[{i}]", p, iv)
                for ta, tb in train[name].intervals:
                    if a < tb and ta < b or (a == b and ta <= a <= tb and ta < tb):
                        raise ConfigError(f"{ppath}[{i}]", f"OOD range {[a, b]} overlaps the training "
                                        f"range {[ta, tb]}")
                intervals.append((a, b))
            regions[name] = Region(intervals=intervals)
        return regions


def _quantiles(n: int, rng: np.random.Generator, mode: str) -> np.ndarray:
    """n quantiles in [0, 1): stratified (one per stratum, shuffled) or independent uniform."""
    if mode == "uniform":
        return rng.random(n)
    return (rng.permutation(n) + rng.random(n)) / n


def ood_kind(axis: str, value, train: Region, kind: Kind) -> str:
    """How a value drawn for OOD axis `axis` leaves the training distribution: 'gap' (inside the
    training range, in a hole of it), 'range' (beyond it), 'count' (more objects), 'template' (a
    held-out template), 'combo' (a held-out colour x shape pair), or 'choice' (another held-out value)."""
    if axis == "combos":
        return "combo"
    if axis in ("count", "template"):
        return axis
    if kind in ("choice", "bool") or not train.intervals:
        return "choice"
    lo, hi = min(a for a, _ in train.intervals), max(b for _, b in train.intervals)
    return "gap" if lo <= float(value) <= hi else "range"


def sample_params(space: ParamSpace, train: dict[str, Region], ood: dict[str, Region], n: int,
                  mode: str, is_ood: bool, rng: np.random.Generator,
                  extra_axes: tuple[str, ...] = ()) -> list[dict]:
    """n parameter sets for one (scenario, split) group.

    mode: 'uniform' (independent draws), 'balanced' (stratified: every parameter's range is cut in
    n equal strata and each stratum is used once; choices cycle evenly) or 'grid' (a regular grid
    over the free parameters, cell centres, visited in a seeded order). For OOD groups, each clip
    takes one OOD axis in turn (balanced over axes) and draws that parameter from its OOD region;
    an extra axis (e.g. 'combos') is only recorded in '_ood_axis' for the builder to honour."""
    names = list(space.params)
    out: list[dict] = [dict() for _ in range(n)]
    if mode == "grid":
        free = [k for k in names if train[k].measure(space.params[k].kind) > 0 or
                space.params[k].kind in ("choice", "bool")]
        levels = max(1, math.ceil(n ** (1 / max(1, len(free)))))
        cells = list(itertools.product(range(levels), repeat=len(free)))
        order = rng.permutation(len(cells))[:n] if len(cells) >= n else np.arange(n) % len(cells)
        for i, c in enumerate(order):
            for j, k in enumerate(free):
                out[i][k] = train[k].at(space.params[k].kind, (cells[c][j] + 0.5) / levels)
        for k in names:
            if k not in free:
                for i in range(n):
                    out[i][k] = train[k].at(space.params[k].kind, 0.0)
    else:
        for k in names:
            q = _quantiles(n, rng, mode)
            for i in range(n):
                out[i][k] = train[k].at(space.params[k].kind, float(q[i]))
    if is_ood:
        axes = sorted(ood) + sorted(extra_axes)
        if not axes:
            raise ConfigError("ood", "test_ood clips are requested but no OOD region is defined")
        axis_of = [axes[i % len(axes)] for i in rng.permutation(n)]
        for axis in axes:
            idx = [i for i in range(n) if axis_of[i] == axis]
            q = _quantiles(len(idx), rng, "uniform" if mode == "uniform" else "balanced")
            for j, i in enumerate(idx):
                if axis in ood:
                    out[i][axis] = ood[axis].at(space.params[axis].kind, float(q[j]))
                out[i]["_ood_axis"] = axis
    for d in out:
        for k in names:
            p = space.params[k]
            if p.kind == "int":
                d[k] = int(d[k])
            elif p.kind == "float":
                d[k] = float(d[k])
    return out
