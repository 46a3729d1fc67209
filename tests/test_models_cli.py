"""`orrery train world` and `orrery rollout` end to end on a tiny simulated dataset, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from orrery.cli import app

torch.set_num_threads(1)
SPEC = """name: tiny
seed: 0
video: {size: 32, fps: 15, frames: 8, physics_hz: 240, codec: yuv444p, crf: 12}
shard_size: 8
scenarios:
  - scenario: projectile
    clips: {train: 4, val: 2, test: 1, test_ood: 1}
    ood:
      speed: [[10.0, 12.0]]
"""
FAST = ["--set", "model.channels=[8,16]", "--set", "model.residual_channels=[8,16]", "--set", "model.cond_dim=16",
        "--set", "model.text_dim=16", "--set", "train.steps=3", "--set", "train.batch_size=4",
        "--set", "train.val_every=0", "--set", "train.ckpt_every=0"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    (root / "spec.yaml").write_text(SPEC)
    res = CliRunner().invoke(app, ["simulate", str(root / "spec.yaml"), "--out", str(root / "ds")])
    assert res.exit_code == 0, res.output
    return root / "ds"


def test_train_world_then_rollout_writes_a_video(dataset, tmp_path):
    r = CliRunner()
    res = r.invoke(app, ["train", "world", "--data", str(dataset), "--out", str(tmp_path / "run"), "--no-progress",
                         *FAST])
    assert res.exit_code == 0, res.output
    assert "trained 3 steps" in res.output
    assert (tmp_path / "run" / "metrics.csv").exists() and (tmp_path / "run" / "config.yaml").exists()

    from orrery.data.dataset import ClipStore
    from orrery.data.video import decode_mp4, encode_mp4

    clip = ClipStore(dataset, "test").clip(0)
    (tmp_path / "ctx.mp4").write_bytes(encode_mp4(clip.frames[:4], 15.0))
    out = tmp_path / "pred.mp4"
    res = r.invoke(app, ["rollout", "--model", str(tmp_path / "run"), "--context", str(tmp_path / "ctx.mp4"),
                         "--horizon", "5", "--prompt", "a ball", "--out", str(out), "--set", "steps=2"])
    assert res.exit_code == 0, res.output
    frames, _ = decode_mp4(out.read_bytes())
    assert frames.shape == (4 + 5, 32, 32, 3)
    # the first frames are the context (through a lossy codec twice: compare loosely)
    assert np.abs(frames[:4].astype(int) - clip.frames[:4].astype(int)).mean() < 8


@pytest.mark.parametrize("args,message", [
    (["--preset", "huge"], "unknown preset 'huge'"),
    (["--model", "gan"], "'gan' is not one of"),
    (["--model", "autoregressive"], "needs --tokenizer"),
    (["--set", "train.lrr=1"], "train.lrr: unknown key"),
    (["--set", "model.head=magic"], "model.head: expected one of"),
])
def test_train_world_bad_arguments_fail_clearly(dataset, tmp_path, args, message):
    res = CliRunner().invoke(app, ["train", "world", "--data", str(dataset), "--out", str(tmp_path / "r"), *args])
    assert res.exit_code == 2 and message in res.output, res.output


def test_train_world_rejects_a_folder_that_is_not_a_dataset(tmp_path):
    res = CliRunner().invoke(app, ["train", "world", "--data", str(tmp_path), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "not a dataset folder" in res.output


def test_rollout_of_a_missing_run_fails_clearly(tmp_path):
    (tmp_path / "c.mp4").write_bytes(b"x")
    res = CliRunner().invoke(app, ["rollout", "--model", str(tmp_path / "nope"), "--context", str(tmp_path / "c.mp4"),
                                   "--horizon", "2", "--out", str(tmp_path / "o.mp4")])
    assert res.exit_code == 2 and "no complete checkpoint" in res.output
