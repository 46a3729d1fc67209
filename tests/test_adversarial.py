"""Issue 11: hostile inputs. Tars with hostile member names, bad headers and members past the end
of the file; FIFOs where a file is expected; huge and long videos; YAML bombs; NaN ground truth;
corrupt checkpoints. Each is refused or set aside quickly, bounded, with one line naming the
thing and the reason, and never writes outside its folder. (Under a minute on two cores.)"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from orrery.cli import app
from orrery.config import ConfigError, load_yaml
from orrery.data.clip import Clip
from orrery.data.dataset import ClipStore
from orrery.data.manifest import write_manifest
from orrery.data.shards import read_shard, write_shard
from orrery.data.video import decode_video, encode_mp4, read_video_file
from orrery.eval.synthetic import scene, write_dataset


def _cli(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    lines = r.output.strip().splitlines()
    return r.exit_code, lines[-1] if lines else "", r.output


def _one_error(code, line, output):
    assert code == 2, output
    assert line.startswith("error: ") and "Traceback" not in output, output


# ---- hostile tars ------------------------------------------------------------------------------


def _tar(path, members):
    """A tar with raw members (name, bytes, type) as an attacker would write it."""
    with tarfile.open(path, "w") as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.linkname = "/etc/passwd"
                tar.addfile(info)


@pytest.fixture(scope="module")
def clip_sample():
    frames, masks, meta = scene(32, 8, seed=0, key="c0")
    return Clip("c0", frames, masks, meta).to_sample()


def test_hostile_member_names_are_never_used_as_paths(tmp_path, clip_sample):
    ds = tmp_path / "ds"
    (ds / "shards").mkdir(parents=True)
    _tar(ds / "shards" / "test-00000.tar", [
        ("../../../escaped.json", b"{}", tarfile.REGTYPE),  # traversal: read as c? key 'escaped'
        ("/abs/c0.json", clip_sample["json"], tarfile.REGTYPE),
        ("x/../c0.mp4", clip_sample["mp4"], tarfile.REGTYPE),
        ("c0.masks.npz", b"", tarfile.SYMTYPE),  # links and devices are not members
        ("dev", b"", tarfile.CHRTYPE)])
    write_manifest(ds / "manifest.parquet", [{"key": "c0", "split": "test", "shard": "test-00000.tar"}])
    before = set(os.listdir(tmp_path))
    clip = ClipStore(ds, "test").clip(0)
    assert clip.frames.shape == (8, 32, 32, 3) and clip.masks is None
    assert [k for k, _ in read_shard(ds / "shards" / "test-00000.tar")] == ["escaped", "c0"]
    assert set(os.listdir(tmp_path)) == before and not (tmp_path.parent / "escaped.json").exists()


def _claims(b: bytes, size: int) -> bytes:
    """The first tar header rewritten to claim a member of `size` bytes (checksum fixed)."""
    h = bytearray(b[:512])
    h[124:136] = b"%011o\x00" % size
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\x00 " % sum(h)
    return bytes(h) + b[512:]


@pytest.mark.parametrize("damage", [
    lambda b: b[:700],  # cut inside a member's data
    lambda b: b[:len(b.rstrip(b"\0")) - 10],  # cut inside the last member
    lambda b: b"\x07" * 512 + b[512:],  # garbage header
    lambda b: _claims(b, 8 << 30),  # a header claiming an 8 GB member
])
def test_a_damaged_shard_is_one_line_naming_it(tmp_path, clip_sample, damage):
    ds = tmp_path / "ds"
    shard = ds / "shards" / "test-00000.tar"
    write_shard(shard, [("c0", clip_sample)])
    shard.write_bytes(damage(shard.read_bytes()))
    write_manifest(ds / "manifest.parquet", [{"key": "c0", "split": "test", "shard": shard.name}])
    code, line, out = _cli("evaluate", "--model", "baseline:copy-last", "--data", ds, "--out", tmp_path / "ev")
    _one_error(code, line, out)
    assert line.startswith(f"error: {shard}: ") and ("not a readable tar shard" in line or "truncated" in line), line
    assert len(out.strip().splitlines()) == 1, out


@pytest.mark.parametrize("member,data,message", [
    ("json", b"{not json", "c0.json: not valid JSON"),
    ("json", b"[" * 100_000 + b"]" * 100_000, "c0.json: JSON nested too deeply"),
    ("json", b"\xff\xfe{}", "c0.json: not"),
    ("mp4", b"\x00\x00\x00\x18ftypmp42garbage" * 10, "c0.mp4"),
])
def test_a_bad_member_of_a_clip_is_one_line_naming_shard_and_member(tmp_path, clip_sample, member, data, message):
    ds = tmp_path / "ds"
    write_shard(ds / "shards" / "test-00000.tar", [("c0", {**clip_sample, member: data})])
    write_manifest(ds / "manifest.parquet", [{"key": "c0", "split": "test", "shard": "test-00000.tar"}])
    code, line, out = _cli("evaluate", "--model", "baseline:copy-last", "--data", ds, "--out", tmp_path / "ev")
    _one_error(code, line, out)
    assert f"{ds / 'shards' / 'test-00000.tar'}: " in line and message in line, line


def test_a_manifest_without_a_column_or_not_parquet_is_one_line(tmp_path):
    write_manifest(tmp_path / "a" / "manifest.parquet", [{"key": "c0", "split": "test"}])
    code, line, out = _cli("evaluate", "--model", "baseline:copy-last", "--data", tmp_path / "a", "--out", tmp_path / "e")
    _one_error(code, line, out)
    assert "manifest has no column 'shard'" in line
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.parquet").write_bytes(b"PAR1 not really")
    code, line, out = _cli("evaluate", "--model", "baseline:copy-last", "--data", tmp_path / "b", "--out", tmp_path / "e")
    _one_error(code, line, out)
    assert "not a readable Parquet manifest" in line


# ---- FIFOs -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    from orrery.eval.bench import bench_export

    root = tmp_path_factory.mktemp("bench")
    write_dataset(root / "ds", [scene(32, 20, seed=i, key=f"c{i}") for i in range(2)])
    bench_export(root / "ds", "test", root / "bench", progress=False)
    return root / "bench"


def test_a_fifo_is_refused_everywhere_without_blocking(tmp_path, bench, tiny_run):
    from orrery.curate.pipeline import InputError, list_inputs
    from orrery.eval.bench import bench_score

    t0 = time.time()
    videos = tmp_path / "videos"
    videos.mkdir()
    os.mkfifo(videos / "c0.mp4")
    res = bench_score(bench, videos, tmp_path / "score", progress=False)
    assert res["status"]["unreadable"] == ["c0"] and "not a regular file (a FIFO)" in res["notes"]["c0"]
    os.mkfifo(tmp_path / "ctx.mp4")
    code, line, out = _cli("rollout", "--model", tiny_run[1], "--context", tmp_path / "ctx.mp4", "--horizon", 2,
                           "--out", tmp_path / "o.mp4")
    _one_error(code, line, out)
    assert f"{tmp_path / 'ctx.mp4'}: not a regular file (a FIFO)" in line
    frames = ClipStore(tiny_run[0], "test").clip(0).frames[:4]
    (tmp_path / "good.mp4").write_bytes(encode_mp4(frames, 30.0))
    code, line, out = _cli("rollout", "--model", tiny_run[1], "--context", tmp_path / "good.mp4", "--horizon", 2,
                           "--actions", _fifo(tmp_path / "acts.npy"), "--out", tmp_path / "o.mp4")
    _one_error(code, line, out)
    assert "not a regular file" in line
    with pytest.raises(InputError, match="FIFO"):
        list_inputs(_fifo(tmp_path / "inputs.txt"))
    with pytest.raises(ConfigError, match="not a regular file"):
        load_yaml(_fifo(tmp_path / "spec.yaml"))
    assert time.time() - t0 < 30


def _fifo(path):
    os.mkfifo(path)
    return path


# ---- huge and long videos ----------------------------------------------------------------------


def test_a_long_video_is_decoded_only_as_far_as_needed(tmp_path, bench):
    from orrery.eval.bench import bench_score

    frames = np.zeros((2000, 16, 16, 3), np.uint8)
    frames[np.arange(2000), np.arange(2000) % 16, 3] = 255  # a dot that moves: cheap to encode
    data = encode_mp4(frames, 30.0, crf=40)
    t0 = time.time()
    first, _ = decode_video(data, "long.mp4", first=13)
    fast = time.time() - t0
    last, _ = decode_video(encode_mp4(frames[:300], 30.0), "long.mp4", last=4)  # a rolling window of 4 frames
    assert first.shape[0] == 13 and last.shape[0] == 4
    assert fast < 1.0
    with pytest.raises(ValueError, match="more than 100 frames"):
        decode_video(data, "long.mp4", last=4, max_frames=100)
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "c0.mp4").write_bytes(data)
    res = bench_score(bench, videos, tmp_path / "score", progress=False)
    assert res["status"]["ok"] == ["c0"]  # scored on the first 12 frames; the rest never decoded


def test_huge_frames_and_files_are_refused_before_decoding(tmp_path):
    data = encode_mp4(np.zeros((2, 64, 96, 3), np.uint8), 10.0)
    with pytest.raises(ValueError, match=r"big.mp4: frames of 96x64 pixels, more than the 4096 allowed"):
        decode_video(data, "big.mp4", max_pixels=4096)
    (tmp_path / "v.mp4").write_bytes(data)
    with pytest.raises(ValueError, match="more than the 100 a video may have"):
        read_video_file(tmp_path / "v.mp4", max_bytes=100)
    with pytest.raises(ValueError, match="would take more than"):
        decode_video(data, "v.mp4", first=2, max_held_bytes=1000)


def test_an_audio_only_or_garbage_submission_is_listed_with_a_reason_naming_the_file(tmp_path, bench):
    from orrery.eval.bench import bench_score

    videos = tmp_path / "videos"
    videos.mkdir()
    with av.open(str(videos / "c0.mp4"), "w") as c:
        s = c.add_stream("aac", rate=8000)
        for i in range(4):
            f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            f.sample_rate, f.pts = 8000, i * 1024
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    (videos / "c1.mp4").write_bytes(b"\x00" * 1000)
    res = bench_score(bench, videos, tmp_path / "score", progress=False)
    assert res["status"]["unreadable"] == ["c0", "c1"]
    assert res["notes"]["c0"] == f"{videos / 'c0.mp4'}: no video stream (audio only)"
    assert res["notes"]["c1"].startswith(f"{videos / 'c1.mp4'}: not a video")
    assert not (tmp_path / "score" / "metrics.parquet").exists() and (tmp_path / "score" / "summary.json").exists()


# ---- YAML bombs --------------------------------------------------------------------------------

BOMB = "\n".join(["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
                 + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
                    f"*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)])


@pytest.mark.parametrize("text,reason", [
    (BOMB, "expands to more than"),
    ("name: x\nscenarios:\n  - scenario: projectile\n    clips: {train: 1}\n    params:\n"
     + "\n".join("      " + line for line in BOMB.splitlines()), "expands to more than"),  # under params
    ("name: x\nname: y\n", "duplicate key 'name'"),
    ("a: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    ("a: !!python/object/apply:os.system [echo hi]", "could not determine a constructor"),
    ("name: x\nscenarios:\n  - scenario: projectile\n    clips: {train: 1000000000}\n", "less than or equal to"),
])
def test_a_hostile_spec_is_refused_at_once_with_one_line(tmp_path, text, reason):
    (tmp_path / "spec.yaml").write_text(text)
    t0 = time.time()
    code, line, out = _cli("simulate", tmp_path / "spec.yaml", "--out", tmp_path / "ds")
    _one_error(code, line, out)
    assert reason in line and time.time() - t0 < 10, line
    assert not (tmp_path / "ds" / "shards").exists()


def test_a_spec_that_is_not_utf8_names_the_byte(tmp_path):
    (tmp_path / "spec.yaml").write_bytes(b"name: caf\xe9\n")
    code, line, out = _cli("simulate", tmp_path / "spec.yaml", "--out", tmp_path / "ds")
    _one_error(code, line, out)
    assert "not UTF-8 text (byte 9)" in line


# ---- NaN ground truth in a benchmark's answer key ---------------------------------------------


def test_nan_in_an_answer_key_is_listed_not_averaged(tmp_path, bench):
    import shutil

    from orrery.data.shards import npz_load
    from orrery.eval.bench import bench_score

    b = tmp_path / "bench"
    shutil.copytree(bench, b)
    meta = json.loads((b / "answers" / "c1.json").read_text())
    meta["states"]["position"][5][0] = [float("nan"), 0.0]
    (b / "answers" / "c1.json").write_text(json.dumps(meta))
    videos = tmp_path / "videos"
    videos.mkdir()
    for k in ("c0", "c1"):
        (videos / f"{k}.mp4").write_bytes(encode_mp4(npz_load((b / "answers" / f"{k}.npz").read_bytes())["truth"], 30.0))
    res = bench_score(b, videos, tmp_path / "score", progress=False)
    assert res["status"]["ok"] == ["c0"] and res["status"]["unscorable"] == ["c1"]
    assert "states.position: NaN or inf at frame 5" in res["notes"]["c1"]
    assert res["summary"]["n_clips"] == 1 and res["summary"]["skipped"][0]["key"] == "c1"


# ---- corrupt checkpoints -----------------------------------------------------------------------


@pytest.mark.parametrize("file,data,message", [
    ("step-2.safetensors", b"\x00" * 64, "step-2.safetensors: unreadable checkpoint"),
    ("step-2.safetensors", None, "step-2.safetensors: unreadable checkpoint"),  # truncated
    ("step-2.json", b"{oops", "step-2.json: not valid JSON"),
    ("step-2.json", b"[" * 100_000, "step-2.json: JSON nested too deeply"),
    ("step-2.json", b'{"format": 99}', "checkpoint format 99"),
])
def test_a_corrupt_checkpoint_is_one_line_naming_the_file(tmp_path, tiny_run, file, data, message):
    import shutil

    data_dir, run = tiny_run
    shutil.copytree(run, tmp_path / "run")
    path = tmp_path / "run" / "checkpoints" / file
    path.write_bytes(data if data is not None else path.read_bytes()[: path.stat().st_size // 2])
    code, line, out = _cli("evaluate", "--model", tmp_path / "run", "--data", data_dir, "--out", tmp_path / "ev",
                           "--baselines", "")
    _one_error(code, line, out)
    assert message in line and str(tmp_path / "run" / "checkpoints") in line, line
