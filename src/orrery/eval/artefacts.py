"""The artefact suite: what outside video generators do to frames that is not physics.

Each `Artefact` changes a predicted clip the way a generator, its codec or its colour pipeline
would: re-encoding (H.264 yuv420p and yuv444p, HEVC, VP9, MPEG-4 part 2, at several quality
settings), global colour changes (hue rotation, saturation, brightness, contrast, gamma), mild blur
and sensor-like noise. A fair ruler scores these like the truth: no spawned or lost objects and the
floor's position error. Geometric artefacts (a shift of k pixels, a lag of k frames) are real
errors of known size, and the ruler must score exactly that size.

`apply(artefact, context, future, fps)` returns the changed future frames; a lag takes its first
frames from the end of the context (a late video shows the past). `aim=False` marks stress entries
stronger than what the ruler is held to (H.264 at crf 28, MPEG-4 part 2): measured, not required."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np


@dataclass(frozen=True)
class Artefact:
    name: str
    kind: str  # "codec", "photometric" or "geometric"
    fn: Callable[[np.ndarray, np.ndarray, float], np.ndarray]  # (context, future, fps) -> future'
    shift_px: float = 0.0  # geometric: the known shift of every object, px
    lag: int = 0  # geometric: frames late
    aim: bool = True  # of the strength the ruler must shrug off (codec/photometric) or score exactly (geometric)


def encode_decode(frames: np.ndarray, fps: float, codec: str = "libx264", pix_fmt: str = "yuv420p",
                  crf: int | None = 23, options: dict | None = None) -> np.ndarray:
    """Frames uint8 [T, H, W, 3] through a lossy codec and back, as a generator's output file would
    be (limited-range BT.601 unless the codec says otherwise, the common default)."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="matroska") as out:
        stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = pix_fmt
        opts = {"threads": "1"} if codec in ("libx264", "libvpx-vp9") else {}
        if crf is not None:
            opts["crf"] = str(crf)
        if codec == "libx264":
            opts["preset"] = "medium"
        if codec == "libx265":
            opts["x265-params"] = "log-level=none:pools=1:frame-threads=1"
        if codec == "libvpx-vp9":
            opts["b"] = "0"
        opts.update(options or {})
        stream.options = opts
        stream.codec_context.thread_count = 1
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    buf.seek(0)
    with av.open(buf) as src:
        got = [fr.to_ndarray(format="rgb24") for fr in src.decode(video=0)]
    return np.stack(got)[:len(frames)]


def _hsv(frames: np.ndarray, hue_deg: float = 0.0, sat: float = 1.0) -> np.ndarray:
    import cv2

    out = np.empty_like(frames)
    for i, f in enumerate(frames):
        hsv = cv2.cvtColor(f.astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)  # H in degrees
        hsv[..., 0] = (hsv[..., 0] + hue_deg) % 360.0
        hsv[..., 1] = np.clip(hsv[..., 1] * sat, 0.0, 1.0)
        out[i] = np.clip(np.round(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0), 0, 255).astype(np.uint8)
    return out


def _tone(frames: np.ndarray, gain: float = 1.0, offset: float = 0.0, gamma: float = 1.0) -> np.ndarray:
    """Contrast `gain` about mid-grey, brightness `offset` (levels), then a gamma curve."""
    x = (frames.astype(np.float32) - 127.5) * gain + 127.5 + offset
    x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** gamma
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def _blur(frames: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    return np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in frames])


def _noise(frames: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.round(frames + rng.normal(0.0, sigma, frames.shape)), 0, 255).astype(np.uint8)


def _shift(frames: np.ndarray, dx: int) -> np.ndarray:
    """Everything moved `dx` px to the right; the column that enters is the frames' own edge
    column (scenery walls stay walls)."""
    out = np.empty_like(frames)
    out[:, :, dx:] = frames[:, :, :-dx]
    out[:, :, :dx] = frames[:, :, :1]
    return out


def _lag(context: np.ndarray, future: np.ndarray, k: int) -> np.ndarray:
    return np.concatenate([context, future], axis=0)[len(context) - k:len(context) - k + len(future)]


def _codec(codec: str, pix_fmt: str, crf: int | None, **options) -> Callable:
    return lambda ctx, fut, fps: encode_decode(fut, fps, codec, pix_fmt, crf, options or None)


