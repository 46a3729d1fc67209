"""`verify_video`: a video checked against the laws of physics with no ground truth.

    verdict = verify_video(frames, fps)            # palette colours on black, scenery read from the video
    verdict = verify_video(frames, fps, layout)    # or with the scene's layout (camera, walls, roles)
    verdict.score, verdict.flagged, verdict.laws   # one score per law, the frames where each broke

The score of a video is the sum of its laws' scores (each 0 when the law holds exactly, 1 at the
edge of what the parser's noise explains); a video is flagged when any law's score is above 1.
`verify_files` does the same for video files and writes `verdicts.json` and `verdicts.csv`."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .laws import Law, check_all
from .scene import read_scene

LAWS = ("free_flight", "energy", "momentum", "persistence", "rigidity", "interpenetration")


@dataclass
class Verdict:
    name: str
    laws: list[Law]
    n_frames: int
    n_objects: int

    @property
    def score(self) -> float:
        return float(sum(law.score for law in self.laws))

    @property
    def flagged(self) -> bool:
        return any(law.broken for law in self.laws)

    def law(self, name: str) -> Law:
        for law in self.laws:
            if law.name == name:
                return law
        raise KeyError(f"no law {name!r}; the laws are {', '.join(LAWS)}")

    def to_dict(self) -> dict:
        return {"video": self.name, "score": round(self.score, 4), "flagged": self.flagged, "frames": self.n_frames,
                "objects": self.n_objects,
                "laws": {law.name: {"score": round(law.score, 4), "broken": law.broken, "frames": law.frames,
                                    "detail": law.detail} for law in self.laws}}


def verify_video(frames: np.ndarray, fps: float, layout=None, palette: np.ndarray | None = None,
                 name: str = "video") -> Verdict:
    """Check one video uint8 [T, S, S, 3] at `fps` (see the module doc). `layout`: optional scene
    layout (`models.base.Layout`: camera, statics, objects; never states)."""
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        got = f"{getattr(frames, 'dtype', type(frames).__name__)} {list(getattr(frames, 'shape', []))}"
        raise ValueError(f"{name}: expected frames uint8 [T, H, W, 3], got {got}")
    if frames.shape[1] != frames.shape[2]:
        raise ValueError(f"{name}: frames are {frames.shape[2]}x{frames.shape[1]}; the verifier reads square frames")
    if frames.shape[0] < 3:
        raise ValueError(f"{name}: {frames.shape[0]} frames; the laws need at least 3")
    scene = read_scene(frames, fps, layout, palette)
    return Verdict(name, check_all(scene), int(frames.shape[0]), int(scene.seen.sum()))


def verify_files(paths: list[str | Path], out: str | Path | None = None, layouts: str | Path | None = None,
                 fps: float | None = None) -> tuple[list[Verdict], dict[str, str]]:
    """Verify video files; returns (verdicts, {path: why it was not verified}). With `out`, writes
    `verdicts.json` (every law, score and frame) and `verdicts.csv` (one row per video). `layouts`:
    a folder of clip records `KEY.json` (as `orrery bench export` writes under answers/): a video
    `KEY.mp4` is then read with its scene's static layout (never its states)."""
    from ..data.video import decode_mp4
    from .scene import SceneLayout

    verdicts, problems = [], {}
    for p in map(Path, paths):
        try:
            frames, rate = decode_mp4(str(p))
            layout = None
            if layouts is not None and (Path(layouts) / f"{p.stem}.json").exists():
                layout = SceneLayout.from_meta(json.loads((Path(layouts) / f"{p.stem}.json").read_text()))
            use = fps or rate
            if not use:
                raise ValueError("the video states no frame rate; give --fps")
            verdicts.append(verify_video(frames, float(use), layout, name=str(p)))
        except (ValueError, OSError) as e:
            problems[str(p)] = " ".join(str(e).split())[:200]
    if out is not None:
        write_verdicts(out, verdicts, problems)
    return verdicts, problems


def write_verdicts(out: str | Path, verdicts: list[Verdict], problems: dict[str, str]) -> None:
    from ..data.atomic import write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    doc = {"laws": list(LAWS), "videos": [v.to_dict() for v in verdicts], "not_verified": problems}
    write_text(out / "verdicts.json", json.dumps(doc, indent=1))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["video", "score", "flagged", *LAWS])
    for v in verdicts:
        w.writerow([v.name, f"{v.score:.4f}", int(v.flagged), *(f"{v.law(n).score:.4f}" for n in LAWS)])
    write_text(out / "verdicts.csv", buf.getvalue())
