"""The engine spec (ENGINE.yaml): the world a model may meet, the part of it the starting data
covers, how the world is cut into cells for diagnosis, the probe and test sets, the rounds, the
model and its training per round, the seeds and the arms. Validated whole on load, before any
work: every error names its field path and the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator

from ..config import Config, ConfigError, join, load_mapping, validate
from ..sim.params import Region
from ..sim.spec import VideoSpec


class WorldEntry(Config):
    """One scenario of the world: its parameter ranges, the narrower start ranges, and its cells."""

    scenario: str
    params: dict[str, Any] = Field(default_factory=dict, description="world ranges (value | [lo, hi] | "
                                                                     "[choices]); the scenario's defaults elsewhere")
    start: dict[str, Any] = Field(default_factory=dict, description="ranges of the starting training set; "
                                                                    "the world's where not given")
    bins: list[str] = Field(default_factory=list, description="parameters cut into cells (default: those whose "
                                                              "start range differs from the world's)")
    cross: bool = Field(True, description="cells are the crossings of the binned parameters (else one "
                                          "parameter at a time)")


class StartConfig(Config):
    train: int = Field(48, ge=1, le=100_000, description="starting training clips per scenario")
    val: int = Field(4, ge=0, le=100_000, description="validation clips per scenario (from the start ranges)")


class ModelChoice(Config):
    family: str = "deterministic"
    preset: str = "tiny"
    sets: list[str] = Field(default_factory=list, description="settings of the model and its training")
    tokenizer: str = Field("", description="a trained tokenizer run folder (`orrery train tokenizer`): needed "
                                           "by the latent (continuous) and autoregressive (FSQ) families")


class RoundTraining(Config):
    start_steps: int = Field(600, ge=1, description="steps of the starting model")
    steps: int = Field(300, ge=1, description="steps per round; identical for every arm")
    init: Literal["previous", "scratch"] = Field("previous", description="each round starts from the previous "
                                                                         "round's weights, or from scratch")


class EvalChoice(Config):
    context: int = Field(4, ge=1)
    horizon: int = Field(12, ge=1)


class EngineSpec(Config):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    seed: int = Field(0, ge=0, lt=2**63)
    video: VideoSpec = Field(default_factory=VideoSpec)
    shard_size: int = Field(64, ge=1, le=100_000)
    world: list[WorldEntry] = Field(min_length=1)
    start: StartConfig = Field(default_factory=StartConfig)
    bins: int = Field(4, ge=1, le=64, description="K equal-width bins per float parameter (ints and choices: "
                                                  "one cell per value)")
    probe: int = Field(4, ge=1, le=10_000, description="probe clips per cell (used to choose data)")
    test: int = Field(8, ge=1, le=10_000, description="held-out test clips per cell (never used to choose data)")
    rounds: int = Field(3, ge=1, le=100)
    clips_per_round: int = Field(48, ge=1, le=1_000_000)
    model: ModelChoice = Field(default_factory=ModelChoice)
    train: RoundTraining = Field(default_factory=RoundTraining)
    eval: EvalChoice = Field(default_factory=EvalChoice)
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    arms: list[str] = Field(default_factory=lambda: ["uniform", "targeted", "neighbours"], min_length=1)
    min_share: float = Field(0.2, ge=0, le=1, description="targeted arms: share of a round spread evenly over "
                                                          "all cells, so no cell starves")
    weak_share: float = Field(0.25, gt=0, le=1, description="the weak cells: this share of cells the starting "
                                                            "model failed worst (on the probe set)")
    baseline: str = Field("constant-velocity", description="the reference a cell's error is measured against")

    @model_validator(mode="after")
    def _check(self):
        if self.video.frames < self.eval.context + self.eval.horizon:
            raise ConfigError("video.frames", f"{self.video.frames} frames cannot hold context {self.eval.context} "
                                              f"+ horizon {self.eval.horizon}")
        if len(set(self.seeds)) != len(self.seeds):
            raise ConfigError("seeds", f"repeated seeds {self.seeds}")
        from .acquire import ACQUIRERS

        for i, arm in enumerate(self.arms):
            if arm not in ACQUIRERS:
                raise ConfigError(f"arms[{i}]", f"unknown acquisition {arm!r}; choose from {', '.join(ACQUIRERS)}")
        if len(set(self.arms)) != len(self.arms):
            raise ConfigError("arms", f"repeated arms {self.arms}")
        return self


class ResolvedWorld:
    """A world entry with its scenario object and parsed regions (world and start)."""

    def __init__(self, index: int, entry: WorldEntry):
        from ..sim.scenario import get_scenario
        from ..sim.spec import _no_nan

        path = f"world[{index}]"
        self.index = index
        self.entry = entry
        self.name = entry.scenario
        self.scenario = get_scenario(entry.scenario, f"{path}.scenario")
        space = self.scenario.space
        self.space = space
        self.world: dict[str, Region] = space.parse_train(f"{path}.params", _no_nan(entry.params, f"{path}.params"))
        start = dict(entry.params, **entry.start)
        self.start: dict[str, Region] = space.parse_train(f"{path}.start", _no_nan(start, f"{path}.start"))
        for name, region in self.start.items():
            if not _inside(region, self.world[name], space_kind(space, name)):
                raise ConfigError(f"{path}.start.{name}", "the start range must lie inside the world range "
                                                          f"{_show(self.world[name])}")
        self.scenario.validate(path, self.world, {})
        self.scenario.validate(f"{path}.start", self.start, {})
        bins = entry.bins or [n for n in self.world if _show(self.world[n]) != _show(self.start[n])]
        for i, name in enumerate(bins):
            if name not in self.world:
                raise ConfigError(join(f"{path}.bins", i), f"{self.name} has no parameter {name!r}; it has "
                                                           f"{sorted(self.world)}")
            if len(self.world[name].intervals) > 1:
                raise ConfigError(join(f"{path}.bins", i), f"{name}: a binned parameter needs one world interval")
        if not bins:
            raise ConfigError(f"{path}.bins", "no parameter to cut into cells: give `bins`, or start ranges "
                                              "narrower than the world's")
        self.bins = bins


def space_kind(space, name: str) -> str:
    return next(p.kind for p in space if p.name == name)


def _show(r: Region) -> str:
    return repr(r.choices) if r.choices else repr(r.intervals)


def _inside(inner: Region, outer: Region, kind: str) -> bool:
    if kind in ("choice", "bool"):
        return set(inner.choices) <= set(outer.choices)
    return all(any(a >= c - 1e-9 and b <= d + 1e-9 for c, d in outer.intervals) for a, b in inner.intervals)


def parse_engine_spec(data: Any, source: str = "engine spec") -> tuple[EngineSpec, list[ResolvedWorld]]:
    if not isinstance(data, dict):
        raise ConfigError(source, f"expected a mapping at the top level, got {type(data).__name__}")
    spec = validate(EngineSpec, data)
    from ..models.registry import get_family
    from ..recipes.world import PRESETS, resolve_world_config

    family = get_family(spec.model.family)
    check_model_tokenizer(family, spec.model.tokenizer)
    if spec.model.preset not in PRESETS[spec.model.family]:
        raise ConfigError("model.preset", f"unknown preset {spec.model.preset!r} of {spec.model.family}; choose "
                                          f"one of {', '.join(PRESETS[spec.model.family])}")
    try:
        resolve_world_config(spec.model.family, spec.model.preset, None, spec.model.sets)
    except ConfigError as e:
        raise ConfigError("model.sets", f"{e.path}: {e.reason}") from None
    names = [w.scenario for w in spec.world]
    if len(set(names)) != len(names):
        raise ConfigError("world", f"a scenario appears twice: {names}")
    return spec, [ResolvedWorld(i, w) for i, w in enumerate(spec.world)]


def check_model_tokenizer(family, tokenizer: str) -> None:
    """`model.tokenizer` is given exactly when the family needs one, and names a tokenizer run of
    the kind the family needs (read before any work)."""
    if family.tokenizer is None:
        if tokenizer:
            raise ConfigError("model.tokenizer", f"the {family.name} family works on pixels; leave it empty")
        return
    if not tokenizer:
        raise ConfigError("model.tokenizer", f"the {family.name} family needs a {family.tokenizer} tokenizer: give "
                                             "its run folder (`orrery train tokenizer`)")
    from ..models.registry import check_tokenizer
    from ..tokenizer.checkpoint import load_tokenizer

    try:
        tok, _ = load_tokenizer(tokenizer)
        check_tokenizer(family, tok, tokenizer)
    except (FileNotFoundError, ValueError) as e:
        raise ConfigError("model.tokenizer", " ".join(str(e).split())) from None


def load_engine_spec(source: str | Path | dict, sets: list[str] | tuple[str, ...] = ()
                     ) -> tuple[EngineSpec, list[ResolvedWorld]]:
    """An engine spec file (or mapping) with `--set a.b=v` items applied, validated."""
    return parse_engine_spec(load_mapping(source, sets, "engine spec"), str(source) if not isinstance(source, dict)
                             else "engine spec")


def dump_engine_spec(spec: EngineSpec) -> str:
    return yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False)
