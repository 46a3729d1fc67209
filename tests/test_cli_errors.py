"""Issue 11, items 6 and 8 at the command line: `rollout` checks its context against the model
before any work, and every error a user can cause is one line `error: THING: REASON`, exit 2:
--out pointing at a file, a read-only or full disk, Ray missing or unreachable, a negative --skip,
a bad benchmark description."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from orrery.cli import app
from orrery.data.video import encode_mp4

SPEC = """name: e
seed: 0
video: {size: 32, fps: 15, frames: 4, physics_hz: 240}
scenarios:
  - scenario: projectile
    clips: {train: 1}
"""


def _cli(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    lines = r.output.strip().splitlines()
    assert r.exit_code == 2 and lines and lines[-1].startswith("error: ") and "Traceback" not in r.output, r.output
    return lines[-1]


# ---- rollout against the model (item 6) --------------------------------------------------------


@pytest.fixture(scope="module")
def context(tmp_path_factory, tiny_run):
    """Context clips: right, too small a frame, too few frames, another frame rate, audio only."""
    from orrery.data.dataset import ClipStore

    root = tmp_path_factory.mktemp("ctx")
    frames = ClipStore(tiny_run[0], "test").clip(0).frames
    (root / "ok.mp4").write_bytes(encode_mp4(frames[:6], 30.0))
    (root / "big.mp4").write_bytes(encode_mp4(np.repeat(np.repeat(frames[:4], 2, 1), 2, 2), 30.0))
    (root / "short.mp4").write_bytes(encode_mp4(frames[:2], 30.0))
    (root / "slow.mp4").write_bytes(encode_mp4(frames[:4], 10.0))
    return root


@pytest.mark.parametrize("name,out,actions,message", [
    ("big.mp4", "p.mp4", False, "big.mp4: frames are 64x64 pixels, but the model was trained on 32x32"),
    ("short.mp4", "p.mp4", False, "short.mp4: 2 frame(s), but the model predicts from 4 context frames"),
    ("slow.mp4", "p.mp4", False, "slow.mp4: 10 fps, but the model was trained at 30 fps"),
    ("ok.mp4", "p.mp4", True, "--actions: the model was trained without actions"),
    ("ok.mp4", "p.gif", False, "p.gif: rollout writes MP4 (H.264); name the file .mp4"),
])
def test_rollout_refuses_a_context_that_does_not_fit_the_model(tiny_run, context, tmp_path, name, out, actions,
                                                               message):
    (tmp_path / "acts.json").write_text(json.dumps([[0.0]] * 8))
    extra = ["--actions", tmp_path / "acts.json"] if actions else []
    line = _cli("rollout", "--model", tiny_run[1], "--context", context / name, "--horizon", 2, "--out",
                tmp_path / out, *extra)
    assert message in line, line
    assert not (tmp_path / out).exists()


def test_rollout_keeps_only_the_last_context_frames(tiny_run, context, tmp_path):
    from orrery.data.video import decode_mp4

    r = CliRunner().invoke(app, ["rollout", "--model", str(tiny_run[1]), "--context", str(context / "ok.mp4"),
                                 "--horizon", "2", "--out", str(tmp_path / "p.mp4")])
    assert r.exit_code == 0, r.output
    assert decode_mp4(tmp_path / "p.mp4")[0].shape == (4 + 2, 32, 32, 3)


# ---- one line for what a user can cause (item 8) -----------------------------------------------


def test_out_pointing_at_a_file_is_one_line(tmp_path, tiny_run):
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "f").write_text("x")
    line = _cli("simulate", tmp_path / "spec.yaml", "--out", tmp_path / "f")
    assert line == f"error: {tmp_path / 'f'}: is a file, not a folder (give a folder to --out)"
    line = _cli("evaluate", "--model", "baseline:copy-last", "--data", tiny_run[0], "--out", tmp_path / "f")
    assert f"{tmp_path / 'f'}: is a file, not a folder" in line


@pytest.mark.parametrize("err", [PermissionError(errno.EACCES, "Permission denied"),
                                 OSError(errno.ENOSPC, "No space left on device")])
def test_a_read_only_or_full_disk_names_the_file(tmp_path, monkeypatch, err):
    import orrery.data.atomic as atomic

    (tmp_path / "spec.yaml").write_text(SPEC)

    def fails(*a, **k):
        raise err  # as the OS raises it from a write: no file name attached

    monkeypatch.setattr(atomic, "_sync", fails)
    line = _cli("simulate", tmp_path / "spec.yaml", "--out", tmp_path / "ds")
    assert line == f"error: {tmp_path / 'ds' / 'spec.yaml'}: {err.strerror}"


def test_ray_missing_or_unreachable_is_one_line(tmp_path, monkeypatch):
    import importlib.util

    import orrery.exec.executors as ex

    (tmp_path / "spec.yaml").write_text(SPEC)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    line = _cli("simulate", tmp_path / "spec.yaml", "--out", tmp_path / "a", "--executor", "ray")
    assert line == "error: --executor ray: Ray is not installed; install it with: pip install 'orrery[ray]'"
    monkeypatch.undo()
    line = _cli("simulate", tmp_path / "spec.yaml", "--out", tmp_path / "b", "--executor", "ray",
                "--ray-address", "127.0.0.1:1")  # nothing listens there
    assert "--ray-address 127.0.0.1:1: cannot connect" in line

    def hangs(*a, **k):
        raise TimeoutError("timed out")

    import socket

    monkeypatch.setattr(socket, "create_connection", hangs)
    with pytest.raises(TimeoutError, match=r"no answer within 10 s"):
        ex.check_reachable("10.255.255.1:6379")


def test_bench_score_refuses_a_negative_skip_and_a_bad_description(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "v").mkdir()
    r = CliRunner().invoke(app, ["bench", "score", "--bench", str(tmp_path / "b"), "--videos", str(tmp_path / "v"),
                                 "--skip", "-3"])
    assert r.exit_code == 2 and "greater than or equal to 0" in r.output and "Traceback" not in r.output
    (tmp_path / "b" / "bench.json").write_text("[" * 100_000)
    line = _cli("bench", "score", "--bench", tmp_path / "b", "--videos", tmp_path / "v", "--out", tmp_path / "s")
    assert line == f"error: {tmp_path / 'b' / 'bench.json'}: JSON nested too deeply"
