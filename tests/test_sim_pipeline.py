"""The simulate pipeline: byte-identical for any executor, resumable after kill -9, bad clips
set aside, readable back."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from orrery.config import ConfigError
from orrery.data.dataset import ClipStore, open_dataset
from orrery.data.manifest import read_manifest
from orrery.sim.params import F, ParamSpace
from orrery.sim.scenario import SCENARIOS, Scenario, register
from orrery.sim.simulate import simulate


def spec(train=6, shard_size=3, frames=8, codec="yuv444p", scenario="projectile", **extra):
    return {"name": "t", "seed": 11, "video": {"size": 32, "fps": 15, "frames": frames, "codec": codec},
            "shard_size": shard_size,
            "scenarios": [{"scenario": scenario, "clips": {"train": train, "val": 2, "test": 2, "test_ood": 2},
                           "params": {"speed": [4.0, 8.0]}, "ood": {"speed": [[10.0, 12.0]]}, **extra}]}


def digest(root: Path) -> dict[str, str]:
    files = sorted(root.glob("shards/*")) + sorted(root.glob("sidecars/*")) + [root / "manifest.parquet",
                                                                               root / "spec.yaml", root / "README.md"]
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def test_one_and_two_workers_give_identical_bytes(tmp_path):
    a = simulate(spec(), tmp_path / "a", workers=1, progress=False)
    simulate(spec(), tmp_path / "b", workers=2, progress=False)
    assert a["counts"] == {"train": 6, "val": 2, "test": 2, "test_ood": 2}
    da, db = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert len(da) == 2 * 5 + 3  # 5 shards (tar + rows), manifest, spec, card
    assert da == db


@pytest.mark.ray
def test_ray_executor_gives_identical_bytes(tmp_path):
    pytest.importorskip("ray")
    simulate(spec(), tmp_path / "a", workers=1, progress=False)
    simulate(spec(), tmp_path / "r", workers=2, executor="ray", progress=False)
    assert digest(tmp_path / "a") == digest(tmp_path / "r")


def test_kill_minus_nine_then_resume_is_byte_identical(tmp_path):
    s = spec(train=60, shard_size=2, frames=24)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(s))
    out = tmp_path / "killed"
    cmd = [sys.executable, "-c", "from orrery.cli import main; main()", "simulate", str(tmp_path / "s.yaml"),
           "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("sidecars/*.rows.json"))) < 3:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.name.removesuffix(".rows.json") for p in out.glob("sidecars/*.rows.json")}
    assert 3 <= len(done) < 33, "the kill should land mid-run"
    assert not (out / "manifest.parquet").exists()
    # no half-written shard is visible: every .tar present is complete (its sidecar may lag by one)
    reference = tmp_path / "ref"
    simulate(s, reference, progress=False)
    for tar in out.glob("shards/*.tar"):
        assert tar.read_bytes() == (reference / "shards" / tar.name).read_bytes()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "train 60" in res.stdout
    assert digest(out) == digest(reference)
    assert not list(out.rglob("*.tmp"))


def test_rerun_with_a_different_spec_is_refused(tmp_path):
    simulate(spec(), tmp_path / "d", progress=False)
    with pytest.raises(ConfigError, match="different spec"):
        simulate(spec(train=7), tmp_path / "d", progress=False)


class _Fragile(Scenario):
    """A test scenario whose builder fails for some parameters (a bad input mid-run)."""

    name = "_fragile"
    summary = "test only"
    space = ParamSpace([F("x", 0.0, 1.0), F("speed", 1.0, 12.0)])
    templates = ("{mover_cap} drifts.", "A test: {mover} moves.", "{mover_cap} moves sideways.")

    def build(self, p, ctx):
        if p["x"] > 0.7:
            raise ValueError(f"x={p['x']:.3f} puts the ball inside the wall")
        w = self.new_world(p, ctx)
        w.add_circle((5.0, 5.0), 0.6, 1.0, ctx.colours(["circle"])[0], velocity=(p["x"], 0.0))
        return w


def test_bad_clips_are_set_aside_and_the_rest_goes_on(tmp_path):
    if "_fragile" not in SCENARIOS:
        register(_Fragile)
    res = simulate(spec(train=10, scenario="_fragile"), tmp_path / "f", progress=False)
    n_bad = len(res["rejected"])
    assert n_bad >= 1 and all("inside the wall" in r["reason"] for r in res["rejected"])
    assert sum(res["counts"].values()) == 16 - n_bad
    rejected = read_manifest(tmp_path / "f" / "rejected.parquet", ("key",)).to_pylist()
    assert {r["key"] for r in rejected} == {r["key"] for r in res["rejected"]}
    assert "set aside" in (tmp_path / "f" / "datasheet.md").read_text()


def test_dataset_reads_back_exact_frames_masks_and_states(tmp_path):
    simulate(spec(codec="lossless"), tmp_path / "l", progress=False)
    store = ClipStore(tmp_path / "l", "train")
    clip = store.clip(0)
    assert clip.frames.shape == (8, 32, 32, 3) and clip.masks.shape == (8, 32, 32)
    from orrery.sim.render import Renderer

    frames, masks = Renderer(clip.camera, clip.statics).render_clip(
        clip.objects, clip.state("position"), clip.state("angle"))
    assert np.array_equal(frames, clip.frames)  # lossless codec: bit-exact
    assert np.array_equal(masks, clip.masks)
    ds = open_dataset(tmp_path / "l", "test")
    item = ds[1]
    assert item["frames"].shape == (8, 32, 32, 3) and item["position"].shape == (8, 1, 2)
    assert isinstance(item["caption"], str) and item["caption"]
    with pytest.raises(ValueError, match="nope"):
        open_dataset(tmp_path / "l", "nope")


def test_datasheet_has_every_section_and_figures(tmp_path):
    res = simulate(spec(), tmp_path / "d", progress=False)
    text = Path(res["datasheet"]).read_text()
    for section in ("Motivation", "Composition", "Collection process", "Preprocessing", "Uses",
                    "Distribution", "Maintenance", "What the data cannot represent"):
        assert f"## {section}" in text
    assert "train 6" in text and "| projectile | 6 | 2 | 2 | 2 | 12 |" in text
    png = tmp_path / "d" / "datasheet" / "params.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_datasheet_of_several_scenarios_has_one_figure_and_lists_every_parameter(tmp_path):
    s = spec(train=4, shard_size=8)
    s["scenarios"].append({"scenario": "phyre", "clips": {"train": 3, "val": 1, "test": 1, "test_ood": 1},
                           "params": {"template": ["ramp-ball", "drop-tower"]}, "ood": {"template": ["shelf-ball"]}})
    res = simulate(s, tmp_path / "d", progress=False)
    assert set(res["seconds"]) == {"shards", "manifest", "datasheet", "card"}
    text = Path(res["datasheet"]).read_text()
    png = tmp_path / "d" / "datasheet" / "params.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![parameter histograms](datasheet/params.png)" in text
    assert sorted(p.name for p in png.parent.iterdir()) == ["params.png"]  # one figure for every scenario
    from PIL import Image

    with Image.open(png) as im:  # a row per scenario: taller than one row of panels
        assert im.size[1] > 2 * 80
    rows = read_manifest(tmp_path / "d").to_pylist()
    listed = 0
    for scn in ("projectile", "phyre"):
        names = {k.removeprefix("param.") for r in rows if r["scenario"] == scn for k, v in r.items()
                 if k.startswith("param.") and v is not None}
        assert names
        for name in names:
            assert f"| {scn} | {name} |" in text, (scn, name)
            listed += 1
    assert "template" in names  # a categorical parameter is listed too, with its values per split
    assert "| phyre | template | " in text and "shelf-ball 1" in text
    assert text.count("| projectile | ") + text.count("| phyre | ") == listed + 2  # + the composition table
