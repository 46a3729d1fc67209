"""MP4 encoding and decoding of clips with PyAV (H.264 in memory, fragmented MP4).

Codecs: 'yuv444p' (libx264, 4:4:4 chroma: colours survive at small sizes, any frame size) and
'lossless' (libx264rgb, qp 0: bit-exact RGB). yuv420p is not offered: at 32-64 px it costs the
colour that identifies objects, and it fails on odd sizes."""

from __future__ import annotations

import io
import os
import stat
import time
from collections import deque
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

CODECS = ("yuv444p", "lossless")
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG: 0-255 luma and chroma


def rgb_to_yuv444(frames: np.ndarray) -> np.ndarray:
    """uint8 [T, H, W, 3] RGB -> uint8 [T, 3, H, W] planar Y, Cb, Cr: BT.601 full range (JPEG), the
    stream is tagged so. OpenCV's 8-bit conversion is fixed-point and bit-exact across its SIMD
    paths; swscale's varied with buffer alignment and a float32 BLAS matmul with thread count,
    either of which broke byte-identical shards across worker processes."""
    t, h, w, _ = frames.shape
    ycrcb = cv2.cvtColor(np.ascontiguousarray(frames).reshape(t * h, w, 3), cv2.COLOR_RGB2YCrCb)
    ycrcb = ycrcb.reshape(t, h, w, 3)
    return np.ascontiguousarray(np.stack([ycrcb[..., 0], ycrcb[..., 2], ycrcb[..., 1]], axis=1))


def encode_mp4(frames: np.ndarray, fps: float, codec: str = "yuv444p", crf: int = 12) -> bytes:
    """frames uint8 [T, H, W, 3] -> MP4 bytes. Deterministic: single-threaded x264, no timestamps."""
    if codec not in CODECS:
        raise ValueError(f"codec: {codec!r} is not one of {CODECS}")
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames: expected uint8 [T, H, W, 3], got {frames.dtype} {list(frames.shape)}")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4",
                 options={"movflags": "frag_keyframe+empty_moov+default_base_moof"}) as out:
        rate = Fraction(fps).limit_denominator(1001)
        if codec == "lossless":
            stream = out.add_stream("libx264rgb", rate=rate)
            stream.pix_fmt = "rgb24"
            stream.options = {"qp": "0", "preset": "ultrafast", "threads": "1"}
            fmt = "rgb24"
        else:
            stream = out.add_stream("libx264", rate=rate)
            stream.pix_fmt = "yuv444p"
            # mbtree=0: at 32-64 px x264's macroblock-tree lookahead reads uninitialised memory (its
            # output changed with MALLOC_PERTURB_), which broke byte-identical shards across workers.
            stream.options = {"crf": str(crf), "preset": "veryfast", "threads": "1", "x264-params": "mbtree=0"}
            stream.codec_context.color_range = _FULL_RANGE
            fmt = "yuv444p"
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.codec_context.thread_count = 1
        t, h, w, _ = frames.shape
        if fmt == "yuv444p":  # OpenCV's YCrCb, planes taken in Y, Cb, Cr order without a planar copy
            ycrcb = cv2.cvtColor(np.ascontiguousarray(frames).reshape(t * h, w, 3), cv2.COLOR_RGB2YCrCb)
            ycrcb = ycrcb.reshape(t, h, w, 3)
            planes = ((f[..., 0], f[..., 2], f[..., 1]) for f in ycrcb)
        else:
            planes = ((f.reshape(h, w * 3),) for f in frames)
        for data in planes:
            frame = _frame(data, fmt, w, h)
            if fmt == "yuv444p":
                frame.color_range = _FULL_RANGE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def _frame(planes: np.ndarray, fmt: str, w: int, h: int) -> av.VideoFrame:
    """A VideoFrame filled in place from its planes, each uint8 [H, W * bytes per pixel]: ~10x
    cheaper than VideoFrame.from_ndarray, whose conversion dominated the per-frame cost."""
    frame = av.VideoFrame(w, h, fmt)
    for plane, data in zip(frame.planes, planes, strict=True):
        view = np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)
        view[:, :data.shape[1]] = data
    return frame


