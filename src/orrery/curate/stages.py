"""The stage protocol: each stage turns one item into an item (or several, for a split) or a
rejection with a reason; a Pipeline chains stages and collects what is kept and what is not.

Items are plain dataclasses so a worker can build them from a path and hand back only bytes and
scores (never frames) to the driver."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Rejection:
    """Why an input or a clip was set aside: `reason` is a short code, `detail` the human text."""

    key: str  # the clip key, or the input id for a whole input
    source: str  # the input path as given
    stage: str
    reason: str
    detail: str = ""
    scores: dict = field(default_factory=dict)
    start_s: float | None = None
    end_s: float | None = None

    def row(self) -> dict:
        return {"key": self.key, "source": self.source, "stage": self.stage, "reason": self.reason,
                "detail": self.detail, "start_s": self.start_s, "end_s": self.end_s,
                **{f"score.{k}": float(v) for k, v in sorted(self.scores.items())}}


@dataclass
class Video:
    """A decoded input at analysis resolution."""

    source: str  # path as listed
    input_id: str  # stable id derived from the path (keys are built from it)
    frames: np.ndarray  # uint8 [N, h, w, 3], h and w fit decode.work_side
    pts: np.ndarray  # float64 [N] seconds, strictly increasing (variable frame rate allowed)
    fps: float  # average rate of the source
    source_size: tuple[int, int]  # [H, W] of the source
    codec: str
    transitions: list[tuple[int, int]] = field(default_factory=list)  # [start, end) frames of each transition
    shots: list[tuple[int, int]] = field(default_factory=list)  # [start, end) frames of each shot

    @property
    def duration_s(self) -> float:
        if len(self.pts) < 2:
            return 0.0
        return float(self.pts[-1] - self.pts[0] + (self.pts[-1] - self.pts[-2]))


@dataclass
class ClipItem:
    """One clip cut from one shot: output frames plus everything measured about it."""

    key: str
    source: str
    input_id: str
    shot: int
    frames: np.ndarray  # uint8 [T, H, W, 3] at clips.size
    fps: float
    start_s: float  # source time of the first frame
    end_s: float  # source time just after the last frame
    source_frames: tuple[int, int]  # [first, last + 1) source frame indices used
    split: str = ""
    work: np.ndarray | None = None  # uint8 [T, h, w, 3] the same frames at analysis size (face guard)
    scores: dict = field(default_factory=dict)
    captions: list[str] = field(default_factory=list)
    faces_blurred: int = 0
    embedding: np.ndarray | None = None  # float32 [D], L2-normalised
    phash: int = 0  # 64-bit perceptual hash of the middle frame
    digest: str = ""  # sha256 of the frames: exact duplicates
    sample: dict | None = None  # shard members once encoded
    n_frames: int = 0  # set when encoded (the frames are dropped then)

    def reject(self, stage: str, reason: str, detail: str = "") -> Rejection:
        return Rejection(self.key, self.source, stage, reason, detail, dict(self.scores), self.start_s, self.end_s)


Item = Video | ClipItem
Result = Item | Rejection | list


class FatalStageError(RuntimeError):
    """A stage that cannot run safely (e.g. the privacy guard): stops the whole run, never set aside."""


class Stage:
    """One step of curation. Subclasses set `name` and implement `process`."""

    name = "stage"

    def process(self, item):  # -> item | Rejection | list[item | Rejection]
        raise NotImplementedError


class Pipeline:
    """Runs items through stages in order; a list result fans out, a Rejection stops that item.

    Depth first: each clip goes through every remaining stage before the next clip starts, so only
    one clip's frames are alive at a time. An exception in a stage sets that item aside with reason
    `error` (and the exception text) and the rest goes on; a FatalStageError stops everything.
    `counts[stage]` holds [in, out, rejected] item counts (a split has out > in), which the driver
    shows as per-stage progress."""

    def __init__(self, stages: list[Stage]):
        self.stages = stages
        self.counts: dict[str, list[int]] = {s.name: [0, 0, 0] for s in stages}
        self.reasons: Counter = Counter()

    def run(self, item) -> tuple[list, list[Rejection]]:
        """One input item -> (kept items, rejections)."""
        kept: list = []
        rejected: list[Rejection] = []
        self._run(item, 0, kept, rejected)
        return kept, rejected

    def _run(self, item, i: int, kept: list, rejected: list[Rejection]) -> None:
        if i == len(self.stages):
            kept.append(item)
            return
        stage = self.stages[i]
        self.counts[stage.name][0] += 1
        try:
            out = stage.process(item)
        except FatalStageError:
            raise
        except Exception as e:  # a bug or an input no stage foresaw: set aside with its reason
            if isinstance(item, tuple):  # an input not decoded yet: (source, path, input id)
                source, key = str(item[0]), str(item[2])
            else:
                key = str(getattr(item, "key", None) or getattr(item, "input_id", None) or item)
                source = str(getattr(item, "source", None) or item)
            out = Rejection(key, source, stage.name, "error", f"{type(e).__name__}: {e}")
        for o in out if isinstance(out, list) else [out]:
            if isinstance(o, Rejection):
                rejected.append(o)
                self.reasons[o.reason] += 1
                self.counts[stage.name][2] += 1
            else:
                self.counts[stage.name][1] += 1
                self._run(o, i + 1, kept, rejected)
