"""The simulate spec: which scenarios, how many clips per split, the video format, parameter
distributions and out-of-distribution definitions. Validated whole on load, before any work:
every error names its field path and the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError

from ..config import Config, ConfigError, from_validation
from ..data.manifest import SPLITS
from .palette import COLOUR_NAMES
from .params import Region


class VideoSpec(Config):
    size: int = Field(64, ge=32, le=256, description="frame side in pixels (square frames)")
    fps: float = Field(15.0, gt=0, le=240)
    frames: int = Field(32, ge=2, le=2048, description="frames per clip")
    physics_hz: float = Field(480.0, gt=0, le=20000, description="physics substep rate; a multiple of fps")
    codec: Literal["yuv444p", "lossless"] = "yuv444p"
    crf: int = Field(12, ge=0, le=51, description="x264 constant rate factor (lower = better)")
    lossless_frames: bool = Field(False, description="also store frames.npz (bit-exact frames)")


MAX_CLIPS = 1_000_000  # per split of one scenario entry, and per spec: a plan is held in memory


class ClipCounts(Config):
    train: int = Field(0, ge=0, le=MAX_CLIPS)
    val: int = Field(0, ge=0, le=MAX_CLIPS)
    test: int = Field(0, ge=0, le=MAX_CLIPS)
    test_ood: int = Field(0, ge=0, le=MAX_CLIPS)


class Combo(Config):
    colour: str
    shape: Literal["circle", "box", "polygon"]


class ScenarioEntry(Config):
    scenario: str
    clips: ClipCounts
    sampling: Literal["balanced", "uniform", "grid"] = "balanced"
    params: dict[str, Any] = Field(default_factory=dict)
    ood: dict[str, Any] = Field(default_factory=dict)
    held_out_combos: list[Combo] = Field(default_factory=list,
                                         description="colour x shape pairs never seen in train/val/test")


class Spec(Config):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    seed: int = Field(0, ge=0, lt=2**63)
    video: VideoSpec = Field(default_factory=VideoSpec)
    shard_size: int = Field(32, ge=1, le=100000, description="clips per shard")
    scenarios: list[ScenarioEntry] = Field(min_length=1)


class ResolvedEntry:
    """A scenario entry with its scenario object and parsed regions."""

    def __init__(self, index: int, entry: ScenarioEntry):
        from .scenario import get_scenario

        path = f"scenarios[{index}]"
        self.index = index
        self.entry = entry
        self.scenario = get_scenario(entry.scenario, f"{path}.scenario")
        space = self.scenario.space
        self.train: dict[str, Region] = space.parse_train(f"{path}.params", _no_nan(entry.params, f"{path}.params"))
        self.ood: dict[str, Region] = space.parse_ood(f"{path}.ood", _no_nan(entry.ood, f"{path}.ood"), self.train)
        self.combos = tuple((c.colour, c.shape) for c in entry.held_out_combos)
        for i, (colour, shape) in enumerate(self.combos):
            cpath = f"{path}.held_out_combos[{i}]"
            if colour not in COLOUR_NAMES:
                raise ConfigError(f"{cpath}.colour", f"unknown colour {colour!r}; expected one of {list(COLOUR_NAMES)}")
            if shape not in self.scenario.shapes:
                raise ConfigError(f"{cpath}.shape", f"scenario {entry.scenario!r} never makes a {shape}; "
                                f"it makes {list(self.scenario.shapes)}")
        counts = entry.clips
        if sum(getattr(counts, s) for s in SPLITS) == 0:
            raise ConfigError(f"{path}.clips", "every split is empty; give at least one split a clip count > 0")
        if counts.test_ood > 0 and not self.ood and not self.combos:
            raise ConfigError(f"{path}.clips.test_ood", f"{counts.test_ood} OOD clips requested but neither "
                            "'ood' nor 'held_out_combos' defines what is out of distribution")
        self.scenario.validate(path, self.train, self.ood)

    @property
    def ood_axes_extra(self) -> tuple[str, ...]:
        return ("combos",) if self.combos else ()


def _no_nan(d: Any, path: str) -> Any:
    """YAML allows .nan and .inf; parameters never do."""
    if isinstance(d, float) and (d != d or d in (float("inf"), float("-inf"))):
        raise ConfigError(path, f"must be a finite number, got {d!r}")
    if isinstance(d, dict):
        for k, v in d.items():
            _no_nan(v, f"{path}.{k}")
    if isinstance(d, list):
        for i, v in enumerate(d):
            _no_nan(v, f"{path}[{i}]")
    return d


def parse_spec(data: Any, source: str = "spec") -> tuple[Spec, list[ResolvedEntry]]:
    """Validate a spec mapping; returns the typed spec and its resolved scenario entries."""
    if not isinstance(data, dict):
        raise ConfigError(source, f"expected a mapping at the top level, got {type(data).__name__}")
    try:
        spec = Spec.model_validate(data)
    except ValidationError as e:
        raise from_validation(e, "", Spec) from None
    v = spec.video
    substeps = v.physics_hz / v.fps
    if abs(substeps - round(substeps)) > 1e-9 or round(substeps) < 1:
        raise ConfigError("video.physics_hz", f"must be a whole multiple of video.fps ({v.fps}); "
                        f"{v.physics_hz} / {v.fps} = {substeps:g}")
    entries = [ResolvedEntry(i, e) for i, e in enumerate(spec.scenarios)]
    total = sum(getattr(e.entry.clips, s) for e in entries for s in SPLITS)
    if total > MAX_CLIPS:
        raise ConfigError("scenarios", f"{total} clips in all; a spec may ask for at most {MAX_CLIPS} "
                                       "(split a larger dataset into several specs)")
    if sum(e.entry.clips.train for e in entries) == 0:
        raise ConfigError("scenarios", "the train split is empty: no scenario asks for train clips")
    return spec, entries


def load_spec(path: str | Path, sets: list[str] | tuple[str, ...] = ()) -> tuple[Spec, list[ResolvedEntry]]:
    """Read a spec file, apply `--set a.b=v` items (`scenarios.0.clips.train=8` indexes the list),
    and validate it."""
    from ..config import load_mapping

    return parse_spec(load_mapping(path, sets, "spec"), str(path))


def dump_spec(spec: Spec) -> str:
    """The resolved spec (defaults filled in) as YAML: what `spec.yaml` in a dataset holds."""
    return yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False)
