"""`orrery export lerobot`: action clips as a LeRobot (v3.0) dataset, read back with plain pyarrow
(and with lerobot itself when it is installed: it is not in this project's venv, see the README)."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from orrery.cli import app
from orrery.data.dataset import ClipStore
from orrery.data.video import decode_video
from orrery.sim.simulate import simulate

PUSH = {"name": "push", "seed": 2, "video": {"size": 32, "fps": 15, "frames": 8}, "shard_size": 4,
        "scenarios": [{"scenario": "push", "clips": {"train": 3, "val": 0, "test": 0, "test_ood": 0},
                       "params": {"count": [2, 3]}}]}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("lr")
    simulate(PUSH, root / "d", progress=False)
    res = CliRunner().invoke(app, ["export", "lerobot", str(root / "d"), "--out", str(root / "le")])
    assert res.exit_code == 0, res.output
    return root


def test_the_export_round_trips_through_plain_pyarrow(exported):
    le, store = exported / "le", ClipStore(exported / "d", "train")
    info = json.loads((le / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 15 and info["total_episodes"] == 3
    assert info["total_frames"] == 24 and info["features"]["action"]["shape"] == [2]
    n_obj = info["features"]["observation.state"]["shape"][0] // 4
    frames = pq.read_table(le / "data/chunk-000/file-000.parquet").to_pylist()
    assert len(frames) == 24 and [r["index"] for r in frames] == list(range(24))
    episodes = pq.read_table(le / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    tasks = pq.read_table(le / "meta/tasks.parquet").to_pylist()
    for ep in episodes:
        clip = store.clip([r["key"] for r in store.rows].index(ep["orrery_key"]))
        rows = frames[ep["dataset_from_index"]:ep["dataset_to_index"]]
        assert [r["frame_index"] for r in rows] == list(range(8)) and {r["episode_index"] for r in rows} == {ep["episode_index"]}
        assert np.allclose([r["timestamp"] for r in rows], np.arange(8) / 15)
        assert np.allclose([r["action"] for r in rows], clip.actions)
        state = np.array([r["observation.state"] for r in rows]).reshape(8, n_obj, 4)
        k = clip.state("position").shape[1]
        assert np.allclose(state[:, :k, :2], clip.state("position"), atol=1e-6)
        assert np.allclose(state[:, :k, 2:], clip.state("velocity"), atol=1e-6)
        assert not state[:, k:].any()
        assert tasks[rows[0]["task_index"]]["task"] == clip.captions[0] == ep["tasks"][0]
        video = le / f"videos/observation.images.top/chunk-000/file-{ep['episode_index']:03d}.mp4"
        decoded, fps = decode_video(video.read_bytes())
        assert fps == 15 and decoded.shape == clip.frames.shape
        assert np.abs(decoded.astype(int) - clip.frames.astype(int)).mean() < 2
    stats = json.loads((le / "meta/stats.json").read_text())
    actions = np.array([r["action"] for r in frames])
    assert np.allclose(stats["action"]["mean"], actions.mean(0), atol=1e-5)
    assert np.allclose(stats["action"]["std"], actions.std(0), atol=1e-5) and stats["action"]["count"] == [24]
    assert np.asarray(stats["observation.images.top"]["mean"]).shape == (3, 1, 1)


def test_a_dataset_without_actions_is_refused_in_one_line(tmp_path):
    spec = dict(PUSH, scenarios=[{"scenario": "bounce", "clips": {"train": 1, "val": 0, "test": 0, "test_ood": 0}}])
    simulate(spec, tmp_path / "b", progress=False)
    res = CliRunner().invoke(app, ["export", "lerobot", str(tmp_path / "b"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "no clip of ['train'] has actions" in res.output


def test_lerobot_reads_it_when_installed(exported):
    lerobot = pytest.importorskip("lerobot.datasets.lerobot_dataset")
    ds = lerobot.LeRobotDataset("local/push", root=exported / "le", video_backend="pyav")
    assert len(ds) == 24 and ds[9]["observation.images.top"].shape == (3, 32, 32)
