"""Re-running a clip's world with other actions (the ground truth of counterfactual actions)."""

from __future__ import annotations

import numpy as np
import pytest

from orrery.sim.replay import counterfactual, render, rerun
from orrery.sim.simulate import make_clip, plan
from orrery.sim.spec import parse_spec

SPEC = {"name": "p", "seed": 4, "video": {"size": 32, "fps": 15, "frames": 20},
        "scenarios": [{"scenario": "push", "clips": {"train": 3}},
                      {"scenario": "bounce", "clips": {"train": 1}}]}


def clips():
    spec, entries = parse_spec(SPEC)
    video = spec.video.model_dump()
    return [make_clip(t, video) for t in plan(spec, entries)["train"]]


def test_rerun_with_the_recorded_actions_reproduces_the_clip_exactly():
    for clip in clips():
        if clip.scenario != "push":
            continue
        recorded = np.asarray(clip.meta["actions"])  # float64 (Clip.actions is float32)
        traj = rerun(clip.meta, recorded)
        np.testing.assert_array_equal(traj.position, np.asarray(clip.meta["states"]["position"]))
        np.testing.assert_array_equal(traj.angle, np.asarray(clip.meta["states"]["angle"]))
        np.testing.assert_array_equal(render(clip.meta, traj), clip.frames)
        # continuing from frame 8 with the recorded future is the same clip
        same = counterfactual(clip.meta, 8, recorded[8:])
        np.testing.assert_array_equal(same.position, traj.position)


def test_other_actions_change_only_the_future():
    clip = next(c for c in clips() if c.scenario == "push")
    other = -np.asarray(clip.meta["actions"])[8:]
    traj = counterfactual(clip.meta, 8, other)
    true = np.asarray(clip.meta["states"]["position"])
    np.testing.assert_array_equal(traj.position[:9], true[:9])  # frames 0..8 are before the new commands act
    assert np.abs(traj.position[10:, 0] - true[10:, 0]).max() > 0.1  # the pusher went elsewhere


def test_a_scene_without_an_actuated_body_is_refused():
    clip = next(c for c in clips() if c.scenario == "bounce")
    with pytest.raises(ValueError, match="actuated body"):
        rerun(clip.meta, np.zeros((19, 2)))
