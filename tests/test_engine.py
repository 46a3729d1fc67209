"""The data engine at smoke size: cells, acquisition, the loop with provenance, resume after a kill,
a bad spec refused before any work, the report, and Ray giving the same data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from orrery.cli import app
from orrery.config import ConfigError
from orrery.engine.acquire import apportion, failure_score, make_acquirer
from orrery.engine.analysis import clips_to_reach, headline
from orrery.engine.cells import CellMap
from orrery.engine.spec import parse_engine_spec

SMOKE = {
    "name": "smoke", "seed": 0,
    "video": {"size": 32, "fps": 15, "frames": 6, "physics_hz": 240, "codec": "yuv444p", "crf": 12},
    "shard_size": 16,
    "world": [{"scenario": "bounce", "params": {"restitution": [0.3, 1.0]}, "start": {"restitution": [0.3, 0.6]}},
              {"scenario": "projectile", "params": {"speed": [3.0, 10.0]}, "start": {"speed": [3.0, 5.0]}}],
    "start": {"train": 3, "val": 1}, "bins": 2, "probe": 1, "test": 1, "rounds": 2, "clips_per_round": 3,
    "model": {"family": "deterministic", "preset": "tiny",
              "sets": ["model.channels=[8,8]", "model.cond_dim=8", "model.text_dim=8", "train.batch_size=4",
                       "train.val_every=0", "train.ckpt_every=0", "train.log_every=1"]},
    "train": {"start_steps": 2, "steps": 1}, "eval": {"context": 2, "horizon": 3}, "seeds": [0],
    "arms": ["uniform", "targeted"],
}


@pytest.fixture(scope="module")
def engine_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine")
    (root / "engine.yaml").write_text(yaml.safe_dump(SMOKE))
    res = CliRunner().invoke(app, ["engine", "run", str(root / "engine.yaml"), "--out", str(root / "out")])
    assert res.exit_code == 0, res.output
    return root, res.output


def test_cells_cover_the_world_and_samples_fall_in_their_cell():
    spec, world = parse_engine_spec(dict(SMOKE, bins=3))
    cells = CellMap(world, 3)
    assert len(cells) == 6 and "bounce:restitution=2" in cells.ids()
    rng = np.random.default_rng(0)
    for cid in cells.ids():
        scenario = cid.split(":")[0]
        for _ in range(5):
            p = cells.sample(cid, scenario, rng)
            assert cells.cells_of(scenario, p) == [cid]
    assert set(cells.neighbour_ids("bounce:restitution=1")) == {"bounce:restitution=0", "bounce:restitution=2"}
    start = cells.sample(None, "projectile", rng, start=True)
    assert 3.0 <= start["speed"] <= 5.0


def test_acquisition_follows_the_failure_score_and_starves_no_cell():
    spec, world = parse_engine_spec(dict(SMOKE, bins=2))
    cells = CellMap(world, 2)
    ids = cells.ids()
    # one cell far above the floor relative to its baseline, the others at the floor
    stats = {c: {"model": 0.1, "floor": 0.1, "baseline": 1.0} for c in ids}
    stats[ids[1]] = {"model": 1.1, "floor": 0.1, "baseline": 2.1}
    assert failure_score(stats[ids[1]]) == pytest.approx(0.5) and failure_score(stats[ids[0]]) == 0
    rng = np.random.default_rng(0)
    tgt = make_acquirer("targeted", 0.2)(stats, 40, rng, cells)
    assert sum(tgt.values()) == 40 and tgt[ids[1]] == 34 and all(tgt.get(c, 0) == 2 for c in ids if c != ids[1])
    uni = make_acquirer("uniform", 0.2)(stats, 40, rng, cells)
    assert sum(uni.values()) == 40 and set(uni.values()) == {10}
    nb = make_acquirer("neighbours", 0.2)(stats, 40, rng, cells)
    assert sum(nb.values()) == 40 and nb[ids[0]] > tgt[ids[0]]  # the failing cell's neighbour gets more
    assert apportion({"a": 1, "b": 1, "c": 1}, 4) == {"a": 2, "b": 1, "c": 1}


def test_clips_to_reach_interpolates_between_rounds():
    assert clips_to_reach([0, 10, 20], [3.0, 2.0, 1.0], 1.5) == pytest.approx(15.0)
    assert clips_to_reach([0, 10, 20], [3.0, 2.0, 1.9], 1.0) == float("inf")
    assert clips_to_reach([0, 10], [1.0, 0.5], 2.0) == 0.0


def test_engine_runs_rounds_with_provenance_and_reports(engine_run):
    root, output = engine_run
    out = root / "out"
    results = json.loads((out / "results.json").read_text())
    arms = results["seeds"]["0"]["arms"]
    assert set(arms) == {"uniform", "targeted"}
    for rounds in arms.values():
        assert [r["round"] for r in rounds] == [1, 2]
        assert all(sum(r["counts"].values()) == 3 for r in rounds)
        assert all(np.isfinite(list(r["test"].values())).all() and len(r["test"]) == 4 for r in rounds)
    from orrery.data.manifest import read_manifest

    rows = read_manifest(out / "seed-0" / "targeted" / "round-2" / "data").to_pylist()
    added = [r for r in rows if r["purpose"] == "acquired"]
    assert len(added) == 6 and {r["round"] for r in added} == {1, 2} and {r["arm"] for r in added} == {"targeted"}
    assert all(r["asked_for"] in r["cells"].split(",") for r in added)
    assert sum(1 for r in rows if r["purpose"] == "start" and r["split"] == "train") == 6
    sheet = (out / "seed-0" / "targeted" / "round-2" / "data" / "datasheet.md").read_text()
    assert "Provenance (data engine)" in sheet and "| acquired | 2 | targeted | 3 |" in sheet
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") >= 2 and "Equal compute" in report
    assert "batch size 4," in report  # the number, read from the runs' config, not "the same"
    assert "clips to reach uniform's final weak-cell error" in output
    h = headline(results)
    assert h["clips_control"] == 6 and len(h["ratios"]) == 1


def test_rerun_resumes_without_simulating_or_training_again(engine_run):
    root, _ = engine_run
    out = root / "out"
    watched = sorted(out.rglob("*.tar")) + sorted(out.rglob("step-*.safetensors"))
    before = {p: p.stat().st_mtime_ns for p in watched}
    res = CliRunner().invoke(app, ["engine", "run", str(root / "engine.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert {p: p.stat().st_mtime_ns for p in watched} == before


def test_kill_and_rerun_gives_the_same_results(engine_run, tmp_path):
    root, _ = engine_run
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "from orrery.cli import main; main()", "engine", "run", str(root / "engine.yaml"),
           "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("seed-0/uniform/round-1/clips/shards/*.tar")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "seed-0" / "start" / "run").exists(), "killed before the starting model"
    res = CliRunner().invoke(app, ["engine", "run", str(root / "engine.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    a = json.loads((root / "out" / "results.json").read_text())
    b = json.loads((out / "results.json").read_text())
    for arm in a["seeds"]["0"]["arms"]:
        for ra, rb in zip(a["seeds"]["0"]["arms"][arm], b["seeds"]["0"]["arms"][arm], strict=True):
            assert ra["counts"] == rb["counts"] and ra["test"] == pytest.approx(rb["test"])


@pytest.mark.parametrize("change,where", [
    ({"rounds": 0}, "rounds"),
    ({"arms": ["uniform", "magic"]}, "arms[1]"),
    ({"world": [{"scenario": "bounce", "params": {"restitution": [0.3, 1.0]}, "start": {"restitution": [0.2, 0.6]}}]},
     "world[0].start.restitution"),
    ({"world": [{"scenario": "bounce", "params": {"restitution": [0.3, 1.0]}, "bins": ["colour"]}]}, "world[0].bins[0]"),
    ({"model": {"family": "pixel", "preset": "huge"}}, "model.preset"),
    ({"video": {"size": 32, "fps": 15, "frames": 4}}, "video.frames"),
])
def test_a_bad_engine_spec_fails_before_any_work(tmp_path, change, where):
    with pytest.raises(ConfigError) as e:
        parse_engine_spec({**SMOKE, **change})
    assert e.value.path == where, str(e.value)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({**SMOKE, **change}))
    res = CliRunner().invoke(app, ["engine", "run", str(tmp_path / "bad.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and where in res.output and not (tmp_path / "o").exists()


@pytest.mark.ray
def test_ray_simulates_byte_identical_data(tmp_path):
    pytest.importorskip("ray")
    from orrery.engine.datasets import simulate_requests
    from orrery.engine.loop import Engine

    spec, world = parse_engine_spec(SMOKE)
    eng = Engine(spec, world, tmp_path)
    reqs = eng.requests_in_cells({c: 2 for c in eng.cells.ids()}, "test", "probe", (0,), "probe")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    a = simulate_requests(reqs, tmp_path / "a", "probe", spec)
    b = simulate_requests(reqs, tmp_path / "b", "probe", spec, executor="ray", workers=2)
    tars = sorted(p.name for p in (a / "shards").glob("*.tar"))
    assert tars and tars == sorted(p.name for p in (b / "shards").glob("*.tar"))
    for name in tars:
        assert (a / "shards" / name).read_bytes() == (b / "shards" / name).read_bytes()


def test_scale_trains_each_size_and_fits_a_power_law(tmp_path):
    """`engine scale` at smoke size: every (size, seed) is trained and measured in and out of the
    start distribution; the fit and the scaling plot come from scale.json."""
    from orrery.engine.report import scaling_plot

    (tmp_path / "engine.yaml").write_text(yaml.safe_dump(SMOKE))
    res = CliRunner().invoke(app, ["engine", "scale", str(tmp_path / "engine.yaml"), "--out", str(tmp_path / "o"),
                                   "--sizes", "2,4", "--seeds", "0", "--steps", "2", "--points", "2"])
    assert res.exit_code == 0, res.output
    sc = json.loads((tmp_path / "o" / "scale.json").read_text())
    assert sorted(r["size"] for r in sc["runs"]) == [2, 4]
    for r in sc["runs"]:
        assert [p["step"] for p in r["points"]] == [1, 2]
        assert all(np.isfinite(p["id"]) and np.isfinite(p["ood"]) for p in r["points"])
    assert set(sc["fit"]) == {"id", "ood"} and all(np.isfinite(v["b"]) for v in sc["fit"].values())
    assert scaling_plot(sc).startswith("data:image/png;base64,")
