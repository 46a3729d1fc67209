"""One model for every law: the foundation specs and presets, mixed data (clips with and without
actions), and post-training with --init (exact resume, refusal of another family, lineage on the
model card)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file
from typer.testing import CliRunner

from orrery.cli import app
from orrery.config import ConfigError
from orrery.eval.evaluate import _actions
from orrery.recipes.windows import Windows
from orrery.recipes.world import resolve_world_config, train_world
from orrery.report.model_card import sections
from orrery.sim.scenario import BUILTIN
from orrery.sim.spec import parse_spec

torch.set_num_threads(1)
SPECS = Path(__file__).resolve().parents[1] / "src" / "orrery" / "specs"
MIXED = {"name": "mixed", "seed": 1, "video": {"size": 32, "fps": 15, "frames": 8, "physics_hz": 240},
         "shard_size": 8,
         "scenarios": [{"scenario": "push", "clips": {"train": 3, "val": 1}},
                       {"scenario": "bounce", "clips": {"train": 3, "val": 1}}]}
FAST = ["model.channels=[8,8]", "model.cond_dim=8", "model.text_dim=8", "train.batch_size=4", "train.val_every=0",
        "train.ckpt_every=0", "train.log_every=1"]


@pytest.mark.parametrize("name,size", [("foundation", 32), ("foundation-64", 64)])
def test_the_foundation_specs_cover_every_law_in_and_out_of_distribution(name, size):
    spec, entries = parse_spec(yaml.safe_load((SPECS / f"{name}.yaml").read_text()))
    assert spec.video.size == size
    assert sorted(e.entry.scenario for e in entries) == sorted(BUILTIN)
    assert all(e.entry.clips.train > 0 and e.entry.clips.test > 0 and e.entry.clips.test_ood > 0 for e in entries)


@pytest.mark.parametrize("family", ["pixel", "deterministic"])
def test_the_foundation_presets_train_longer_than_tiny(family):
    tiny, found = resolve_world_config(family, "tiny"), resolve_world_config(family, "foundation")
    assert found.train.steps == 5 * tiny.train.steps and found.model == tiny.model
    big = resolve_world_config(family, "foundation-64")
    assert big.train.steps > found.train.steps and big.model.channels != tiny.model.channels


def test_clips_without_actions_get_zero_commands_of_the_datasets_action_size():
    frames = np.zeros((6, 8, 8, 3), np.uint8)
    pushed = np.arange(12, dtype=np.float32).reshape(6, 2) + 1
    w = Windows([(frames, pushed, ["push"]), (frames, None, ["bounce"])], context=2, future=1)
    assert w.action_dim == 2 and len(w) == 2 * 4
    assert torch.equal(w[0]["actions"], torch.from_numpy(pushed[:3]))
    bounce = w[4]["actions"]
    assert bounce.shape == (3, 2) and not bounce.any()
    assert Windows([(frames, None, [])], context=2).action_dim == 0  # nothing actuated: no actions
    # a model built to take actions (to be post-trained on push) gets zero commands of its size
    kept = Windows([(frames, None, [])], context=2, action_dim=2)
    assert kept.action_dim == 2 and kept[0]["actions"].shape == (3, 2) and not kept[0]["actions"].any()
    with pytest.raises(ValueError, match="disagree"):
        Windows([(frames, pushed, []), (frames, np.zeros((6, 3), np.float32), [])], context=2)
    with pytest.raises(ValueError, match="the model takes 3"):
        Windows([(frames, pushed, [])], context=2, action_dim=3)


def test_evaluation_gives_clips_without_actions_zero_commands():
    class C:
        def __init__(self, a):
            self.actions = a

    a = np.ones((10, 2), np.float32)
    got = _actions([C(a), C(None)], 1, 2, 3)
    assert got.shape == (2, 5, 2) and got[0].all() and not got[1].any()
    assert _actions([C(None)], 0, 2, 3) is None  # no actions anywhere and a model that takes none
    assert _actions([C(None)], 0, 2, 3, action_dim=2).shape == (1, 5, 2)  # a model that takes them


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    (root / "spec.yaml").write_text(yaml.safe_dump(MIXED))
    res = CliRunner().invoke(app, ["simulate", str(root / "spec.yaml"), "--out", str(root / "ds"), "--no-progress"])
    assert res.exit_code == 0, res.output
    pre = root / "pre"
    train_world(root / "ds", pre, "deterministic", sets=[*FAST, "train.steps=3"], progress=False)
    return root / "ds", pre


def _weights(run: Path, step: int) -> dict[str, torch.Tensor]:
    return load_file(str(run / "checkpoints" / f"step-{step}.safetensors"))


def test_one_model_trains_on_push_and_other_laws_together(mixed):
    data, pre = mixed
    side = json.loads((pre / "checkpoints" / "step-3.json").read_text())
    assert side["config"]["model"]["action_dim"] == 2  # the push clips' commands; bounce clips give zeros


def test_post_training_resumes_exactly_after_a_kill(mixed, tmp_path):
    data, pre = mixed
    sets = [*FAST, "train.steps=4", "train.lr=3e-3", "train.seed=5", "init.freeze=[mean_net.down]"]
    whole = train_world(data, tmp_path / "whole", "deterministic", sets=sets, init=pre, progress=False)
    assert whole.step == 4
    train_world(data, tmp_path / "killed", "deterministic", sets=sets, init=pre, progress=False, stop_after=2)
    assert (tmp_path / "killed" / "checkpoints" / "step-2.json").exists()
    again = train_world(data, tmp_path / "killed", "deterministic", sets=sets, init=pre, progress=False)
    assert again.step == 4
    a, b = _weights(tmp_path / "whole", 4), _weights(tmp_path / "killed", 4)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # it did train (the weights moved off the init) and the frozen part stayed where the init left it
    start = _weights(pre, 3)
    moved = [k for k in a if k.startswith("model.") and not torch.equal(a[k], start[k])]
    assert moved and not any(k.startswith("model.mean_net.down") for k in moved)
    side = json.loads((tmp_path / "killed" / "checkpoints" / "step-4.json").read_text())
    (link,) = side["extra"]["lineage"]
    assert link["run"] == str(pre.resolve()) and link["step"] == 3 and link["frozen"] == ["mean_net.down"]


def test_init_from_another_family_is_refused_with_a_clear_message(mixed, tmp_path):
    data, pre = mixed
    res = CliRunner().invoke(app, ["train", "world", "--data", str(data), "--out", str(tmp_path / "r"),
                                   "--model", "pixel", "--init", str(pre), "--no-progress",
                                   *[x for s in FAST for x in ("--set", s)]])
    assert res.exit_code == 2, res.output
    assert "error: init.run:" in res.output and "is a 'deterministic' run; a pixel model can only start from a " \
                                                  "pixel run" in res.output
    with pytest.raises(ConfigError, match="init.freeze"):
        train_world(data, tmp_path / "f", "deterministic", sets=[*FAST, "train.steps=1", "init.freeze=[nothing]"],
                    init=pre, progress=False)


def test_post_training_crosses_between_data_with_and_without_actions(mixed, tmp_path):
    """A model pretrained with push post-trains on a law without actions (it keeps its action
    input), and one pretrained without push, built with an action input, post-trains on push."""
    data, pre = mixed
    spec = dict(MIXED, name="still", scenarios=[MIXED["scenarios"][1]])
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(app, ["simulate", str(tmp_path / "spec.yaml"), "--out", str(tmp_path / "bounce"),
                                   "--no-progress"])
    assert res.exit_code == 0, res.output
    train_world(tmp_path / "bounce", tmp_path / "a", "deterministic", sets=[*FAST, "train.steps=1"], init=pre,
                progress=False)
    side = json.loads((tmp_path / "a" / "checkpoints" / "step-1.json").read_text())
    assert side["config"]["model"]["action_dim"] == 2
    train_world(tmp_path / "bounce", tmp_path / "b", "deterministic",
                sets=[*FAST, "train.steps=1", "model.action_dim=2"], progress=False)
    train_world(data, tmp_path / "c", "deterministic", sets=[*FAST, "train.steps=1"], init=tmp_path / "b",
                progress=False)
    with pytest.raises(ConfigError, match="takes 0 action values per step.*--set model.action_dim=2"):
        train_world(tmp_path / "bounce", tmp_path / "d", "deterministic", sets=[*FAST, "train.steps=1"],
                    progress=False)
        train_world(data, tmp_path / "e", "deterministic", sets=[*FAST, "train.steps=1"], init=tmp_path / "d",
                    progress=False)


def test_the_model_card_shows_the_lineage(mixed, tmp_path):
    data, pre = mixed
    post = tmp_path / "post"
    train_world(data, post, "deterministic", sets=[*FAST, "train.steps=1"], init=pre, progress=False)
    again = tmp_path / "again"
    train_world(data, again, "deterministic", sets=[*FAST, "train.steps=1"], init=post, progress=False)

    class Model:
        name = "deterministic"

    summary = {"main": "m", "overall": {}, "metrics": {}, "context": 2, "horizon": 2, "scenarios": ["push"],
               "split": "test", "n_clips": 1, "data": "d", "start": 0, "skipped": []}
    card = {}
    for run in (pre, again):
        m = Model()
        m.run_dir = str(run)
        card[run] = dict(sections(summary, m))["Training data"]
    assert "fresh initialisation" in card[pre]
    assert (f"Post-trained: started from {post.resolve()} at step 1" in card[again]
            and f"which started from {pre.resolve()} at step 3" in card[again])
