"""benchmarks/adaptation.py at smoke size: every step runs (held-out data, pretraining on the other
laws, post-training and from scratch on the same clips, evaluation, the table), and a rerun trains
nothing again."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)
PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "adaptation.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("adaptation", PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_clips_to_match_interpolates_in_log_clips(bench):
    assert bench.clips_to_match([8, 32, 128], [3.0, 2.0, 1.0], 1.5) == pytest.approx(64.0)
    assert bench.clips_to_match([8, 32], [3.0, 2.0], 3.5) == 8.0  # already there at the first point
    assert math.isinf(bench.clips_to_match([8, 32], [3.0, 2.0], 1.0))


def test_the_held_out_spec_leaves_the_law_out_of_pretraining(bench):
    spec = bench.SMOKE["spec"]
    pre, held = bench.held_out_specs(spec, "push", 40, 5)
    assert [e["scenario"] for e in pre["scenarios"]] == ["bounce", "projectile"]
    assert [e["scenario"] for e in held["scenarios"]] == ["push"] and held["scenarios"][0]["clips"]["train"] == 40
    with pytest.raises(SystemExit, match="'spring' is not a scenario"):
        bench.held_out_specs(spec, "spring", 4, 1)


def test_the_smoke_experiment_runs_end_to_end_and_resumes(bench, tmp_path, capsys):
    assert bench.main(["--out", str(tmp_path), "--smoke"]) == 0
    out = json.loads((tmp_path / "results.json").read_text())
    assert set(out["laws"]) == {"bounce", "push"}
    for law in out["laws"].values():
        assert math.isfinite(law["zero_shot"])
        assert set(law["post"]) == {"2"} and set(law["scratch"]) == {"2", "4"}
        assert all(math.isfinite(v) for arm in ("post", "scratch") for vs in law[arm].values() for v in vs)
        assert "2" in law["match"]
        assert set(law["baselines"]) == {"constant-velocity", "copy-last", "floor"}
        assert all(math.isfinite(v) for v in law["baselines"].values())
    assert "held-out law: push" in capsys.readouterr().out
    # the post-trained run started from the pretrained one, recorded in its lineage
    side = json.loads((tmp_path / "runs" / "push-post-n2-seed0" / "checkpoints" / "step-2.json").read_text())
    assert side["extra"]["lineage"][0]["run"].endswith("pretrained-without-push")
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("*.safetensors")}
    assert bench.main(["--out", str(tmp_path), "--smoke"]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def _summary(folder: Path, px: float) -> None:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"main": "m", "overall": {"m": {"position_error_px": px}}}))


def test_the_table_gathers_every_evaluation_and_matches_over_the_same_seeds(bench, tmp_path):
    # earlier invocations left seed 0 at n = 8 and 32 and seed 1 at n = 8 only
    for name, px in [("post-n8-seed0", 1.0), ("post-n8-seed1", 2.0), ("scratch-n8-seed0", 3.0),
                     ("scratch-n8-seed1", 4.0), ("scratch-n32-seed0", 1.0), ("scratch-n128-seed0", 0.5),
                     ("scratch-n128-seed1", 1.0)]:
        _summary(tmp_path / f"push-{name}", px)
    _summary(tmp_path / "pushy-post-n8-seed0", 9.0)  # another law's name starting alike: not gathered
    seeds = {arm: bench.gathered(tmp_path, "push", arm) for arm in ("post", "scratch")}
    assert seeds["post"] == {"8": {"0": 1.0, "1": 2.0}}
    assert seeds["scratch"] == {"8": {"0": 3.0, "1": 4.0}, "32": {"0": 1.0}, "128": {"0": 0.5, "1": 1.0}}
    # post-trained on 8 over seeds 0 and 1 (1.5): from scratch over the same seeds is 3.5 at 8 and
    # 0.75 at 128 (32 lacks seed 1, so it is left out of the curve)
    expect = math.exp(math.log(8) + (3.5 - 1.5) / (3.5 - 0.75) * (math.log(128) - math.log(8)))
    assert bench.matched(seeds, "8") == pytest.approx(expect)
