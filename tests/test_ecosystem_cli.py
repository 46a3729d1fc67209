"""What an ML engineer types first: `python -m orrery`, `-h` and `--version` everywhere, `--quiet`
and `--no-progress` on every long verb, progress as log lines without a terminal, TensorBoard
behind an option, outputs written 0644, and the inference-only export of a world model that loads
without the training stack."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from orrery import __version__
from orrery.cli import app
from orrery.eval.synthetic import scene, write_dataset

ENV = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
LONG_VERBS = [["quickstart"], ["simulate"], ["curate"], ["train", "world"], ["train", "tokenizer"], ["evaluate"],
              ["evaluate-actions"], ["evaluate-tokenizer"], ["plan"], ["bench", "score"], ["engine", "run"],
              ["engine", "scale"]]


def run(*args, timeout=120):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=ENV)


@pytest.mark.parametrize("module", ["orrery", "orrery.cli"])
def test_python_dash_m_version_and_help(module):
    v = run("-m", module, "--version")
    assert v.returncode == 0 and v.stdout.strip() == f"orrery {__version__}"
    h = run("-m", module, "-h")
    assert h.returncode == 0 and "simulate" in h.stdout and "export" in h.stdout
    sub = run("-m", module, "train", "world", "--help")
    assert sub.returncode == 0 and "--data" in sub.stdout and "--tensorboard" in sub.stdout


@pytest.mark.parametrize("verb", LONG_VERBS, ids=" ".join)
def test_every_long_verb_has_quiet_and_no_progress(verb):
    res = CliRunner().invoke(app, [*verb, "-h"], env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output
    assert "--quiet" in res.output and "--no-progress" in res.output, verb


@pytest.fixture(scope="module")
def trained(tmp_path_factory):

    root = tmp_path_factory.mktemp("export")
    clips = [scene(32, 20, seed=i, key=f"t{i}") for i in range(2)]
    clips = [(f, m, dict(meta, split="train")) for f, m, meta in clips] + [scene(32, 20, seed=9, key="s0")]
    write_dataset(root / "ds", clips)
    cmd = ["-m", "orrery", "train", "world", "--data", str(root / "ds"), "--out", str(root / "run"), "--tensorboard",
           "--set", "train.steps=3", "--set", "train.batch_size=2", "--set", "train.log_every=1",
           "--set", "train.val_every=100", "--set", "model.channels=[8,8]", "--set", "model.residual_channels=[8,8]",
           "--set", "model.cond_dim=16", "--set", "model.text_dim=16"]
    res = run(*cmd, timeout=300)  # stderr is a pipe, not a terminal: progress comes as log lines
    assert res.returncode == 0, res.stderr
    return root, res


def test_progress_is_log_lines_without_a_terminal_and_the_reason_is_said(trained):
    _, res = trained
    assert "train run: 3/3 steps" in res.stderr and "loss" in res.stderr
    assert "reached train.steps=3" in res.stdout


def test_tensorboard_events_are_written_behind_the_option(trained):
    root, _ = trained
    events = list((root / "run" / "tensorboard").glob("events.out.tfevents.*"))
    assert events
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    assert "train/loss" in acc.Tags()["scalars"] and [e.step for e in acc.Scalars("train/loss")] == [1, 2, 3]


def test_checkpoints_and_outputs_are_0644(trained):
    root, _ = trained
    umask = os.umask(0)
    os.umask(umask)
    files = [*root.glob("run/checkpoints/*"), root / "run" / "model.safetensors", root / "run" / "model.json",
             root / "run" / "config.yaml", root / "run" / "metrics.csv"]
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~umask, f


def test_the_inference_export_loads_without_the_training_stack(trained, tmp_path):
    root, _ = trained
    for name in ("model.safetensors", "model.json"):
        shutil.copy(root / "run" / name, tmp_path / name)  # the two files alone, elsewhere
    code = f"""
import sys, numpy as np
from orrery.models.registry import load_world_model
m = load_world_model({str(tmp_path)!r})
out = m.rollout(np.zeros((1, 4, 32, 32, 3), np.uint8), 2)
assert out.shape == (1, 2, 32, 32, 3), out.shape
bad = [n for n in sys.modules if n.startswith(("orrery.train", "orrery.recipes"))]
assert not bad, bad
print("ok", m.identity["step"])
"""
    res = run("-c", code)
    assert res.returncode == 0 and res.stdout.split() == ["ok", "3"], res.stderr
    from orrery.checkpoint import load_checkpoint, load_export, model_weights

    exported, ckpt = load_export(tmp_path), load_checkpoint(root / "run")
    for k, v in model_weights(ckpt).items():
        assert np.array_equal(exported.state("model")[k].numpy(), v.numpy()), k


def test_the_cli_needs_no_click_package():
    # typer >= 0.29 carries its own click; a pip install without the `click` package must work
    res = run("-c", "import sys; sys.modules['click'] = None\nfrom orrery.cli import main\n"
                    "sys.argv = ['orrery', 'train', 'world', '-h']\nmain()")
    assert res.returncode == 0 and "--data" in res.stdout, res.stderr
