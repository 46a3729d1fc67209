"""The clip record: frames, instance masks and a JSON-able `meta` with the full ground truth.

meta (JSON, `KEY.json` in a shard) holds:
    key, split, source ('simulate' | 'curate'), scenario, params (exact), seed, fps, n_frames,
    size, camera {x0, y0, extent, size}, gravity [gx, gy] (m/s^2), physics_hz, ood_axis (or null),
    objects  [{id, shape, colour_id, mass, moment, size, radius | vertices, role}]   (id = mask value)
    statics  [{kind, points, radius}]
    states   {position [T][N][2] m, velocity [T][N][2] m/s, angle [T][N] rad,
              angular_velocity [T][N] rad/s}          (N in the order of `objects`)
    energy   {kinetic [T][N] J, potential [T][N] J (gravity), elastic [T] J (springs)}
    events   [{frame, time, a, b, impulse [x, y]}]  (a, b object ids; 0 = scenery), first contacts
    actions  [T][A] or null (the command applied from frame t to t+1)
    captions [str, ...] (paraphrases), qa [{question, answer, kind}]
    video    {codec, crf}
Curated clips carry no states/objects/events (those keys are absent) and a `provenance` entry.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .camera import Camera
from .jsonfile import load_json
from .objects import ObjectSpec, StaticSpec
from .shards import json_bytes, npz_bytes, npz_load
from .video import decode_mp4, encode_mp4


@dataclass
class Clip:
    key: str
    frames: np.ndarray  # uint8 [T, H, W, 3]
    masks: np.ndarray | None  # uint8 [T, H, W], 0 = background, k = object id k
    meta: dict

    @property
    def fps(self) -> float:
        return float(self.meta["fps"])

    @property
    def split(self) -> str:
        return self.meta.get("split", "")

    @property
    def scenario(self) -> str:
        return self.meta.get("scenario", "")

    @cached_property
    def camera(self) -> Camera:
        return Camera.from_dict(self.meta["camera"])

    @cached_property
    def objects(self) -> list[ObjectSpec]:
        return [ObjectSpec.from_dict(o) for o in self.meta.get("objects", [])]

    @cached_property
    def statics(self) -> list[StaticSpec]:
        return [StaticSpec.from_dict(s) for s in self.meta.get("statics", [])]

    def state(self, name: str) -> np.ndarray:
        """A ground-truth state array: position/velocity [T, N, 2], angle/angular_velocity [T, N]."""
        states = self.meta.get("states")
        if not states or name not in states:
            raise KeyError(f"clip {self.key}: no ground-truth state {name!r} (curated clips have none)")
        return np.asarray(states[name], dtype=np.float64)

    @property
    def events(self) -> list[dict]:
        return list(self.meta.get("events", []))

    @property
    def actions(self) -> np.ndarray | None:
        a = self.meta.get("actions")
        return None if a is None else np.asarray(a, dtype=np.float32)

    @property
    def captions(self) -> list[str]:
        return list(self.meta.get("captions", []))

    def to_sample(self, codec: str = "yuv444p", crf: int = 12, lossless_frames: bool = False) -> dict[str, bytes]:
        """Shard members: mp4, json, masks.npz and optionally frames.npz (lossless)."""
        meta = dict(self.meta, video={"codec": codec, "crf": crf})
        out = {"mp4": encode_mp4(self.frames, self.fps, codec, crf), "json": json_bytes(meta)}
        if self.masks is not None:
            out["masks.npz"] = npz_bytes(masks=self.masks)
        if lossless_frames:
            out["frames.npz"] = npz_bytes(frames=self.frames)
        return out

    @classmethod
    def from_sample(cls, key: str, members: dict[str, bytes], decode: bool = True, where: str | Path = "") -> Clip:
        """Rebuild a clip from shard members; frames from frames.npz if present, else the decoded mp4.
        A member that does not read is a ValueError naming `where` (the shard) and the member."""
        at = f"{where}: {key}" if where else key
        if "json" not in members:
            raise ValueError(f"{at}: no {key}.json member (the clip's record)")
        meta = load_json(members["json"], f"{at}.json")
        if not isinstance(meta, dict):
            raise ValueError(f"{at}.json: expected a JSON object, got {type(meta).__name__}")
        frames = np.zeros((0,), dtype=np.uint8)
        try:
            if decode:
                if "frames.npz" in members:
                    frames = npz_load(members["frames.npz"])["frames"]
                elif "mp4" in members:
                    frames, _ = decode_mp4(members["mp4"], name=f"{at}.mp4")
                else:
                    raise ValueError("no video member (KEY.mp4 or KEY.frames.npz)")
            masks = npz_load(members["masks.npz"])["masks"] if "masks.npz" in members else None
        except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile) as e:
            msg = str(e)
            raise ValueError(msg if msg.startswith(str(at)) else f"{at}: unreadable member ({msg})") from None
        return cls(key=key, frames=frames, masks=masks, meta=meta)
