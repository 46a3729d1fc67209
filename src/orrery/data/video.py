"""MP4 encoding and decoding of clips with PyAV (H.264 in memory, fragmented MP4).

Codecs: 'yuv444p' (libx264, 4:4:4 chroma: colours survive at small sizes, any frame size) and
'lossless' (libx264rgb, qp 0: bit-exact RGB). yuv420p is not offered: at 32-64 px it costs the
colour that identifies objects, and it fails on odd sizes."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np

CODECS = ("yuv444p", "lossless")

# BT.601 limited range, the decoders' default for untagged SD video, in exact integer arithmetic.
# Converting here rather than in swscale (whose SIMD paths vary with buffer alignment), and without
# floating point (a BLAS matmul rounds differently with thread count and alignment), keeps the
# encoder's input, and so every shard, byte-identical across processes.
_RGB2YUV = np.array([[66, 129, 25], [-38, -74, 112], [112, -94, -18]], dtype=np.int32)
_YUV_OFFSET = np.array([16, 128, 128], dtype=np.int32)


def rgb_to_yuv444(frames: np.ndarray) -> np.ndarray:
    """uint8 [..., H, W, 3] RGB -> uint8 [..., 3, H, W] planar Y, Cb, Cr (BT.601 limited range,
    8-bit fixed point). Vectorised over a whole clip: one call per clip, not per frame."""
    r, g, b = (frames[..., k].astype(np.int32) for k in range(3))
    planes = [np.clip(((m[0] * r + m[1] * g + m[2] * b + 128) >> 8) + off, 0, 255).astype(np.uint8)
              for m, off in zip(_RGB2YUV, _YUV_OFFSET, strict=True)]
    return np.stack(planes, axis=-3)


def encode_mp4(frames: np.ndarray, fps: float, codec: str = "yuv444p", crf: int = 18) -> bytes:
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
            fmt = "yuv444p"
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.codec_context.thread_count = 1
        planes = rgb_to_yuv444(frames) if fmt == "yuv444p" else frames
        for data in planes:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(data), format=fmt)):
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
