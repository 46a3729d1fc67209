"""The hot paths stay correct when made fast: shards have no pax headers (integer mtimes), the
yuv444p encoder fills planes in place without changing a byte, and decoding through OpenCV gives
FFmpeg's RGB within one level (bit-exact for lossless)."""

import io
import tarfile

import av
import numpy as np
import pytest

from orrery.data.shards import write_shard
from orrery.data.video import decode_video, encode_mp4, rgb_to_yuv444


def test_shard_members_carry_no_pax_header(tmp_path):
    write_shard(tmp_path / "s.tar", [("k0", {"json": b"{}", "mp4": b"x" * 700})])
    data = (tmp_path / "s.tar").read_bytes()
    with tarfile.open(tmp_path / "s.tar") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["k0.json", "k0.mp4"] and all(m.mtime == 0 for m in members)
    assert b"PaxHeader" not in data and len(data) <= 512 * (2 + 1 + 2) + 10240  # 2 headers + data + end


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(0)
    f = np.clip(rng.normal(128, 70, (10, 32, 40, 3)), 0, 255).astype(np.uint8)
    f[:, 8:20, 10:24] = (230, 40, 40)  # a flat-coloured object, as orrery renders them
    return f


@pytest.mark.parametrize("codec,tolerance", [("yuv444p", 1), ("lossless", 0)])
def test_decoding_matches_ffmpegs_conversion(frames, codec, tolerance):
    data = encode_mp4(frames, 15, codec)
    with av.open(io.BytesIO(data)) as c:
        ffmpeg = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
    ours, fps = decode_video(data)
    assert fps == 15 and ours.shape == frames.shape
    assert np.abs(ours.astype(int) - ffmpeg).max() <= tolerance
    if codec == "lossless":
        assert np.array_equal(ours, frames)
    assert np.array_equal(decode_video(data, last=3)[0], ours[-3:])


def test_the_encoder_writes_the_planes_it_converted(frames):
    data = encode_mp4(frames, 15, "lossless")
    assert np.array_equal(decode_video(data)[0], frames)
    planes = rgb_to_yuv444(frames)
    with av.open(io.BytesIO(encode_mp4(frames, 15, "yuv444p", crf=0))) as c:
        decoded = np.stack([f.to_ndarray() for f in c.decode(video=0)])
    assert np.abs(decoded.astype(int) - planes).max() <= 1  # crf 0: the planes survive (nearly) as given
