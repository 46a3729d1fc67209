"""The counterfactual action test: the simulator driven by the given actions responds as physics
does (1), action-blind models not at all (0), and the truth of the recorded counterfactual is the
clip itself."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

from orrery.cli import app
from orrery.data.dataset import ClipStore
from orrery.eval.counterfactual import ActionTestConfig, cases_of, evaluate_actions, rotate
from orrery.recipes.world import train_world

torch.set_num_threads(1)
SPEC = {"name": "cf", "seed": 3, "video": {"size": 32, "fps": 15, "frames": 20, "physics_hz": 240},
        "shard_size": 16,
        "scenarios": [{"scenario": "push", "clips": {"train": 4, "test": 4}},
                      {"scenario": "bounce", "clips": {"train": 2, "test": 1}}]}
CFG = ActionTestConfig(context=3, horizon=8, start=6)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cf")
    (root / "spec.yaml").write_text(yaml.safe_dump(SPEC))
    res = CliRunner().invoke(app, ["simulate", str(root / "spec.yaml"), "--out", str(root / "ds"), "--no-progress"])
    assert res.exit_code == 0, res.output
    return root / "ds"


def test_rotate_turns_the_velocity_commands():
    rows = np.array([[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(rotate(rows, 90), [[0.0, 1.0], [-2.0, 0.0]], atol=1e-12)
    np.testing.assert_array_equal(rotate(rows, 0), rows)


def test_the_recorded_counterfactual_is_the_clip_and_the_others_differ(data):
    clip = next(c for c in ClipStore(data, "test") if c.scenario == "push")
    same, *others = cases_of(clip.meta, CFG)
    n = CFG.start + CFG.context + CFG.horizon
    np.testing.assert_array_equal(np.asarray(same.meta["states"]["position"]),
                                  np.asarray(clip.meta["states"]["position"])[:n])
    # the clip's frames went through the video codec; the re-run's are drawn exactly
    assert np.abs(same.truth.astype(int) - clip.frames[CFG.start + CFG.context:n]).mean() < 2
    np.testing.assert_array_equal(same.actions, np.asarray(clip.meta["actions"])[CFG.start:n].astype(np.float32))
    pusher = [o["role"] for o in clip.meta["objects"]].index("pusher")
    assert len(others) == 3
    for case in others:
        moved = np.asarray(case.meta["states"]["position"])[-1, pusher] - np.asarray(same.meta["states"]["position"])[-1, pusher]
        assert np.linalg.norm(moved) > 0.1


def test_the_simulator_responds_as_physics_does_and_blind_models_do_not(data, tmp_path):
    oracle = evaluate_actions("simulator", data, "test", tmp_path / "sim", CFG)["variants"]
    assert oracle["given"]["clips"] == 4 and oracle["given"]["true_spread_px"] > 5
    assert oracle["given"]["response"] == pytest.approx(1.0, abs=0.05)  # parser noise only
    assert oracle["given"]["response_pusher"] == pytest.approx(1.0, abs=0.05)
    assert oracle["given"]["position_error_px"] < 0.3
    # fed wrong actions, the simulator goes wrong: the test can tell obeying from ignoring
    assert oracle["zeroed"]["response"] == 0 and oracle["zeroed"]["position_error_px"] > 3 * oracle["given"]["position_error_px"]
    assert oracle["shuffled"]["position_error_px"] > 3 * oracle["given"]["position_error_px"]
    for blind in ("baseline:copy-last", "baseline:constant-velocity"):
        res = evaluate_actions(blind, data, "test", tmp_path / blind.split(":")[1], CFG)["variants"]
        assert res["given"]["response"] < 0.05 and res["given"]["response_pusher"] < 0.05, blind
        assert res["given"]["position_error_px"] == res["zeroed"]["position_error_px"]  # ignores them all


def test_a_trained_model_is_tested_under_all_three_kinds_of_actions(data, tmp_path):
    run = tmp_path / "run"
    train_world(data, run, "deterministic", sets=["model.channels=[8,8]", "model.cond_dim=8", "model.text_dim=8",
                                                  "model.context=3", "train.steps=2", "train.batch_size=4",
                                                  "train.val_every=0", "data.val_split="], progress=False)
    res = CliRunner().invoke(app, ["evaluate-actions", "--model", str(run), "--data", str(data), "--out",
                                   str(tmp_path / "cf"), "--context", "3", "--horizon", "8", "--start", "6",
                                   "--rotations", "0,180"])
    assert res.exit_code == 0, res.output
    assert "response (pusher)" in res.output and "shuffled" in res.output
    summary = json.loads((tmp_path / "cf" / "summary.json").read_text())
    got = summary["variants"]
    assert set(got) == {"given", "zeroed", "shuffled"} and summary["rotations"] == [0.0, 180.0]
    assert all(v["position_error_px"] is not None for v in got.values())
    assert got["zeroed"]["response"] == 0  # the same actions under every counterfactual: identical rollouts


@pytest.mark.parametrize("args,message", [
    (["--split", "train", "--start", "30"], "needs 46 recorded commands"),
    (["--rotations", "0,left"], "--rotations: '0,left'"),
    (["--rotations", "0"], "rotations: "),
])
def test_bad_input_fails_with_one_line(data, tmp_path, args, message):
    res = CliRunner().invoke(app, ["evaluate-actions", "--model", "simulator", "--data", str(data),
                                   "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 2 and message in res.output, res.output
    assert res.output.count("\n") == 1
