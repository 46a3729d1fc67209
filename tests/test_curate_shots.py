"""Shot detection and split: frame-exact hard cuts, gradual transitions covered, flashes and fast
motion not taken for cuts, clips never take a frame from outside their shot, VFR resampling."""

from __future__ import annotations

import numpy as np
import pytest

from orrery.curate.config import ConfigError, parse_config
from orrery.curate.shots import detect_shots, shots_from_transitions
from orrery.curate.split import SplitShots, resample
from orrery.curate.stages import Video
from orrery.curate.synth import make_shot, make_video, match_transitions


def test_hard_cuts_are_frame_exact():
    rng = np.random.default_rng(0)
    shots = [make_shot(rng, n, 48, 64) for n in (30, 25, 40, 33)]
    frames = np.concatenate(shots)
    trans, found = detect_shots(frames)
    cuts = np.cumsum([len(s) for s in shots])[:-1].tolist()  # first frame of each new shot
    assert trans == [(c, c) for c in cuts]
    assert found == [(0, 30), (30, 55), (55, 95), (95, 128)]


def test_flash_and_fast_motion_are_not_cuts():
    rng = np.random.default_rng(1)
    frames = make_shot(rng, 60, 48, 64, fast=True)
    frames[20] = np.clip(frames[20].astype(int) + 180, 0, 255).astype(np.uint8)  # a one-frame flash
    frames[41] = 255
    trans, found = detect_shots(frames)
    assert trans == [] and found == [(0, 60)]


def test_gradual_transitions_are_found_and_excluded_from_shots():
    rng = np.random.default_rng(2)
    v = make_video(rng, 48, 64, n_shots=4, kinds=("dissolve", "fade"), fast_prob=0.0, flash_prob=0.0)
    trans, found = detect_shots(v.frames)
    tp, fp, fn = match_transitions(trans, v.transitions)
    assert (tp, fp, fn) == (3, 0, 0)
    # every detected shot lies inside one true shot, minus at most 2 mixed frames at an edge
    # (the split's trim_frames removes those)
    true_shots = shots_from_transitions(len(v.frames), [(a, b) for a, b, _ in v.transitions])
    for s, e in found:
        overlaps = [max(0, min(e, te) - max(s, ts)) for ts, te in true_shots]
        assert (e - s) - max(overlaps) <= 2


def test_benchmark_matching_rules():
    truth = [(10, 10, "cut"), (30, 40, "dissolve")]
    assert match_transitions([(11, 11), (38, 45)], truth) == (2, 0, 0)
    assert match_transitions([(12, 12), (50, 50)], truth) == (0, 2, 2)


def test_resample_variable_rate_picks_frame_shown_at_each_time():
    pts = np.array([0.0, 0.04, 0.05, 0.2, 0.21, 0.3])  # irregular stamps
    idx = resample(pts, 0, 6, fps=10.0, n_out=4, t0=0.0)  # times 0, .1, .2, .3
    assert idx.tolist() == [0, 2, 3, 5]
    # never leaves [start, end): no frame from a neighbouring shot
    assert resample(pts, 1, 4, fps=100.0, n_out=30, t0=0.04).max() == 3


def test_split_keeps_clips_inside_their_shot_and_trims_edges():
    rng = np.random.default_rng(3)
    frames = np.concatenate([make_shot(rng, 50, 48, 64), make_shot(rng, 70, 48, 64)])
    cfg = parse_config({"clips": {"min_s": 0.5, "max_s": 1.0, "size": [32, 32], "trim_frames": 2},
                        "privacy": {"face_blur": False}})
    v = Video("a.mp4", "id0", frames, np.arange(120) / 25.0, 25.0, (48, 64), "h264",
              transitions=[(50, 50)], shots=[(0, 50), (50, 120)])
    clips = SplitShots(cfg).process(v)
    # both shots (2.0 s and 2.8 s, 1.8 s and 2.6 s after trimming) give clips of at most 1 s
    first = [c for c in clips if c.source_frames[1] <= 50]
    second = [c for c in clips if c.source_frames[0] >= 50]
    assert len(first) >= 1 and len(second) >= 2 and len(first) + len(second) == len(clips)
    assert all(c.frames.shape[1:] == (32, 32, 3) for c in clips)
    for c in clips:
        a, b = c.source_frames
        assert (0 + 2 <= a and b <= 50 - 2) or (50 + 2 <= a and b <= 120 - 2)
        assert c.scores["duration_s"] <= 1.0 + 1e-9
    assert len({c.key for c in clips}) == len(clips)


def test_config_errors_name_field_paths():
    with pytest.raises(ConfigError) as e:
        parse_config({"clips": {"size": [64, 4], "nope": 1}, "filters": {"motion_min": -1}})
    msg = str(e.value)
    assert "clips.size[1]" in msg and "clips.nope: unknown key" in msg and "filters.motion_min" in msg
    with pytest.raises(ConfigError, match="work_side"):
        parse_config({"clips": {"size": [256, 256]}})
    with pytest.raises(ConfigError, match="sum to 1"):
        parse_config({"splits": {"train": 0.5}})
