"""Video, npz and shard formats: round trips, determinism, atomicity."""

import subprocess
import sys

import numpy as np
import pytest

from orrery.data.atomic import atomic_path, clean_temporaries, write_text
from orrery.data.camera import Camera
from orrery.data.objects import ObjectSpec
from orrery.data.shards import npz_bytes, npz_load, read_shard, write_shard
from orrery.data.video import decode_mp4, encode_mp4
from orrery.sim.render import Renderer


def _clip(size=32, t=12):
    cam = Camera(0.0, 0.0, 10.0, size)
    objs = [ObjectSpec(1, "circle", 0, 1.0, 0.1, radius=1.0), ObjectSpec(2, "box", 2, 1.0, 0.1,
                                                                         vertices=[[-1, -1], [1, -1], [1, 1], [-1, 1]])]
    pos = np.stack([np.linspace([2.0, 2.0], [8.0, 7.0], t), np.linspace([7.0, 7.0], [3.0, 3.0], t)], axis=1)
    ang = np.stack([np.zeros(t), np.linspace(0, 1.5, t)], axis=1)
    return Renderer(cam).render_clip(objs, pos, ang)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return 10 * np.log10(255**2 / mse)


def test_yuv444p_round_trip_keeps_colour_and_lossless_is_exact():
    frames, _ = _clip()
    dec, fps = decode_mp4(encode_mp4(frames, 15.0, "yuv444p", 12))
    assert dec.shape == frames.shape and fps == 15.0
    assert psnr(dec, frames) > 39.5  # 32 px saturated edges (measured 40.5); conversion alone is 62 dB
    near_lossless, _ = decode_mp4(encode_mp4(frames, 15.0, "yuv444p", 0))
    assert psnr(near_lossless, frames) > 58.0  # the full-range tag is honoured on decode
    exact, _ = decode_mp4(encode_mp4(frames, 15.0, "lossless"))
    assert np.array_equal(exact, frames)


def test_odd_sizes_encode():
    frames, _ = _clip(size=33)
    dec, _ = decode_mp4(encode_mp4(frames, 10.0))
    assert dec.shape == frames.shape


def test_encoding_is_deterministic_under_memory_perturbation(tmp_path):
    """x264's mbtree lookahead read uninitialised memory at 32 px; mbtree=0 must keep output fixed."""
    frames, _ = _clip()
    np.save(tmp_path / "f.npy", frames)
    code = ("import hashlib, numpy as np; from orrery.data.video import encode_mp4; "
            f"f = np.load({str(tmp_path / 'f.npy')!r}); "
            "print(hashlib.sha256(encode_mp4(f, 15.0)).hexdigest())")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"MALLOC_PERTURB_": str(p), "PATH": "/usr/bin"}).stdout for p in (0, 85, 170)}
    assert len(outs) == 1


def test_bad_frames_are_named():
    with pytest.raises(ValueError, match="frames: expected uint8"):
        encode_mp4(np.zeros((2, 8, 8, 3), np.float32), 15.0)
    with pytest.raises(ValueError, match="codec"):
        encode_mp4(np.zeros((2, 8, 8, 3), np.uint8), 15.0, codec="yuv420p")


def test_npz_is_deterministic_and_round_trips():
    _, masks = _clip()
    a, b = npz_bytes(masks=masks), npz_bytes(masks=masks)
    assert a == b
    assert np.array_equal(npz_load(a)["masks"], masks)


def test_shard_round_trip_and_key_check(tmp_path):
    samples = [(f"k{i}", {"json": b"{}", "masks.npz": npz_bytes(m=np.arange(i))}) for i in range(3)]
    assert write_shard(tmp_path / "s.tar", samples) == 3
    back = list(read_shard(tmp_path / "s.tar"))
    assert [k for k, _ in back] == ["k0", "k1", "k2"]
    assert np.array_equal(npz_load(back[2][1]["masks.npz"])["m"], np.arange(2))
    with pytest.raises(ValueError, match="must not contain"):
        write_shard(tmp_path / "t.tar", [("a.b", {"json": b"{}"})])
    assert not (tmp_path / "t.tar").exists()


def test_shards_read_back_like_webdataset_tarwriters_without_pax_headers(tmp_path):
    """write_shard uses tarfile directly (no torch import): the same members with the same bytes
    as webdataset's TarWriter, but integer mtimes, so no 1 KB pax header per member."""
    wds = pytest.importorskip("webdataset")
    samples = [(f"k{i}", {"mp4": bytes(range(i * 7 % 256)) * 50, "json": b'{"a": 1}',
                          "masks.npz": npz_bytes(m=np.arange(i))}) for i in range(5)]
    write_shard(tmp_path / "ours.tar", samples)
    with open(tmp_path / "wds.tar", "wb") as f:
        writer = wds.TarWriter(f, mtime=0.0, user="orrery", group="orrery", mode=0o644)
        for key, members in samples:
            writer.write({"__key__": key, **members})
        writer.close()
    import tarfile

    def members(path):
        with tarfile.open(path) as t:
            return [(m.name, t.extractfile(m).read()) for m in t if m.isfile()]

    assert members(tmp_path / "ours.tar") == members(tmp_path / "wds.tar")
    assert b"PaxHeader" not in (tmp_path / "ours.tar").read_bytes()
    assert (tmp_path / "ours.tar").stat().st_size < (tmp_path / "wds.tar").stat().st_size
    assert [s["__key__"] for s in wds.WebDataset(str(tmp_path / "ours.tar"), shardshuffle=False)] == \
        [f"k{i}" for i in range(5)]


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "x.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists() and not list(tmp_path.iterdir())
    write_text(target, "whole")
    assert target.read_text() == "whole"
    (tmp_path / ".y.abc.tmp").write_text("left by a kill")
    assert clean_temporaries(tmp_path) == 1


def test_json_bytes_are_those_of_the_standard_library():
    """json_bytes (orjson) writes exactly what json.dumps(sort_keys, compact) writes for ASCII
    records (every simulated one), so clips made before and after the switch are byte-identical;
    other text is written as UTF-8 rather than \\u escapes, the same JSON value."""
    import json

    from orrery.data.shards import json_bytes
    from orrery.eval.synthetic import scene

    _, _, meta = scene(32, 16, seed=3)
    record = {**meta, "floats": [0.1, 1e-300, 123456789.123, -0.0, 1.0, 2.5e20], "none": None,
              "nested": {"b": [1, 2], "a": {"z": True, "y": False}}}
    assert json_bytes(record) == json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    text = {"caption": "é ✓"}
    assert json.loads(json_bytes(text)) == text
