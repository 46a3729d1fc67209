"""MP4 encoding and decoding of clips with PyAV (H.264 in memory, fragmented MP4).

Codecs: 'yuv444p' (libx264, 4:4:4 chroma: colours survive at small sizes, any frame size) and
'lossless' (libx264rgb, qp 0: bit-exact RGB). yuv420p is not offered: at 32-64 px it costs the
colour that identifies objects, and it fails on odd sizes."""

from __future__ import annotations

import io
from fractions import Fraction

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
        planes = rgb_to_yuv444(frames) if fmt == "yuv444p" else frames
        for data in planes:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(data), format=fmt)
            if fmt == "yuv444p":
                frame.color_range = _FULL_RANGE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def decode_mp4(data: bytes | str, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """MP4 bytes (or a path) -> (frames uint8 [T, H, W, 3], fps)."""
    src = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    frames = []
    with av.open(src) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            if max_frames is not None and len(frames) >= max_frames:
                break
    if not frames:
        raise ValueError("video has no decodable frames")
    return np.stack(frames), fps
