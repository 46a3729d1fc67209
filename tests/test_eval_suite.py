"""The versioned benchmark suite: exported twice it is the same bytes; its leaderboard files
follow the documented format; the CLI refuses what it cannot do in one line."""

import hashlib
import json

import pytest
from typer.testing import CliRunner

from orrery.cli import app
from orrery.eval.suite import (
    LEADERBOARD_METRICS,
    SCENARIOS,
    entry,
    export_suite,
    get_suite,
    write_leaderboard,
)


def _digest(folder):
    """sha256 of every file of an export, but the writers' lock files (which name their holder)."""
    from orrery.data.lock import LOCK_NAME

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != LOCK_NAME}


def test_a_suite_export_is_byte_identical(tmp_path):
    a = export_suite("physics-v1", tmp_path / "a", clips=1)
    export_suite("physics-v1", tmp_path / "b", clips=1)
    da, db = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert da == db and len(da) > 100
    assert a["splits"] == {"test": 11, "test_ood": 11}
    info = json.loads((tmp_path / "a" / "test_ood" / "bench.json").read_text())
    assert info["data"] == "physics-v1/test_ood" and info["size"] == 64
    scen = {json.loads(x)["scenario"] for x in (tmp_path / "a" / "test" / "prompts.jsonl").read_text().splitlines()}
    assert scen == set(SCENARIOS)
    assert "leaderboard" in (tmp_path / "a" / "README.md").read_text()


def test_leaderboard_files_follow_the_format(tmp_path):
    measured = entry("copy-last", "baseline", "python benchmarks/suite.py ...",
                     {"test": {"overall": {"submission": {m: 1.0 for m in LEADERBOARD_METRICS}}}})
    slot = entry("orrery pixel small", "orrery", "orrery train world ...")
    write_leaderboard(tmp_path, "physics-v1", [measured, slot])
    doc = json.loads((tmp_path / "leaderboard.json").read_text())
    assert doc["format"] == 1 and [m["name"] for m in doc["metrics"]] == list(LEADERBOARD_METRICS)
    assert doc["entries"][0]["scores"]["test"]["position_error_px"] == 1.0 and doc["entries"][1]["scores"] is None
    assert doc["entries"][1]["status"] == "to be measured"
    rows = (tmp_path / "leaderboard.csv").read_text().splitlines()
    assert rows[0].startswith("name,kind,split,status,position_error_px") and len(rows) == 3
    with pytest.raises(ValueError, match="kind"):
        entry("x", "mystery", "")
    with pytest.raises(ValueError, match="unknown suite"):
        get_suite("physics-v0")


def test_cli_suite_errors_are_one_line(tmp_path):
    r = CliRunner().invoke(app, ["bench", "export", "--suite", "nope", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "unknown suite" in r.output
    r = CliRunner().invoke(app, ["bench", "export", "--suite", "physics-v1", "--data", str(tmp_path),
                                 "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "not both" in r.output
    r = CliRunner().invoke(app, ["bench", "export", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--data" in r.output


@pytest.mark.slow
def test_the_published_suite_is_byte_identical(tmp_path):
    # the full physics-v1 (11 scenarios x 16 clips x 2 splits, 64 px): about 45 s per export
    export_suite("physics-v1", tmp_path / "a")
    export_suite("physics-v1", tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
