"""Bad specs fail on load with the field path and the reason, before any work starts."""

import copy
import math

import pytest

from orrery.config import ConfigError
from orrery.sim.simulate import simulate
from orrery.sim.spec import parse_spec

GOOD = {
    "name": "t",
    "seed": 1,
    "video": {"size": 32, "fps": 15, "frames": 8, "physics_hz": 480},
    "scenarios": [{
        "scenario": "projectile",
        "clips": {"train": 4, "val": 1, "test": 1, "test_ood": 2},
        "params": {"speed": {"range": [4.0, 9.0], "gap": [6.0, 6.5]}},
        "ood": {"speed": [[10.0, 12.0]]},
    }],
}


def mutate(path: str, value):
    spec = copy.deepcopy(GOOD)
    node = spec
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return spec


def test_good_spec_parses():
    spec, entries = parse_spec(copy.deepcopy(GOOD))
    assert spec.video.size == 32 and entries[0].scenario.name == "projectile"


@pytest.mark.parametrize("path,value,where,why", [
    ("colour_depth", 8, "colour_depth", "unknown key"),
    ("video.size", "big", "video.size", "integer"),
    ("video.size", 16, "video.size", "greater than or equal to 32"),
    ("video.fps", math.nan, "video.fps", "finite"),
    ("video.physics_hz", 500, "video.physics_hz", "whole multiple"),
    ("scenarios.0.scenario", "warp_drive", "scenarios[0].scenario", "unknown scenario"),
    ("scenarios.0.clips.train", -1, "scenarios[0].clips.train", "greater than or equal to 0"),
    ("scenarios.0.clips.test", "many", "scenarios[0].clips.test", "integer"),
    ("scenarios.0.params.sped", 3.0, "scenarios[0].params.sped", "unknown parameter"),
    ("scenarios.0.params.radius", -0.5, "scenarios[0].params.radius", "below the physical minimum"),
    ("scenarios.0.params.angle", math.nan, "scenarios[0].params.angle", "finite"),
    ("scenarios.0.params.height", [3.0, 1.0], "scenarios[0].params.height", "reversed"),
    ("scenarios.0.params.speed", {"range": [4.0, 9.0], "gap": [8.0, 10.0]}, "scenarios[0].params.speed.gap",
     "strictly inside"),
    ("scenarios.0.ood", {"speed": [[5.0, 7.0]]}, "scenarios[0].ood.speed[0]", "overlaps"),
    ("scenarios.0.ood", {}, "scenarios[0].clips.test_ood", "neither"),
    ("scenarios.0.clips", {"train": 0}, "scenarios[0].clips", "every split is empty"),
    ("scenarios.0.held_out_combos", [{"colour": "mauve", "shape": "circle"}],
     "scenarios[0].held_out_combos[0].colour", "unknown colour"),
    ("scenarios.0.held_out_combos", [{"colour": "red", "shape": "box"}],
     "scenarios[0].held_out_combos[0].shape", "never makes a box"),
    ("scenarios", [], "scenarios", "at least 1"),
])
def test_bad_spec_names_field_and_reason(path, value, where, why):
    with pytest.raises(ConfigError) as e:
        parse_spec(mutate(path, value))
    assert e.value.path == where, str(e.value)
    assert why in e.value.reason, str(e.value)


def test_empty_train_split_is_rejected():
    spec = mutate("scenarios.0.clips", {"val": 2, "test": 2})
    with pytest.raises(ConfigError, match="train split is empty"):
        parse_spec(spec)


def test_bad_spec_does_no_work(tmp_path):
    out = tmp_path / "ds"
    with pytest.raises(ConfigError):
        simulate(mutate("scenarios.0.params.radius", -1.0), out, progress=False)
    assert not out.exists()


def test_cli_reports_field_path(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from orrery.cli import app

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(mutate("scenarios.0.params.radius", -2.0)))
    res = CliRunner().invoke(app, ["simulate", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "scenarios[0].params.radius" in res.output and "below the physical minimum" in res.output
    assert not (tmp_path / "o").exists()
