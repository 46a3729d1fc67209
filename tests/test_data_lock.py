"""Issue 11, item 3: one writer per output folder. A second simulate, train or evaluate into a
folder another process writes is refused at once with a message naming the folder and the holder;
the lock goes with its holder (kill -9 included); a refused run touches nothing (it never cleans a
live run's temporaries)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orrery.cli import app
from orrery.data.lock import FolderBusy, folder_lock

SRC = str(Path(__file__).resolve().parents[1] / "src")
SPEC = """name: lock
seed: 0
video: {size: 32, fps: 15, frames: 4, physics_hz: 240}
shard_size: 4
scenarios:
  - scenario: projectile
    clips: {train: 2}
"""


def hold(folder: Path) -> subprocess.Popen:
    """Another process holding the folder's lock until it is killed."""
    code = ("import sys, time; from pathlib import Path; from orrery.data.lock import folder_lock\n"
            "with folder_lock(Path(sys.argv[1]), 'simulate'):\n    print('held', flush=True); time.sleep(600)")
    p = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": SRC})
    assert p.stdout.readline().strip() == "held"
    return p


def test_a_second_writer_is_refused_naming_the_holder_and_the_lock_dies_with_it(tmp_path):
    out = tmp_path / "ds"
    holder = hold(out)
    try:
        (out / ".spec.yaml.abc.tmp").write_text("a live run's temporary")
        (tmp_path / "spec.yaml").write_text(SPEC)
        r = CliRunner().invoke(app, ["simulate", str(tmp_path / "spec.yaml"), "--out", str(out), "--no-progress"])
        assert r.exit_code == 2, r.output
        line = r.output.strip().splitlines()[-1]
        assert line.startswith(f"error: {out}: busy") and f"pid {holder.pid}" in line and "--out" in line
        assert (out / ".spec.yaml.abc.tmp").exists()  # the refused run cleaned nothing
        assert not (out / "spec.yaml").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the kernel released the lock with its holder: the same command now runs
    r = CliRunner().invoke(app, ["simulate", str(tmp_path / "spec.yaml"), "--out", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert not (out / ".spec.yaml.abc.tmp").exists()  # the killed run's leftovers, cleaned under the lock


def test_train_and_evaluate_take_the_lock_too(tmp_path, tiny_run):
    from conftest import train_tiny

    from orrery.eval.evaluate import evaluate

    data, _ = tiny_run
    holder = hold(tmp_path / "busy")
    try:
        with pytest.raises(FolderBusy, match="busy"):
            train_tiny(data, tmp_path / "busy")
        with pytest.raises(FolderBusy, match="busy"):
            evaluate("baseline:copy-last", data, "test", tmp_path / "busy", baselines=(), progress=False)
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_reentrant_within_a_process_and_refuses_a_file(tmp_path):
    with folder_lock(tmp_path / "a", "job"), folder_lock(tmp_path / "a", "stage"):
        assert (tmp_path / "a" / ".lock").exists()
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError) as e:
        with folder_lock(tmp_path / "f", "simulate"):
            pass
    assert e.value.filename == str(tmp_path / "f")


@pytest.mark.slow  # two fresh interpreters: ~15 s on two busy cores; the busy test above is the fast check
def test_two_simultaneous_simulates_never_both_write(tmp_path):
    """The reproduction: two runs with different specs started at the same instant into one folder.
    Exactly one writes; the other is refused (or, if it starts after the first finished, refused as
    another spec's folder). Never a dataset whose spec.yaml does not describe its shards."""
    for seed in (0, 1):
        (tmp_path / f"s{seed}.yaml").write_text(SPEC.replace("seed: 0", f"seed: {seed}"))
    env = {**os.environ, "PYTHONPATH": SRC}
    procs = [subprocess.Popen([sys.executable, "-m", "orrery", "simulate", str(tmp_path / f"s{s}.yaml"),
                               "--out", str(tmp_path / "ds"), "--no-progress"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for s in (0, 1)]
    t0 = time.time()
    results = [(p.wait(timeout=120), p.communicate()[1]) for p in procs]
    assert time.time() - t0 < 120
    codes = sorted(rc for rc, _ in results)
    assert codes == [0, 2], results
    err = next(e for rc, e in results if rc == 2)
    assert "busy" in err or "different spec" in err
