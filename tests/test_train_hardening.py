"""Issue 11, items 2, 7 and 8 for training: the same command twice gives bit-identical
checkpoints; a wall-clock cap that ends a run says so; Ctrl-C/SIGTERM writes a checkpoint and says
a rerun resumes; a corrupt newest checkpoint is set aside and training resumes from the one before;
weights that do not fit their config are one line naming the file."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TINY_NET, synthetic_dataset, train_tiny
from safetensors.torch import load_file
from typer.testing import CliRunner

from orrery.cli import app

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_the_same_train_world_command_twice_gives_bit_identical_checkpoints(tiny_run, tmp_path):
    data, first = tiny_run
    train_tiny(data, tmp_path / "again")
    a = load_file(first / "checkpoints" / "step-2.safetensors")
    b = load_file(tmp_path / "again" / "checkpoints" / "step-2.safetensors")
    assert a.keys() == b.keys()
    assert all(a[k].equal(b[k]) for k in a), [k for k in a if not a[k].equal(b[k])][:3]


def test_a_time_limit_that_stops_a_run_is_announced(tiny_run, tmp_path, capsys):
    data, _ = tiny_run
    # a limit of 1e-9 minutes is over after the first step at the latest
    res = train_tiny(data, tmp_path / "run", steps=50, extra=["train.time_limit_min=1e-9"])
    assert res.step < 50 and res.stopped_by == "time_limit"
    assert "time limit train.time_limit_min=1e-09 was reached" in res.reason
    err = capsys.readouterr().err
    assert f"train: stopped at step {res.step} of 50: the time limit" in err
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert rows[-1]["stopped_by_time_limit"] == "1"
    # the CLI's last line says why the run ended, either way
    r = CliRunner().invoke(app, ["train", "world", "--data", str(data), "--out", str(tmp_path / "cli"), "--no-progress",
                                 *[x for s in [*TINY_NET, "train.steps=2"] for x in ("--set", s)]])
    assert r.exit_code == 0 and "reached train.steps=2" in r.output, r.output


def test_ctrl_c_during_training_writes_a_checkpoint_and_a_rerun_resumes(tmp_path):
    data = synthetic_dataset(tmp_path / "ds", n_train=2, n_test=1)
    cmd = [sys.executable, "-m", "orrery", "train", "world", "--data", str(data), "--out", str(tmp_path / "run"),
           "--no-progress", *[x for s in [*TINY_NET, "train.steps=100000", "train.ckpt_every=0"] for x in ("--set", s)]]
    p = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": SRC}, stderr=subprocess.PIPE, text=True)
    metrics = tmp_path / "run" / "metrics.csv"
    deadline = time.time() + 120
    while time.time() < deadline and not (metrics.exists() and len(metrics.read_text().splitlines()) > 2):
        time.sleep(0.1)  # a few steps logged: interrupt mid-training
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    ckpts = sorted((tmp_path / "run" / "checkpoints").glob("step-*.safetensors"))
    assert len(ckpts) == 1  # ckpt_every=0: only the interrupt wrote one
    step = int(ckpts[0].stem.split("-")[1])
    assert step > 0 and f"interrupted at step {step} of 100000; rerun the same command to resume" in err
    assert "rerun the same command to resume" in err.strip().splitlines()[-1]
    res = train_tiny(data, tmp_path / "run", steps=step + 1, extra=["train.ckpt_every=0"])
    assert res.step == step + 1  # resumed, not restarted (the config allows a new train.steps)


def test_a_corrupt_newest_checkpoint_is_set_aside_and_training_resumes_from_the_one_before(tiny_run, tmp_path, capsys):
    data, _ = tiny_run
    train_tiny(data, tmp_path / "run", steps=2)  # checkpoints at steps 1 and 2
    newest = tmp_path / "run" / "checkpoints" / "step-2.safetensors"
    newest.write_bytes(newest.read_bytes()[:100])  # truncated
    # loading it for inference: one line naming the file
    r = CliRunner().invoke(app, ["evaluate", "--model", str(tmp_path / "run"), "--data", str(data),
                                 "--out", str(tmp_path / "ev"), "--baselines", ""])
    assert r.exit_code == 2 and f"{newest}: unreadable checkpoint" in r.output and "Traceback" not in r.output
    res = train_tiny(data, tmp_path / "run", steps=3)
    assert res.step == 3
    assert "resuming from the newest intact checkpoint" in capsys.readouterr().err
    assert (tmp_path / "run" / "checkpoints" / "step-2.corrupt.safetensors").exists()


def test_weights_that_do_not_fit_their_config_are_one_line_naming_the_file(tiny_run, tmp_path):
    import shutil

    from orrery.checkpoint import load_checkpoint
    from orrery.data.atomic import write_text

    _, run = tiny_run
    shutil.copytree(run, tmp_path / "run")
    side = tmp_path / "run" / "checkpoints" / "step-2.json"
    import json

    meta = json.loads(side.read_text())
    meta["config"]["model"]["channels"] = [16, 16]
    write_text(side, json.dumps(meta))
    assert load_checkpoint(tmp_path / "run").step == 2
    with pytest.raises(ValueError) as e:
        from orrery.models.registry import load_world_model

        load_world_model(tmp_path / "run")
    msg = str(e.value)
    assert "step-2.safetensors: the weights do not fit" in msg and "size mismatch" in msg and "\n" not in msg
