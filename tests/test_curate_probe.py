"""Probe and decode: every kind of bad input is set aside with its reason, a hanging decoder is
timed out, variable frame rate keeps true timestamps."""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np
import pytest

from orrery.curate.probe import ProbeDecode
from orrery.data.video import encode_mp4


def _frames(n=20, h=32, w=48, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def _mkv_ffv1(path, frames, fps=10):
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=fps)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    good = encode_mp4(_frames(), 10.0)
    (d / "good.mp4").write_bytes(good)
    (d / "truncated.mp4").write_bytes(good[: len(good) // 2])
    (d / "empty.mp4").write_bytes(b"")
    (d / "notes.txt").write_text("not a video")
    (d / "garbage.mov").write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with av.open(str(d / "sound.m4a"), "w") as c:
        s = c.add_stream("aac", rate=8000)
        for i in range(8):
            f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            f.sample_rate, f.pts = 8000, i * 1024
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    _mkv_ffv1(d / "ffv1.mkv", _frames())
    # a Matroska file whose codec id no decoder knows
    (d / "unknown.mkv").write_bytes((d / "ffv1.mkv").read_bytes().replace(b"V_FFV1", b"V_ZZZZ"))
    os.mkfifo(d / "hangs.mp4")  # opening it blocks forever: refused before a decoder is started
    return d


@pytest.mark.parametrize("name,reason", [
    ("truncated.mp4", "truncated"), ("empty.mp4", "zero_length"), ("notes.txt", "not_a_video"),
    ("garbage.mov", "corrupt"), ("sound.m4a", "audio_only"), ("unknown.mkv", "unsupported_codec"),
    ("hangs.mp4", "not_a_file"), ("missing.mp4", "missing"),
])
def test_bad_inputs_are_rejected_with_reason(bad_inputs, name, reason):
    p = bad_inputs / name
    r = ProbeDecode(64, 1000, timeout_s=2.0).process((name, str(p), "id"))
    assert getattr(r, "reason", None) == reason, getattr(r, "detail", r)


def test_a_decoder_that_never_returns_times_out(bad_inputs):
    """The isolated decoder's own bound: a read that blocks (the FIFO, past the stage's check) costs
    one rejected input after the timeout, and the child is gone."""
    from orrery.curate.probe import DecodeFailure, decode_isolated

    with pytest.raises(DecodeFailure) as e:
        decode_isolated(str(bad_inputs / "hangs.mp4"), 64, 10, timeout_s=1.0)
    assert e.value.reason == "decode_timeout"


def test_good_inputs_decode_frame_exact(bad_inputs):
    st = ProbeDecode(64, 1000, timeout_s=20.0)
    v = st.process(("good.mp4", str(bad_inputs / "good.mp4"), "id"))
    assert v.frames.shape == (20, 32, 48, 3) and v.fps == pytest.approx(10.0)
    np.testing.assert_allclose(v.pts, np.arange(20) / 10.0, atol=1e-9)
    v2 = st.process(("ffv1.mkv", str(bad_inputs / "ffv1.mkv"), "id"))
    assert v2.frames.shape == (20, 32, 48, 3)


def test_variable_frame_rate_keeps_timestamps(tmp_path):
    frames = _frames(6, 32, 32)
    stamps = [0, 1, 2, 5, 6, 10]  # in 1/10 s: irregular
    path = tmp_path / "vfr.mkv"
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=10)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        s.time_base = Fraction(1, 10)
        for f, t in zip(frames, stamps, strict=True):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts, vf.time_base = t, Fraction(1, 10)
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    v = ProbeDecode(64, 1000, timeout_s=20.0).process(("vfr.mkv", str(path), "id"))
    np.testing.assert_allclose(v.pts, np.array(stamps) / 10.0, atol=1e-6)


def test_work_frames_are_scaled_to_fit(bad_inputs):
    v = ProbeDecode(24, 1000, timeout_s=20.0).process(("good.mp4", str(bad_inputs / "good.mp4"), "id"))
    assert v.frames.shape[1:] == (16, 24, 3) and v.source_size == (32, 48)
