"""The curate configuration: typed, validated on load, unknown keys rejected with their field path.

Every threshold of every stage lives here so that a run folder's `curate.yaml` reproduces it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import ConfigDict, Field, ValidationError, model_validator

from ..config import Config, ConfigError, from_validation, load_mapping

Side = Annotated[int, Field(ge=8, le=4096)]


class _Strict(Config):
    model_config = ConfigDict(frozen=True)


class DecodeConfig(_Strict):
    timeout_s: float = Field(120.0, gt=0, description="a decoder that takes longer is killed; the input is rejected")
    work_side: int = Field(128, ge=16, le=1024, description="analysis frames are resized to fit this (keeps aspect)")
    max_frames: int = Field(54_000, ge=1, description="frames past this are not curated (a `too_long` row "
                                                     "says so); analysis frames are held in memory")


class ShotConfig(_Strict):
    cut_ratio: float = Field(3.0, gt=1, description="a hard cut's frame difference over the local median")
    cut_min: float = Field(0.08, ge=0, le=1, description="absolute floor of a hard cut's frame difference")
    window: int = Field(12, ge=2, le=120, description="frames on each side for gradual transitions")
    gradual_min: float = Field(0.25, ge=0, le=1, description="absolute floor of a gradual transition's score")
    gradual_ratio: float = Field(2.5, gt=1, description="a gradual peak over its local baseline")
    min_shot_frames: int = Field(6, ge=1, description="transitions closer than this are merged")


class ClipConfig(_Strict):
    min_s: float = Field(1.0, gt=0, description="shorter shots are rejected (duration filter)")
    max_s: float = Field(4.0, gt=0, description="longer shots are split into several clips")
    fps: float | None = Field(None, gt=0, le=240, description="output rate; null keeps the source's average rate")
    size: tuple[Side, Side] = Field((64, 64), description="output [H, W] in pixels")
    trim_frames: int = Field(2, ge=0, le=60, description="frames dropped at each shot edge (unstable)")
    codec: Literal["yuv444p", "lossless"] = "yuv444p"
    crf: int = Field(18, ge=0, le=51)

    @model_validator(mode="after")
    def _check(self):
        if self.max_s < self.min_s:
            raise ValueError(f"max_s ({self.max_s}) must be >= min_s ({self.min_s})")
        return self


class FilterConfig(_Strict):
    motion_min: float = Field(0.02, ge=0, description="mean optical-flow magnitude (px/frame at output size)")
    motion_max: float = Field(8.0, gt=0, description="above this the clip is a whip pan or noise")
    static_min_std: float = Field(4.0, ge=0, description="pixel std below this is a blank frame")
    blur_min: float = Field(0.0, ge=0, description="absolute floor of the Laplacian variance")
    blur_percentile: float = Field(0.0, ge=0, lt=100, description="clips below this dataset percentile of "
                                                                   "sharpness are rejected (0 = off)")
    exposure_min: float = Field(16.0, ge=0, le=255, description="mean luma below this is underexposed")
    exposure_max: float = Field(240.0, ge=0, le=255, description="mean luma above this is overexposed")
    clipped_max: float = Field(0.5, ge=0, le=1, description="fraction of clipped pixels (0 or 255)")
    letterbox_max: float = Field(0.4, ge=0, le=1, description="fraction of the frame in bars")


class SemanticConfig(_Strict):
    enabled: bool = True
    clusters: int = Field(8, ge=1)
    max_cosine_distance: float = Field(0.002, ge=0, le=2, description="inside a cluster, closer clips are duplicates")
    embedding: Literal["descriptor"] = "descriptor"


class DedupConfig(_Strict):
    exact: bool = True
    phash_max_distance: int = Field(3, ge=-1, le=64, description="-1 turns near-duplicate removal off")
    semantic: SemanticConfig = SemanticConfig()


class PrivacyConfig(_Strict):
    face_blur: bool = True
    face_min_px: int = Field(24, ge=24, description="smallest face searched, px at analysis resolution")
    face_every: int = Field(4, ge=1, le=30, description="detect on every k-th frame; blur +-k frames around")
    cascade: str | None = Field(None, description="path of OpenCV's haarcascade_frontalface_default.xml "
                                                  "(else $ORRERY_HAAR_CASCADE, else OpenCV's bundled data)")
    blocklist: tuple[str, ...] = ()


class CurateConfig(_Strict):
    seed: int = 0
    decode: DecodeConfig = DecodeConfig()
    shots: ShotConfig = ShotConfig()
    clips: ClipConfig = ClipConfig()
    filters: FilterConfig = FilterConfig()
    dedup: DedupConfig = DedupConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    captioner: Literal["properties"] = "properties"
    splits: dict[str, float] = Field(default_factory=lambda: {"train": 0.9, "val": 0.05, "test": 0.05})
    clips_per_shard: int = Field(256, ge=1)

    @model_validator(mode="after")
    def _check_sizes(self):
        if self.decode.work_side < max(self.clips.size):
            raise ValueError(f"decode.work_side ({self.decode.work_side}) must be >= the largest side of "
                             f"clips.size {list(self.clips.size)}: clips are cut from the analysis frames")
        return self

    @model_validator(mode="after")
    def _check_splits(self):
        bad = [k for k in self.splits if k not in ("train", "val", "test", "test_ood")]
        if bad:
            raise ValueError(f"splits: unknown split(s) {bad}; expected train, val, test, test_ood")
        total = sum(self.splits.values())
        if any(v < 0 for v in self.splits.values()) or abs(total - 1.0) > 1e-6:
            raise ValueError(f"splits: fractions must be >= 0 and sum to 1, got {dict(self.splits)}")
        return self


def parse_config(data: dict | None, source: str = "config") -> CurateConfig:
    """A dict (e.g. from YAML) -> CurateConfig, or ConfigError naming the bad field's path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, f"expected a mapping at the top level, got {type(data).__name__}")
    try:
        return CurateConfig.model_validate(data)
    except ValidationError as err:
        raise from_validation(err, "", CurateConfig) from None


def load_config(path: str | Path | None, sets: list[str] | tuple[str, ...] = ()) -> CurateConfig:
    """Read a curate YAML file (None = the defaults) and apply `--set a.b=v` items."""
    return parse_config(load_mapping(path, sets, "curate config"), str(path or "config"))


def dump_config(cfg: CurateConfig) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
