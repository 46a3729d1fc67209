"""Probe and decode with PyAV, in a child process with a timeout, so that a corrupt file that
crashes FFmpeg or a decoder that hangs costs one rejected input, never the run.

Frames keep their own presentation times (variable frame rate is kept as is; resampling to a
constant rate happens per clip in `split.py`). Frames are scaled to fit `work_side` for analysis."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..exec.children import tied_to_parent
from .stages import Rejection, Stage, Video

VIDEO_EXTS = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".mts", ".flv",
              ".wmv", ".ogv", ".3gp", ".gif", ".y4m", ".h264", ".hevc"}


class DecodeFailure(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def _fit(h: int, w: int, side: int) -> tuple[int, int]:
    s = min(1.0, side / max(h, w))
    return max(2, int(round(h * s))), max(2, int(round(w * s)))


_PLANAR = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"}


def shrink(a: np.ndarray, w: int, h: int) -> np.ndarray:
    """uint8 [H, W] -> [h, w]: exact 2x box averages while the image is at least twice the target
    (OpenCV's fast path, ~30x quicker than a non-integer INTER_AREA), then one bilinear step of
    ratio < 2, which aliases little."""
    import cv2

    while a.shape[1] >= 2 * w and a.shape[0] >= 2 * h:
        hh, ww = a.shape[0] // 2, a.shape[1] // 2
        a = cv2.resize(a[:2 * hh, :2 * ww], (ww, hh), interpolation=cv2.INTER_AREA)
    if a.shape[:2] == (h, w):
        return a
    return cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)


def small_rgb(frame, w: int, h: int) -> np.ndarray:
    """A decoded av.VideoFrame -> uint8 [h, w, 3] RGB, area-averaged.

    For 8-bit planar YUV (nearly every H.264/HEVC/VP9 file) each plane is shrunk first (`shrink`)
    and the colour conversion runs at the small size: several times faster than converting at full
    size. Other formats go through swscale."""

    name = frame.format.name
    if name not in _PLANAR:
        return frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA").to_ndarray()
    y, u, v = (shrink(np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width], w, h)
               .astype(np.float32) for p in frame.planes)
    kr, kb = (0.2126, 0.0722) if frame.colorspace == 1 else (0.299, 0.114)  # BT.709, else BT.601
    if name.startswith("yuvj") or frame.color_range == 2:  # full range
        u, v = u - 128.0, v - 128.0
    else:  # limited (MPEG) range, FFmpeg's default
        y, u, v = (y - 16.0) * (255 / 219), (u - 128.0) * (255 / 224), (v - 128.0) * (255 / 224)
    r = y + 2 * (1 - kr) * v
    b = y + 2 * (1 - kb) * u
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.stack([r, g, b], -1) + 0.5, 0, 255).astype(np.uint8)


def decode(path: str, work_side: int, max_frames: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """path -> (frames uint8 [N, h, w, 3], pts float64 [N] s, info). Raises DecodeFailure."""
    import av

    p = Path(path)
    looks_video = p.suffix.lower() in VIDEO_EXTS
    try:
        container = av.open(str(p))
    except av.error.FFmpegError as e:  # not a container FFmpeg knows, or a broken header
        raise DecodeFailure("corrupt" if looks_video else "not_a_video", f"cannot open: {e}") from None
    with container:
        if not container.streams.video:
            if container.streams.audio:
                raise DecodeFailure("audio_only", "the file has audio but no video stream")
            raise DecodeFailure("not_a_video" if not looks_video else "no_video_stream", "no video stream")
        stream = container.streams.video[0]
        try:
            ctx = stream.codec_context
            codec = ctx.codec.name if ctx is not None and ctx.codec is not None else None
        except Exception as e:  # PyAV raises when no decoder exists for the stream's codec
            raise DecodeFailure("unsupported_codec", f"no decoder: {e}") from None
        if codec is None or ctx.width == 0 and ctx.height == 0 and codec == "none":
            raise DecodeFailure("unsupported_codec", "no decoder for the video stream's codec")
        stream.thread_type = "AUTO"
        avg = float(stream.average_rate or stream.guessed_rate or 0.0)
        tb = float(stream.time_base) if stream.time_base else None
        frames, pts = [], []
        size = None
        corrupt_packets = 0
        try:
            for packet in container.demux(stream):
                # a packet cut short by truncation is flagged corrupt by the demuxer, not raised
                corrupt_packets += bool(packet.size and packet.is_corrupt)
                for frame in packet.decode():
                    if size is None:
                        size = (frame.height, frame.width)
                        h, w = _fit(frame.height, frame.width, work_side)
                    frames.append(small_rgb(frame, w, h))
                    pts.append(None if frame.pts is None or tb is None else frame.pts * tb)
                if len(frames) >= max_frames:
                    break
        except av.error.FFmpegError as e:
            if frames:
                raise DecodeFailure("truncated", f"decode error after {len(frames)} frames: {e}") from None
            raise DecodeFailure("corrupt", f"no frame decodes: {e}") from None
        except ValueError as e:  # PyAV raises ValueError for streams with no usable codec
            raise DecodeFailure("unsupported_codec", str(e)) from None
        if corrupt_packets and len(frames) < max_frames:
            raise DecodeFailure("truncated", f"{corrupt_packets} packet(s) cut short; {len(frames)} frames decode")
        container_s = (container.duration or 0) / 1e6
        declared = int(stream.frames or 0)
    if not frames:
        raise DecodeFailure("truncated" if declared else "corrupt", "the video stream holds no decodable frame")
    if declared and len(frames) < declared and len(frames) < max_frames:
        raise DecodeFailure("truncated", f"{len(frames)} of {declared} declared frames decode")
    t = np.array([np.nan if v is None else v for v in pts], dtype=np.float64)
    if avg <= 0:
        d = np.diff(t)
        avg = 1.0 / float(np.median(d)) if len(d) and np.all(np.isfinite(d)) and np.median(d) > 0 else 25.0
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        # missing or repeated stamps: order is still decode order; fall back to the average rate
        t = np.arange(len(frames), dtype=np.float64) / avg
    t = t - t[0]
    span = float(t[-1]) + 1.0 / avg
    if container_s > 0 and len(frames) < max_frames and span < 0.8 * container_s:
        raise DecodeFailure("truncated", f"{span:.2f} s of {container_s:.2f} s declared decode")
    info = {"fps": avg, "source_size": list(size), "codec": codec, "variable_rate": bool(
        len(t) > 2 and np.ptp(np.diff(t)) > 0.25 / avg), "cut_at_max_frames": len(frames) >= max_frames}
    return np.stack(frames), t, info


def _child(path: str, work_side: int, max_frames: int, outdir: str) -> None:
    try:
        frames, pts, info = decode(path, work_side, max_frames)
        np.save(os.path.join(outdir, "frames.npy"), frames)
        np.save(os.path.join(outdir, "pts.npy"), pts)
        result = {"ok": True, **info}
    except DecodeFailure as e:
        result = {"ok": False, "reason": e.reason, "detail": e.detail}
    except Exception as e:  # anything else the decoder throws is still this input's fault
        result = {"ok": False, "reason": "corrupt", "detail": f"{type(e).__name__}: {e}"}
    tmp = os.path.join(outdir, "result.json.tmp")
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, os.path.join(outdir, "result.json"))


def decode_isolated(path: str, work_side: int, max_frames: int, timeout_s: float,
                    tmp_root: str | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """`decode` in a child process; raises DecodeFailure('decode_timeout' | 'decoder_crashed', ...).

    A fresh interpreter (about 0.2 s) rather than fork: forking a process that holds Ray or rich
    threads can deadlock the child, which would then be misreported as a hanging decoder."""
    outdir = tempfile.mkdtemp(prefix="decode-", dir=tmp_root)
    try:
        cmd = [sys.executable, "-m", "orrery.curate.probe", path, str(work_side), str(max_frames), outdir]
        try:  # the child dies with this process (kill -9 included); run() kills it on any exception
            proc = subprocess.run(cmd, timeout=timeout_s, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, preexec_fn=tied_to_parent())
        except subprocess.TimeoutExpired:
            raise DecodeFailure("decode_timeout", f"the decoder did not finish within {timeout_s:g} s") from None
        res_path = os.path.join(outdir, "result.json")
        if not os.path.exists(res_path):
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
            raise DecodeFailure("decoder_crashed", f"the decoder process died (exit code {proc.returncode}) "
                                                   f"{' '.join(tail)}".strip())
        with open(res_path) as f:
            result = json.load(f)
        if not result.pop("ok"):
            raise DecodeFailure(result["reason"], result["detail"])
        frames = np.load(os.path.join(outdir, "frames.npy"), allow_pickle=False)
        pts = np.load(os.path.join(outdir, "pts.npy"), allow_pickle=False)
        return frames, pts, result
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


class ProbeDecode(Stage):
    """An input path -> a decoded Video, or a rejection naming why the file cannot be read."""

    name = "decode"

    def __init__(self, work_side: int, max_frames: int, timeout_s: float, tmp_root: str | None = None):
        self.work_side, self.max_frames, self.timeout_s, self.tmp_root = work_side, max_frames, timeout_s, tmp_root

    def process(self, item: tuple[str, str, str]):
        source, path, input_id = item  # path as listed, resolved path, stable id
        p = Path(path)
        if not os.path.lexists(p):
            return Rejection(input_id, source, self.name, "missing", "file not found")
        if p.is_dir():
            return Rejection(input_id, source, self.name, "not_a_video", "a folder, not a file")
        if not p.is_file():  # a FIFO, socket or device: reading it can block forever
            return Rejection(input_id, source, self.name, "not_a_file", "not a regular file (a FIFO or device?)")
        if p.is_file() and p.stat().st_size == 0:
            return Rejection(input_id, source, self.name, "zero_length", "the file is empty (0 bytes)")
        try:
            frames, pts, info = decode_isolated(str(p), self.work_side, self.max_frames, self.timeout_s,
                                                self.tmp_root)
        except DecodeFailure as e:
            return Rejection(input_id, source, self.name, e.reason, e.detail)
        video = Video(source=source, input_id=input_id, frames=frames, pts=pts, fps=float(info["fps"]),
                      source_size=tuple(info["source_size"]), codec=info["codec"])
        if info.get("cut_at_max_frames"):  # said, not silent: the rest of the file is not curated
            return [video, Rejection(f"{input_id}-rest", source, self.name, "too_long",
                                     f"only the first {self.max_frames} frames are curated (decode.max_frames)",
                                     start_s=float(pts[-1]))]
        return video


if __name__ == "__main__":  # the isolated decoder: python -m orrery.curate.probe PATH SIDE MAX OUTDIR
    _child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
