"""Cells: how the world is cut for diagnosis, and how a clip is drawn inside a cell.

Per scenario, each binned parameter is cut into K equal-width bins over its world interval (an
integer parameter gets one bin per value when it has at most K values, a choice one per choice).
With `cross`, a cell is one combination of bins of all binned parameters; without, each binned
parameter has its own cells (and a clip lies in one cell per parameter). A cell's id reads
`scenario:param=bin[,param=bin]`, e.g. `collisions_2d:count=1,speed=2`."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..sim.params import Region
from .spec import ResolvedWorld, space_kind


@dataclass(frozen=True)
class Axis:
    """The bins of one parameter: edges [lo, hi] per bin (floats), or one value per bin."""

    param: str
    kind: str
    bins: tuple  # ((lo, hi), ...) for floats; (value, ...) otherwise

    def index(self, value) -> int:
        if self.kind == "float":
            lo, hi = self.bins[0][0], self.bins[-1][1]
            k = len(self.bins)
            if hi == lo:
                return 0
            return int(min(max(math.floor((float(value) - lo) / (hi - lo) * k), 0), k - 1))
        return self.bins.index(value if self.kind != "int" else int(value))

    def label(self, i: int) -> str:
        if self.kind == "float":
            a, b = self.bins[i]
            return f"{a:.3g}–{b:.3g}"
        return str(self.bins[i])

    def region(self, i: int) -> Region:
        if self.kind == "float":
            return Region(intervals=[self.bins[i]])
        if self.kind == "int":
            return Region(intervals=[(self.bins[i], self.bins[i])])
        return Region(choices=(self.bins[i],))


def make_axis(entry: ResolvedWorld, param: str, k: int) -> Axis:
    kind = space_kind(entry.space, param)
    region = entry.world[param]
    if kind in ("choice", "bool"):
        return Axis(param, kind, tuple(region.choices))
    lo, hi = region.intervals[0]
    if kind == "int":
        values = list(range(int(math.ceil(lo)), int(math.floor(hi)) + 1))
        if len(values) <= k:
            return Axis(param, kind, tuple(values))
        edges = np.linspace(lo, hi, k + 1)
        return Axis(param, "float", tuple((float(a), float(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)))
    edges = np.linspace(lo, hi, k + 1)
    return Axis(param, kind, tuple((float(a), float(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)))


@dataclass(frozen=True)
class Cell:
    scenario: str
    axes: tuple[Axis, ...]
    index: tuple[int, ...]

    @property
    def id(self) -> str:
        return f"{self.scenario}:" + ",".join(f"{a.param}={i}" for a, i in zip(self.axes, self.index, strict=True))

    @property
    def label(self) -> str:
        return f"{self.scenario} " + ", ".join(f"{a.param} {a.label(i)}" for a, i in zip(self.axes, self.index,
                                                                                       strict=True))

    def neighbours(self) -> list[tuple[int, ...]]:
        """Indices of the cells one bin away along one axis."""
        out = []
        for d, a in enumerate(self.axes):
            for step in (-1, 1):
                j = self.index[d] + step
                if 0 <= j < len(a.bins):
                    out.append(self.index[:d] + (j,) + self.index[d + 1:])
        return out


class CellMap:
    """Every cell of a world, and the map from a clip's parameters to its cells."""

    def __init__(self, world: list[ResolvedWorld], k: int):
        self.world = {w.name: w for w in world}
        self.groups: dict[str, list[tuple[Axis, ...]]] = {}
        self.cells: dict[str, Cell] = {}
        for w in world:
            axes = [make_axis(w, p, k) for p in w.bins]
            groups = [tuple(axes)] if w.entry.cross else [(a,) for a in axes]
            self.groups[w.name] = groups
            for g in groups:
                for idx in itertools.product(*(range(len(a.bins)) for a in g)):
                    c = Cell(w.name, g, idx)
                    self.cells[c.id] = c

    def __len__(self) -> int:
        return len(self.cells)

    def ids(self) -> list[str]:
        return list(self.cells)

    def cells_of(self, scenario: str, params: dict) -> list[str]:
        """The ids of the cells a clip lies in (one per group of its scenario)."""
        out = []
        for g in self.groups[scenario]:
            c = Cell(scenario, g, tuple(a.index(params[a.param]) for a in g))
            out.append(c.id)
        return out

    def neighbour_ids(self, cell_id: str) -> list[str]:
        c = self.cells[cell_id]
        return [Cell(c.scenario, c.axes, idx).id for idx in c.neighbours()]

    def sample(self, cell_id: str | None, scenario: str, rng: np.random.Generator, start: bool = False) -> dict:
        """Parameters of one clip: inside the cell's bins for its parameters, uniform over the world
        (or over the start ranges, with `start`) for the others."""
        w = self.world[scenario]
        ranges = dict(w.start if start else w.world)
        if cell_id is not None:
            c = self.cells[cell_id]
            for a, i in zip(c.axes, c.index, strict=True):
                ranges[a.param] = a.region(i)
        out = {}
        for p in w.space:
            value = ranges[p.name].at(p.kind, float(rng.random()))
            out[p.name] = int(value) if p.kind == "int" else (float(value) if p.kind == "float" else value)
        return out
