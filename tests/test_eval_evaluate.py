"""evaluate() end to end on a small closed-form dataset, its resume, the CLI's errors, and the
benchmark export/score round trip with good, short, wrong-size, wrong-rate, unreadable, missing
and extra videos."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from orrery.cli import app
from orrery.data.shards import npz_load
from orrery.data.video import encode_mp4
from orrery.eval.bench import bench_export, bench_score
from orrery.eval.evaluate import evaluate
from orrery.eval.synthetic import scene, write_dataset
from orrery.models.base import WorldModel, check_context


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds")
    clips = [scene(32, 24, seed=i, key=f"clip{i}") for i in range(3)]
    write_dataset(root, clips)
    return root


def test_evaluate_writes_metrics_summary_and_report(dataset, tmp_path):
    s = evaluate("baseline:simulator", dataset, "test", tmp_path, baselines=("copy-last", "constant-velocity"),
                 progress=False)
    assert (tmp_path / "report.html").exists() and (tmp_path / "model_card.md").exists()
    rows = pq.read_table(tmp_path / "metrics.parquet").to_pylist()
    models = {r["model"] for r in rows}
    assert models == {"baseline:simulator", "baseline:copy-last", "baseline:constant-velocity", "floor", "truth"}
    assert {r["metric"] for r in rows if r["model"] == "truth"} == {"gravity_recovered", "energy_gain"}
    steps = {r["step"] for r in rows if r["metric"] == "position_error_px"}
    assert steps == set(range(12))
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["n_clips"] == 3 and on_disk["models"][0] == "baseline:simulator"
    o = s["overall"]
    # the oracle sits at the floor; copy-last and constant-velocity are far above it, in that order
    assert o["baseline:simulator"]["position_error_px"] < o["floor"]["position_error_px"] + 0.05
    assert o["baseline:copy-last"]["position_error_px"] > o["baseline:constant-velocity"]["position_error_px"] > 0.3
    per_step = s["per_step"]["baseline:copy-last"]["position_error_px"]
    assert per_step[-1] > per_step[0]  # copy-last falls further behind every frame


class Flaky(WorldModel):
    """Copies the last frame; raises on its n-th call (a crash in the middle of a run)."""

    name = "flaky"

    def __init__(self, fail_on=None):
        self.calls, self.fail_on = 0, fail_on

    def rollout(self, context, horizon, condition=None):
        check_context(context, horizon)
        self.calls += 1
        if self.fail_on is not None and self.calls == self.fail_on:
            raise RuntimeError("killed")
        return np.repeat(context[:, -1:], horizon, axis=1)


def test_a_killed_evaluation_resumes_without_redoing_clips(dataset, tmp_path):
    with pytest.raises(RuntimeError, match="killed"):
        evaluate(Flaky(fail_on=2), dataset, "test", tmp_path, batch_size=1, baselines=(), progress=False)
    done = sorted((tmp_path / "parts" / "flaky").glob("*.json"))
    assert [p.stem for p in done] == ["clip0"]
    stamp = done[0].stat().st_mtime_ns
    s = evaluate(Flaky(), dataset, "test", tmp_path, batch_size=1, baselines=(), progress=False)
    assert done[0].stat().st_mtime_ns == stamp  # kept, not recomputed
    assert s["n_clips"] == 3
    with pytest.raises(ValueError, match="another evaluation"):
        evaluate(Flaky(), dataset, "test", tmp_path, horizon=8, baselines=(), progress=False)


def test_cli_errors_are_clear(dataset, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["evaluate", "--model", "baseline:nope", "--data", str(dataset), "--out", str(tmp_path / "a")])
    assert r.exit_code == 2 and "unknown baseline 'nope'" in r.output
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("model: {type: mystery}\n")
    r = runner.invoke(app, ["evaluate", "--model", str(run), "--data", str(dataset), "--out", str(tmp_path / "b")])
    assert r.exit_code == 2 and "mystery" in r.output
    r = runner.invoke(app, ["evaluate", "--model", "baseline:copy-last", "--data", str(dataset), "--split", "val",
                            "--out", str(tmp_path / "c")])
    assert r.exit_code == 2 and "split 'val' has no clips" in r.output
    r = runner.invoke(app, ["evaluate", "--model", "baseline:copy-last", "--data", str(dataset), "--horizon", "40",
                            "--out", str(tmp_path / "d")])
    assert r.exit_code == 2 and "could be evaluated" in r.output


def test_bench_round_trip_lists_every_problem(dataset, tmp_path):
    import cv2

    bench, videos = tmp_path / "bench", tmp_path / "videos"
    info = bench_export(dataset, "test", bench)
    assert info["n_items"] == 3 and (bench / "README.md").exists()
    prompts = [json.loads(x) for x in (bench / "prompts.jsonl").read_text().splitlines()]
    assert [p["key"] for p in prompts] == ["clip0", "clip1", "clip2"]
    assert all((bench / p["context_mp4"]).exists() and len(p["context_png"]) == 4 for p in prompts)
    truth = {k: npz_load((bench / "answers" / f"{k}.npz").read_bytes())["truth"] for k in info["keys"]}
    videos.mkdir()
    big = np.stack([cv2.resize(f, (80, 80), interpolation=cv2.INTER_LINEAR) for f in truth["clip0"]])
    (videos / "clip0.mp4").write_bytes(encode_mp4(big, 30.0))  # wrong size: resized
    (videos / "clip1.mp4").write_bytes(encode_mp4(truth["clip1"][:5], 30.0))  # short
    (videos / "clip2.mp4").write_bytes(encode_mp4(truth["clip2"][1::2], 15.0))  # half the frame rate
    (videos / "stray.mp4").write_bytes(encode_mp4(truth["clip1"], 30.0))  # extra
    res = bench_score(bench, videos, tmp_path / "score", progress=False)
    st = res["status"]
    assert st["ok"] == ["clip0", "clip2"] and st["short"] == ["clip1"] and st["extra"] == ["stray.mp4"]
    assert "resized" in res["notes"]["clip0"] and "resampled 15 -> 30" in res["notes"]["clip2"]
    assert "5 of 12" in res["notes"]["clip1"]
    assert (tmp_path / "score" / "report.html").exists()
    sub = res["summary"]["overall"]["submission"]["position_error_px"]
    assert sub < 1.0  # a resized or re-timed copy of the truth is still close to it
    # unreadable and missing videos are listed; the others are still scored
    (videos / "clip0.mp4").write_bytes(b"not a video")
    (videos / "clip2.mp4").unlink()
    res = bench_score(bench, videos, tmp_path / "score2", progress=False)
    assert res["status"]["unreadable"] == ["clip0"] and res["status"]["missing"] == ["clip2"]
    assert res["status"]["short"] == ["clip1"]
    r = CliRunner().invoke(app, ["bench", "score", "--bench", str(bench), "--videos", str(videos),
                                 "--out", str(tmp_path / "score3")])
    assert r.exit_code == 0 and "missing: 1 (clip2)" in r.output and "unreadable: 1 (clip0)" in r.output


def test_a_trained_run_folder_is_evaluated_and_carded(tmp_path):
    """The run-folder path end to end: a 1-step world model trained here, loaded by --model RUN."""
    from orrery.recipes.world import train_world

    clips = [scene(32, 20, seed=i, key=f"t{i}") for i in range(2)]
    clips = [(f, m, dict(meta, split="train")) for f, m, meta in clips] + [scene(32, 20, seed=9, key="s0")]
    write_dataset(tmp_path / "ds", clips)
    def train(steps):
        train_world(tmp_path / "ds", tmp_path / "run", "pixel", "tiny", sets=[
                     f"train.steps={steps}", "train.batch_size=2", "train.ckpt_every=1", "train.val_every=100",
                     "model.channels=[8,8]", "model.residual_channels=[8,8]", "model.cond_dim=16",
                     "model.text_dim=16"], progress=False)

    train(1)
    s = evaluate(str(tmp_path / "run"), tmp_path / "ds", "test", tmp_path / "ev", baselines=(), progress=False)
    assert s["main"] == str(tmp_path / "run") and s["n_clips"] == 1
    card = (tmp_path / "ev" / "model_card.md").read_text()
    assert "checkpoint step-1 (step 1)" in card and "data fingerprint" in card
    part = next((tmp_path / "ev" / "parts").glob("*run/s0.json"))
    before = part.stat().st_mtime_ns
    evaluate(str(tmp_path / "run"), tmp_path / "ds", "test", tmp_path / "ev", baselines=(), progress=False)
    assert part.stat().st_mtime_ns == before  # same weights: resumed, nothing recomputed
    train(2)  # the run trained further: its old results are stale and are recomputed
    evaluate(str(tmp_path / "run"), tmp_path / "ds", "test", tmp_path / "ev", baselines=(), progress=False)
    assert part.stat().st_mtime_ns != before
    assert "checkpoint step-2 (step 2)" in (tmp_path / "ev" / "model_card.md").read_text()
