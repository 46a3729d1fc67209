"""Rate-distortion and speed of trained tokenizers next to H.264, on the same clips in one run.

For each tokenizer run: PSNR, SSIM, object-position error (px, against the simulator's states,
scored by `orrery.eval` exactly as a world model's prediction, beside the floor of the original
frames), the share of objects lost, bits per pixel and encode/decode frames/s. For H.264 (PyAV libx264, yuv444p, one thread) at several CRF values: the same numbers,
bits counted from the video packets (the bitstream, without MP4 container overhead).

Bits per pixel of a tokenizer: `nominal` = raw indices at log2(codebook) bits each; `zlib` = the
int16 index stream compressed with zlib level 9 (a real, if simple, entropy coder). Continuous
tokenizers have no bit rate (their latents are float32) and are shown for quality and speed only.

    python benchmarks/tokenizer.py --runs RUN [RUN ...] --data DIR [--split test] [--clips 24]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
import zlib
from pathlib import Path

import av
import numpy as np
import torch

from orrery.data.video import decode_mp4, encode_mp4
from orrery.eval.tokenizer import score_reconstruction
from orrery.tokenizer.checkpoint import load_tokenizer
from orrery.tokenizer.codec import decode_clips, encode_clips

CRFS = (0, 10, 18, 23, 28, 33, 38, 44, 51)


def packet_bits(mp4: bytes) -> int:
    """Bits of the H.264 bitstream inside an MP4 (sum of packet sizes)."""
    with av.open(io.BytesIO(mp4)) as c:
        return 8 * sum(p.size for p in c.demux(c.streams.video[0]) if p.size)


def scores(frames: np.ndarray, recon: np.ndarray, clips: list) -> dict[str, float]:
    """Mean PSNR, SSIM, position error and its floor (px), share of objects lost, over clips."""
    rows = [score_reconstruction(frames[i], recon[i], c.meta, None if c.masks is None else c.masks[:frames.shape[1]])
            for i, c in enumerate(clips)]
    out = {k: float(np.nanmean([r.get(k, math.nan) for r in rows])) for k in ("psnr", "ssim", "pos_px", "floor_px")}
    n = sum(r.get("n_positions", 0) for r in rows)
    out["lost"] = sum(r.get("lost", 0.0) * r.get("n_positions", 0) for r in rows) / max(n, 1)
    return out


def bench_h264(frames: np.ndarray, clips: list, fps: float, repeats: int) -> list[dict]:
    n_frames = frames.shape[0] * frames.shape[1]
    pixels = n_frames * frames.shape[2] * frames.shape[3]
    rows = []
    for crf in CRFS:
        t0 = time.perf_counter()
        for _ in range(repeats):
            blobs = [encode_mp4(c, fps, "yuv444p", crf) for c in frames]
        enc = (time.perf_counter() - t0) / repeats
        t0 = time.perf_counter()
        for _ in range(repeats):
            recon = np.stack([decode_mp4(b)[0] for b in blobs])
        dec = (time.perf_counter() - t0) / repeats
        rows.append({"codec": f"h264 crf {crf}", "bpp": sum(packet_bits(b) for b in blobs) / pixels,
                     "bpp_file": 8 * sum(len(b) for b in blobs) / pixels, **scores(frames, recon, clips),
                     "encode_fps": n_frames / enc, "decode_fps": n_frames / dec})
    return rows


def bench_tokenizer(run: Path, frames: np.ndarray, clips: list, repeats: int, batch: int) -> dict:
    model, meta = load_tokenizer(run)
    n_frames = frames.shape[0] * frames.shape[1]
    pixels = n_frames * frames.shape[2] * frames.shape[3]
    with torch.inference_mode():
        encode_clips(model, frames[:1], batch)  # warm-up (allocator, first-call overheads)
        t0 = time.perf_counter()
        for _ in range(repeats):
            z = encode_clips(model, frames, batch)
        enc = (time.perf_counter() - t0) / repeats
        t0 = time.perf_counter()
        for _ in range(repeats):
            recon = decode_clips(model, z, frames.shape[1], batch)
        dec = (time.perf_counter() - t0) / repeats
    c = model.cfg
    row = {"codec": f"{c.kind} {c.compression}" + (f" {list(c.fsq_levels)}" if c.kind == "fsq" else f" C={c.code_dim}"),
           "run": str(run), "step": meta.get("step"),
           **scores(frames, recon, clips), "encode_fps": n_frames / enc, "decode_fps": n_frames / dec,
           "params": sum(p.numel() for p in model.parameters())}
    if model.fsq is not None:
        row["bpp"] = sum(model.bits_per_pixel(*f.shape[:3]) for f in frames) / len(frames)
        row["bpp_zlib"] = 8 * sum(len(zlib.compress(zi.astype(np.int16).tobytes(), 9)) for zi in z) / pixels
        row["codes_used"] = int(len(np.unique(z)))
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="+", type=Path, required=True, help="tokenizer run folders")
    ap.add_argument("--data", type=Path, required=True, help="dataset folder made by `orrery simulate`")
    ap.add_argument("--split", default="test")
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--frames", type=int, default=17, help="frames per clip (1 + k * 4 suits every preset)")
    ap.add_argument("--repeats", type=int, default=2, help="timing repeats (the mean is reported)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (H.264 runs one thread)")
    ap.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from orrery.data.dataset import ClipStore

    store = ClipStore(args.data, args.split)
    got = [store.clip(i) for i in range(min(args.clips, len(store)))]
    t = min(args.frames, *(c.frames.shape[0] for c in got))
    frames = np.stack([c.frames[:t] for c in got])
    fps = got[0].fps
    source = f"{args.data}/{args.split}, {len(got)} clips x {t} frames x {frames.shape[2]} px"

    rows = [bench_tokenizer(r, frames, got, args.repeats, args.batch) for r in args.runs]
    rows += bench_h264(frames, got, fps, args.repeats)
    print(f"clips: {source}; torch threads {args.threads}")
    cols = ["codec", "bpp", "bpp_zlib", "psnr", "ssim", "pos_px", "floor_px", "lost", "encode_fps",
            "decode_fps"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        print("| " + " | ".join(cells) + " |")
    if args.out:
        args.out.write_text(json.dumps({"source": source, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