ARTEFACTS: tuple[Artefact, ...] = (
    Artefact("h264-yuv420p-crf18", "codec", _codec("libx264", "yuv420p", 18)),
    Artefact("h264-yuv420p-crf23", "codec", _codec("libx264", "yuv420p", 23)),
    Artefact("h264-yuv420p-crf28", "codec", _codec("libx264", "yuv420p", 28), aim=False),
    Artefact("h264-yuv444p-crf23", "codec", _codec("libx264", "yuv444p", 23)),
    Artefact("hevc-yuv420p-crf23", "codec", _codec("libx265", "yuv420p", 23)),
    Artefact("vp9-yuv420p-crf32", "codec", _codec("libvpx-vp9", "yuv420p", 32)),
    Artefact("mpeg4-yuv420p-q2", "codec", _codec("mpeg4", "yuv420p", None, qscale="2"), aim=False),
    Artefact("hue+10", "photometric", lambda c, f, fps: _hsv(f, hue_deg=10.0)),
    Artefact("hue-10", "photometric", lambda c, f, fps: _hsv(f, hue_deg=-10.0)),
    Artefact("saturation0.7", "photometric", lambda c, f, fps: _hsv(f, sat=0.7)),
    Artefact("saturation1.3", "photometric", lambda c, f, fps: _hsv(f, sat=1.3)),
    Artefact("brightness+20", "photometric", lambda c, f, fps: _tone(f, offset=20.0)),
    Artefact("brightness-20", "photometric", lambda c, f, fps: _tone(f, offset=-20.0)),
    Artefact("contrast0.8", "photometric", lambda c, f, fps: _tone(f, gain=0.8)),
    Artefact("contrast1.2", "photometric", lambda c, f, fps: _tone(f, gain=1.2)),
    Artefact("gamma0.8", "photometric", lambda c, f, fps: _tone(f, gamma=0.8)),
    Artefact("gamma1.25", "photometric", lambda c, f, fps: _tone(f, gamma=1.25)),
    Artefact("blur0.6", "photometric", lambda c, f, fps: _blur(f, 0.6)),
    Artefact("noise4", "photometric", lambda c, f, fps: _noise(f, 4.0)),
    Artefact("generator", "codec",  # all at once, milder: what one real generator's file shows
              lambda c, f, fps: encode_decode(_noise(_blur(_hsv(f, 5.0, 0.9), 0.5), 2.0), fps, "libx264", "yuv420p", 23)),
    Artefact("shift1px", "geometric", lambda c, f, fps: _shift(f, 1), shift_px=1.0),
    Artefact("shift2px", "geometric", lambda c, f, fps: _shift(f, 2), shift_px=2.0),
    Artefact("lag1", "geometric", lambda c, f, fps: _lag(c, f, 1), lag=1),
    Artefact("lag2", "geometric", lambda c, f, fps: _lag(c, f, 2), lag=2),
)
ARTEFACT_BY_NAME = {a.name: a for a in ARTEFACTS}


def apply(artefact: Artefact | str, context: np.ndarray, future: np.ndarray, fps: float) -> np.ndarray:
    """The future frames uint8 [H, S, S, 3] as the artefact leaves them (same shape)."""
    if isinstance(artefact, str):
        if artefact not in ARTEFACT_BY_NAME:
            raise ValueError(f"unknown artefact {artefact!r}; choose from {', '.join(ARTEFACT_BY_NAME)}")
        artefact = ARTEFACT_BY_NAME[artefact]
    if artefact.lag > len(context):
        raise ValueError(f"{artefact.name}: needs {artefact.lag} context frames, got {len(context)}")
    out = artefact.fn(context, future, fps)
    if out.shape != future.shape or out.dtype != np.uint8:
        raise ValueError(f"{artefact.name}: returned {out.dtype} {list(out.shape)} for {list(future.shape)}")
    return out


def known_error_px(artefact: Artefact, true) -> float:
    """The position error (px) a geometric artefact must score on these true tracks (eval.truth,
    context rows included): its shift, or for a lag of k frames the mean distance the objects
    travel in k frames, averaged like `position_error_px` (objects per frame, then frames)."""
    if artefact.lag == 0:
        return artefact.shift_px
    from .pairing import nanmean

    k, f = artefact.lag, true.future
    ok = true.complete if true.complete is not None else true.visible
    c = true.centroid_px
    d = np.linalg.norm(c[f:] - c[f - k:len(c) - k], axis=-1)
    return float(np.nanmean(nanmean(np.where(ok[f:], d, np.nan), axis=1)))


def score_artefact(meta: dict, context: np.ndarray, future: np.ndarray, masks: np.ndarray | None,
                   artefact: Artefact | None, start: int = 0) -> dict:
    """The clip's true future, changed by `artefact` (None: unchanged, the floor), scored on what
    the artefact suite checks: objects spawned and lost (summed over the horizon), mean position
    error (px) and, for geometric artefacts, the error it must score."""
    from ..data.camera import Camera
    from ..data.objects import StaticSpec
    from ..sim.parse import background_image
    from . import metrics_energy as en
    from . import metrics_motion as mo
    from .scoring import parse_prediction
    from .truth import true_tracks

    pred = future if artefact is None else apply(artefact, context, future, float(meta["fps"]))
    size = future.shape[1]
    cam = Camera.from_dict(meta["camera"]).resized(size)
    bg = background_image(cam, [StaticSpec.from_dict(s) for s in meta.get("statics", [])])
    p = parse_prediction(meta, context, pred, cam, bg, start)
    t = true_tracks(meta, start, start + len(context) + len(future), size, masks, future=len(context))
    out = {"spawned": float(np.sum(mo.objects_spawned(p, t, meta))), "lost": float(np.sum(mo.objects_lost(p, t, meta))),
           "position_error_px": float(np.nanmean(mo.position_error_px(p, t, meta))),
           "energy_flag": en.energy_flag(p, t, meta)}
    if artefact is not None and artefact.kind == "geometric":
        out["known_px"] = known_error_px(artefact, t)
    return out
