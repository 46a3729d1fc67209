"""Planning inside a world model: the CEM pieces, episodes, success read from the simulator's
states (never from what the model imagined), and a smoke plan through the CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

from orrery.act.cem import PlannerConfig, expand, limit_speed, shift
from orrery.act.episodes import TrueWorld, make_episodes
from orrery.act.plan import PlanConfig, Planner, run_episode
from orrery.act.summary import normalised
from orrery.cli import app
from orrery.data.dataset import ClipStore
from orrery.data.objects import ObjectSpec, StaticSpec
from orrery.models.base import WorldModel
from orrery.recipes.world import train_world
from orrery.sim.render import Renderer
from orrery.sim.replay import rerun

torch.set_num_threads(1)
SPEC = {"name": "act", "seed": 5, "video": {"size": 32, "fps": 15, "frames": 12, "physics_hz": 240},
        "shard_size": 16, "scenarios": [{"scenario": "push", "clips": {"train": 3, "test": 3}}]}
FAST = ["--set", "planner.population=4", "--set", "planner.iterations=1", "--set", "planner.horizon=2",
        "--set", "planner.execute=2", "--set", "animate=2"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("act")
    (root / "spec.yaml").write_text(yaml.safe_dump(SPEC))
    res = CliRunner().invoke(app, ["simulate", str(root / "spec.yaml"), "--out", str(root / "ds"), "--no-progress"])
    assert res.exit_code == 0, res.output
    return root / "ds"


@pytest.fixture(scope="module")
def metas(data):
    store = ClipStore(data, "test")
    return [store.clip(i, decode=False).meta for i in range(len(store))]


def test_plan_pieces():
    knots = np.array([[[3.0, 4.0], [0.3, 0.4]]])
    np.testing.assert_allclose(limit_speed(knots, 2.0), [[[1.2, 1.6], [0.3, 0.4]]])
    assert expand(np.arange(6.0).reshape(3, 2), 2, 5).tolist() == [[0, 1], [0, 1], [2, 3], [2, 3], [4, 5]]
    assert shift(np.array([[1.0], [2.0], [3.0]]), 2, 2).tolist() == [[2.0], [3.0], [3.0]]
    assert normalised(0.5, 0.1, 0.9) == pytest.approx(0.5) and normalised(0.5, 0.3, 0.3) is None


def test_goals_lie_at_the_asked_distance_inside_the_view(metas):
    eps = make_episodes(metas, (1.0, 2.5), 6, 0, 2, 5, 0.5)
    assert [e.distance for e in eps] == [1.0, 2.5] * 3
    for e in eps:
        here = np.asarray(e.meta["states"]["position"])[e.start, e.target]
        assert np.linalg.norm(e.goal - here) == pytest.approx(e.distance)
        cam = e.camera()
        assert (e.goal > [cam.x0, cam.y0]).all() and (e.goal < [cam.x0 + cam.extent, cam.y0 + cam.extent]).all()
        assert e.meta["objects"][e.target]["role"] == "object" and re.fullmatch(r"the \w+ (ball|box)", e.name)
    with pytest.raises(ValueError, match="do not fit"):
        make_episodes(metas, (40.0,), 1, 0, 2, 5, 0.5)


class Liar(WorldModel):
    """Imagines the target sitting on the goal whatever the commands: every plan looks perfect."""

    context_frames = 2

    def __init__(self, ep):
        self.ep = ep

    def rollout(self, context, horizon, condition=None):
        meta = self.ep.meta
        objects = [ObjectSpec.from_dict(o) for o in meta["objects"]]
        pos = np.asarray(meta["states"]["position"])[self.ep.start].copy()
        pos[self.ep.target] = self.ep.goal
        cam = self.ep.camera(context.shape[2])
        frames, _ = Renderer(cam, [StaticSpec.from_dict(s) for s in meta["statics"]]).render_clip(
            objects, np.repeat(pos[None], horizon, 0), np.zeros((horizon, len(objects))))
        return np.repeat(frames[None], context.shape[0], axis=0)


def test_success_is_read_from_the_simulator_not_from_the_imagination(metas):
    ep = make_episodes(metas, (2.0,), 1, 0, 1, 4, 0.3)[0]
    cfg = PlanConfig(steps=4, planner=PlannerConfig(population=4, iterations=1, horizon=2, execute=2))
    record, frames = run_episode(ep, Planner("liar", Liar(ep), context=2), cfg)
    # every imagined frame shows the object on the goal ...
    assert record["actions"] == 4 and frames["imagined"].shape[0] == 4
    # ... but the simulator, re-run independently with the executed commands, says where it went
    commands = np.concatenate([np.asarray(ep.meta["actions"])[:ep.start], np.asarray(record["commands"]),
                               np.zeros((1, 2))])
    true = rerun(ep.meta, commands, ep.start + 5).position[ep.start:, ep.target]
    dist = np.linalg.norm(true - ep.goal, axis=-1)
    assert record["final_distance"] == pytest.approx(dist[-1]) and record["min_distance"] == pytest.approx(dist.min())
    assert record["success"] is bool(dist.min() <= ep.tolerance) is False
    # and a goal where the object already is counts as reached before any command
    ep.goal = true[0].copy()
    assert TrueWorld.begin(ep).succeeded()


def test_the_simulator_ceiling_plans_and_random_does_not_reach(metas):
    cfg = PlanConfig(planner=PlannerConfig(population=16, iterations=2))
    eps = make_episodes(metas, (1.0,), 2, 0, 3, cfg.steps, cfg.tolerance)
    ceiling = [run_episode(ep, Planner("simulator"), cfg)[0] for ep in eps]
    floor = [run_episode(ep, Planner("random"), cfg)[0] for ep in eps]
    assert all(r["success"] for r in ceiling), [r["min_distance"] for r in ceiling]
    assert not any(r["success"] for r in floor) and all(r["actions"] == cfg.steps for r in floor)


def test_a_smoke_plan_with_a_trained_model_runs_end_to_end(data, tmp_path):
    run = tmp_path / "run"
    train_world(data, run, "deterministic", sets=["model.channels=[8,8]", "model.cond_dim=8", "model.text_dim=8",
                                                  "model.context=2", "train.steps=2", "train.batch_size=4",
                                                  "train.val_every=0", "data.val_split="], progress=False)
    out = tmp_path / "plan"
    args = ["plan", "--model", str(run), "--data", str(data), "--out", str(out), "--episodes", "3",
            "--distances", "1,2", "--steps", "4", "--no-progress", *FAST]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "normalised" in res.output and "s/action" in res.output
    s = json.loads((out / "summary.json").read_text())
    assert set(s["planners"]) == {str(run), "simulator", "random"}
    assert all(p["episodes"] == 3 and p["actions"] > 0 for p in s["planners"].values())
    assert s["planners"][str(run)]["seconds_per_action"] > 0
    html = (out / "report.html").read_text()
    assert html.count("data:image/gif") == 2 and html.count("data:image/png") == 1  # 2 episodes, 1 plot
    # a rerun reads the episodes back instead of planning again
    before = {p: p.stat().st_mtime_ns for p in (out / "parts").rglob("*.json") if p.name != "run.json"}
    assert CliRunner().invoke(app, args).exit_code == 0
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_episodes_planned_by_a_pool_of_workers_match_those_planned_inline(data, tmp_path):
    """Episodes are independent tasks: two spawned workers give the records one process gives (but
    for the time spent), and the parts they write resume like any others."""
    def run(out, *more):
        args = ["plan", "--model", "simulator", "--compare", "random", "--data", str(data), "--out", str(out),
                "--episodes", "3", "--distances", "1", "--steps", "4", "--no-progress", *FAST, *more]
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
        return {p.relative_to(out).as_posix(): json.loads(p.read_text()) for p in (out / "parts").rglob("0*.json")}

    def untimed(records):
        return {k: {f: v for f, v in r.items() if f not in ("planning_s", "seconds_per_action")}
                for k, r in records.items()}

    inline, pooled = run(tmp_path / "one"), run(tmp_path / "two", "--workers", "2")
    assert len(inline) == 6 and untimed(pooled) == untimed(inline)
    assert sorted(p.name for p in (tmp_path / "two" / "parts").rglob("*.npz")) == ["00000.npz", "00000.npz",
                                                                                  "00001.npz", "00001.npz"]


@pytest.mark.parametrize("args,message", [
    (["--model", "nowhere"], "--model nowhere: not a run folder"),
    (["--model", "simulator", "--distances", "1,far"], "--distances: '1,far'"),
    (["--model", "simulator", "--compare", "oracle"], "--compare: 'oracle'"),
    (["--model", "simulator", "--set", "planner.population=1"], "planner.population"),
])
def test_bad_input_fails_with_one_line(data, tmp_path, args, message):
    res = CliRunner().invoke(app, ["plan", "--data", str(data), "--out", str(tmp_path / "o"), "--no-progress", *args])
    assert res.exit_code == 2 and message in res.output, res.output
    assert res.output.count("\n") == 1
