"""curate() end to end on tiny generated videos: the dataset format, clips only from inside shots,
bad inputs set aside, resume after kill -9 byte-identical, process pool and Ray equal to inline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from orrery.curate.config import parse_config
from orrery.curate.pipeline import InputError, curate
from orrery.curate.synth import make_shot
from orrery.data.clip import Clip
from orrery.data.shards import read_shard
from orrery.data.video import encode_mp4

CFG = {"privacy": {"face_blur": False}, "decode": {"work_side": 64},
       "clips": {"min_s": 0.6, "max_s": 1.2, "size": [32, 32], "trim_frames": 2},
       "clips_per_shard": 4, "splits": {"train": 0.5, "val": 0.5}}
SHOTS = {"a.mp4": (30, 40, 35), "b.mp4": (45, 20, 38), "sub/c.mp4": (50, 31)}  # frames per shot, hard cuts


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("in")
    rng = np.random.default_rng(0)
    for name, lens in SHOTS.items():
        frames = np.concatenate([make_shot(rng, n, 48, 64) for n in lens])
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_bytes(encode_mp4(frames, 25.0))
    (d / "copy_of_a.mp4").write_bytes((d / "a.mp4").read_bytes())
    (d / "empty.mp4").write_bytes(b"")
    (d / "readme.txt").write_text("hello")
    return d


def _files(out: Path) -> dict[str, bytes]:
    names = ["manifest.parquet", "rejected.parquet", "datasheet.md"] + [
        f"shards/{p.name}" for p in sorted((out / "shards").glob("*.tar"))]
    return {n: (out / n).read_bytes() for n in names}


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ds"
    summary = curate(inputs, out, parse_config(CFG), workers=1, progress=False)
    return out, summary


def test_dataset_format_and_provenance(reference):
    out, summary = reference
    manifest = pq.read_table(out / "manifest.parquet").to_pylist()
    assert summary["kept"] == len(manifest) > 0
    samples = {}
    for shard in sorted((out / "shards").glob("*.tar")):
        assert len(list(read_shard(shard))) <= 4
        for key, members in read_shard(shard):
            samples[key] = Clip.from_sample(key, members)
    assert sorted(samples) == sorted(r["key"] for r in manifest)
    for row in manifest:
        clip = samples[row["key"]]
        assert clip.frames.shape[1:] == (32, 32, 3) and len(clip.frames) == row["n_frames"]
        assert clip.meta["source"] == "curate" and clip.captions and clip.meta["split"] == row["split"]
        assert row["shard"].startswith(f"{row['split']}-") and "/" not in row["shard"]  # a name in shards/
        prov = clip.meta["provenance"]
        # every source frame of a clip lies inside one true shot, trimmed by 2 frames at each edge
        bounds = np.cumsum((0,) + SHOTS[prov["file"]])
        a, b = prov["source_frames"]
        s = prov["shot"]
        assert bounds[s] + 2 <= a and b <= bounds[s + 1] - 2, (row["key"], a, b, bounds)
        assert 0.6 - 1e-6 <= row["score.duration_s"] <= 1.2 + 1e-6
        assert row["provenance.start_s"] == pytest.approx(a / 25.0)


def test_bad_inputs_and_duplicates_are_set_aside(reference):
    out, summary = reference
    rej = pq.read_table(out / "rejected.parquet").to_pylist()
    by_source = {}
    for r in rej:
        by_source.setdefault(r["source"], set()).add(r["reason"])
    assert by_source["empty.mp4"] == {"zero_length"}
    assert by_source["readme.txt"] == {"not_a_video"}
    assert by_source["copy_of_a.mp4"] == {"exact_duplicate"}  # a.mp4 < copy_of_a.mp4? no: keys decide
    assert sum(summary["reasons"].values()) == len(rej)
    assert "exact_duplicate" in (out / "datasheet.md").read_text()


def test_kill_9_then_resume_is_byte_identical(inputs, reference, tmp_path):
    out = tmp_path / "ds"
    script = (
        "import json, os, signal, sys\n"
        "from orrery.curate.config import parse_config\n"
        "from orrery.curate.pipeline import curate\n"
        "n = [0]\n"
        "def hook(res):\n"
        "    n[0] += 1\n"
        "    if n[0] == 2:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "curate(sys.argv[1], sys.argv[2], parse_config(json.loads(sys.argv[3])), progress=False, on_result=hook)\n")
    proc = subprocess.run([sys.executable, "-c", script, str(inputs), str(out), json.dumps(CFG)], timeout=120)
    assert proc.returncode == -9
    assert len(list((out / "work").glob("*.json"))) == 2  # two inputs finished before the kill
    assert not (out / "manifest.parquet").exists()
    curate(inputs, out, parse_config(CFG), workers=1, progress=False)
    assert _files(out) == _files(reference[0])


def test_process_pool_matches_inline(inputs, reference, tmp_path):
    curate(inputs, tmp_path / "ds", parse_config(CFG), workers=2, executor="local", progress=False)
    assert _files(tmp_path / "ds") == _files(reference[0])


@pytest.mark.ray
def test_ray_matches_inline(inputs, reference, tmp_path):
    pytest.importorskip("ray")
    curate(inputs, tmp_path / "ds", parse_config(CFG), workers=2, executor="ray", progress=False)
    assert _files(tmp_path / "ds") == _files(reference[0])


def test_resume_refuses_a_different_config(inputs, reference):
    other = dict(CFG, clips=dict(CFG["clips"], max_s=2.0))
    with pytest.raises(InputError, match="different config"):
        curate(inputs, reference[0], parse_config(other), progress=False)


def test_list_file_input(inputs, tmp_path):
    lst = tmp_path / "videos.txt"
    lst.write_text(f"# two inputs\n{inputs / 'a.mp4'}\n{inputs / 'nope.mp4'}\n")
    s = curate(lst, tmp_path / "ds", parse_config(CFG), progress=False)
    assert s["inputs"] == 2 and s["reasons"] == {"missing": 1} and s["kept"] > 0


def test_cli(inputs, tmp_path):
    from orrery.cli import app

    runner = CliRunner()
    bad = tmp_path / "bad.yaml"
    bad.write_text("clips:\n  fps: -3\n  colour: 1\n")
    r = runner.invoke(app, ["curate", str(inputs), "--out", str(tmp_path / "x"), "--config", str(bad)])
    assert r.exit_code == 2 and "clips.fps" in r.output and "clips.colour: unknown key" in r.output
    r = runner.invoke(app, ["curate", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "no such file or folder" in r.output
    cfg = tmp_path / "ok.yaml"
    cfg.write_text(json.dumps(CFG))  # JSON is YAML
    r = runner.invoke(app, ["curate", str(inputs / "a.mp4"), "--out", str(tmp_path / "y"), "--config", str(cfg),
                            "--quiet"])
    assert r.exit_code == 0, r.output
    assert "clip(s) kept" in r.output