# Bounds on decoding a video from outside (a submission, a context clip, a shard member): what any
# caller gets unless it asks for less. A read never blocks (non-regular files are refused before
# they are opened for reading) and decoding stops once the frames a caller needs are in hand.
MAX_VIDEO_BYTES = 1 << 30  # a file larger than this is refused unread
MAX_FRAME_PIXELS = 4096 * 4096  # per frame, checked from the stream header before decoding
MAX_FRAMES = 20_000  # frames decoded from one video
MAX_HELD_BYTES = 1 << 30  # decoded frames held in memory at once
DECODE_TIMEOUT_S = 120.0  # wall-clock budget of one decode


def read_video_file(path: str | Path, max_bytes: int = MAX_VIDEO_BYTES) -> bytes:
    """The bytes of a video file, read without ever blocking: the file is opened non-blocking and
    must be a regular file (a FIFO, socket or device is refused: reading one can wait forever), no
    larger than `max_bytes`. Errors are one ValueError (or OSError) naming the path."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path}: not a regular file ({_kind(st.st_mode)}); give a video file")
        if st.st_size > max_bytes:
            raise ValueError(f"{path}: {st.st_size} bytes, more than the {max_bytes} a video may have")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{path}: more than the {max_bytes} bytes a video may have")
    return data


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a plain file"


def decode_video(data: bytes, name: str | Path = "video", *, first: int | None = None, last: int | None = None,
                 max_frames: int = MAX_FRAMES, max_pixels: int = MAX_FRAME_PIXELS,
                 max_held_bytes: int = MAX_HELD_BYTES, timeout_s: float = DECODE_TIMEOUT_S) -> tuple[np.ndarray, float]:
    """Video bytes -> (frames uint8 [T, H, W, 3], fps), bounded: the first `first` frames (decoding
    stops there), or the last `last` (a rolling window), or all; never more than `max_frames`
    decoded, frames larger than `max_pixels` refused from the header, at most `max_held_bytes` of
    frames held, at most `timeout_s` spent. Every failure is one ValueError naming `name`."""
    if first is not None and last is not None:
        raise ValueError("decode_video: give `first` or `last`, not both")
    keep = first if first is not None else last
    deadline = time.monotonic() + timeout_s
    container, stream = _open(data, name)
    with container:
        w, h = stream.codec_context.width, stream.codec_context.height
        if w * h > max_pixels:
            raise ValueError(f"{name}: frames of {w}x{h} pixels, more than the {max_pixels} allowed")
        held = min(keep or max_frames, max_frames)  # frames in memory at once
        if w * h and held * w * h * 3 > max_held_bytes:
            if keep is not None:
                raise ValueError(f"{name}: {keep} frames of {w}x{h} would take more than {max_held_bytes} bytes")
            held = max(1, max_held_bytes // (w * h * 3))
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        frames: deque[np.ndarray] = deque(maxlen=last) if last is not None else deque()
        size = None
        mode = None
        n = 0
        try:
            for frame in container.decode(stream):
                if (frame.width, frame.height) != size:
                    if size is not None or frame.width * frame.height > max_pixels:
                        raise ValueError(f"frame {n} is {frame.width}x{frame.height}"
                                         + (f" after {size[0]}x{size[1]}" if size else ", too large"))
                    size = (frame.width, frame.height)
                n += 1
                if n > (max_frames if last is not None else held):
                    raise ValueError(f"more than {max_frames if last is not None else held} frames"
                                     + (" fit in memory" if held < max_frames and last is None else ""))
                if mode is None:
                    mode = _mode(frame)
                frames.append(_pixels(frame, mode))
                if first is not None and n >= first:
                    break  # decoding stops once the frames needed are in hand
                if time.monotonic() > deadline:
                    raise ValueError(f"decoding took more than {timeout_s:g} s")
        except (av.error.FFmpegError, ValueError, OSError, IndexError) as e:
            raise ValueError(f"{name}: cannot decode video ({_reason(e)})") from None
    if not frames:
        raise ValueError(f"{name}: video has no decodable frames")
    out = np.stack(list(frames))
    if mode == "ycc":  # one OpenCV conversion for the whole clip
        t, h, w, _ = out.shape
        out = cv2.cvtColor(out.reshape(t * h, w, 3), cv2.COLOR_YCrCb2RGB).reshape(t, h, w, 3)
    return out, fps


_BT601 = (2, 5, 6)  # colorspace: unspecified (FFmpeg then assumes BT.601), BT470BG, SMPTE170M


def _mode(frame: av.VideoFrame) -> str:
    """How a stream's frames become RGB: 'ycc' (4:4:4 full-range BT.601, what orrery writes: the
    planes are taken as they are and converted by OpenCV, the inverse of `rgb_to_yuv444`, 2x faster
    than swscale), 'gbr' (planar RGB from lossless streams: a reorder), or 'rgb' (anything else:
    FFmpeg's own conversion)."""
    name = frame.format.name
    if (name == "yuvj444p" or (name == "yuv444p" and frame.color_range == _FULL_RANGE)) and \
            getattr(frame, "colorspace", 2) in _BT601:
        return "ycc"
    if name == "gbrp":
        return "gbr"
    return "rgb"


def _plane(frame: av.VideoFrame, i: int) -> np.ndarray:
    p = frame.planes[i]
    return np.frombuffer(p, np.uint8).reshape(frame.height, p.line_size)[:, :frame.width]


def _pixels(frame: av.VideoFrame, mode: str) -> np.ndarray:
    """One decoded frame as uint8 [H, W, 3]: YCrCb for 'ycc' (converted once per clip), else RGB."""
    if mode == "ycc":
        return np.dstack([_plane(frame, 0), _plane(frame, 2), _plane(frame, 1)])
    if mode == "gbr":
        return np.dstack([_plane(frame, 2), _plane(frame, 0), _plane(frame, 1)])
    return frame.to_ndarray(format="rgb24")


def probe_video(data: bytes, name: str | Path = "video") -> dict:
    """The video stream's header, before any decoding: {width, height, fps}. One ValueError naming
    `name` when there is no video stream (audio only, garbage)."""
    container, stream = _open(data, name)
    with container:
        return {"width": int(stream.codec_context.width), "height": int(stream.codec_context.height),
                "fps": float(stream.average_rate or stream.guessed_rate or 0.0)}


def _reason(e: BaseException) -> str:
    return " ".join(str(e).split())[:200] or type(e).__name__


def decode_mp4(data: bytes | str | Path, max_frames: int | None = None, name: str | Path | None = None
               ) -> tuple[np.ndarray, float]:
    """MP4 bytes (or a path) -> (frames uint8 [T, H, W, 3], fps): `decode_video` with the default
    bounds; a path is read with `read_video_file` (no FIFOs, devices or oversized files)."""
    if not isinstance(data, (bytes, bytearray)):
        name = name or data
        data = read_video_file(data)
    return decode_video(bytes(data), name or "video", first=max_frames)


def _open(data: bytes, name: str | Path):
    """(container, its first video stream); one ValueError naming `name` for anything else."""
    try:
        container = av.open(io.BytesIO(data))
    except (av.error.FFmpegError, ValueError, OSError) as e:
        raise ValueError(f"{name}: not a video ({_reason(e)})") from None
    if not container.streams.video:
        what = "audio only" if container.streams.audio else "no stream of any kind"
        container.close()
        raise ValueError(f"{name}: no video stream ({what})")
    return container, container.streams.video[0]
