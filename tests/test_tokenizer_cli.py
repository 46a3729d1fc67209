"""The tokenizer's CLI verbs end to end on a tiny simulated dataset: train (and resume), encode,
decode, evaluate; and the errors users see."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from orrery.cli import app
from orrery.sim.simulate import simulate

runner = CliRunner()

def sets(*items: str) -> list[str]:
    return [a for item in items for a in ("--set", item)]


FAST = sets("model.channels=8", "model.channel_mult=[1,1]", "train.steps=3", "train.batch_size=2",
            "train.val_every=0", "train.ckpt_every=0", "train.log_every=1", "data.frames=5")
FSQ = sets("model.kind=fsq", "model.compression=4x8x8", "model.fsq_levels=[5,5,5]")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds") / "data"
    spec = {"name": "t", "seed": 3, "video": {"size": 32, "fps": 15, "frames": 9, "codec": "yuv444p"},
            "shard_size": 8,
            "scenarios": [{"scenario": "projectile", "clips": {"train": 3, "val": 1, "test": 2, "test_ood": 1},
                           "params": {"speed": [4.0, 8.0]}, "ood": {"speed": [[10.0, 12.0]]}}]}
    simulate(spec, root, workers=1, progress=False)
    return root


@pytest.fixture(scope="module")
def fsq_run(dataset, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "fsq"
    res = runner.invoke(app, ["train", "tokenizer", "--data", str(dataset), "--out", str(run),
                              *FSQ, *FAST, "--no-progress"])
    assert res.exit_code == 0, res.output
    return run


def test_train_writes_run_and_resumes(fsq_run, dataset):
    assert (fsq_run / "tokenizer.safetensors").exists() and (fsq_run / "checkpoints" / "step-3.json").exists()
    side = json.loads((fsq_run / "tokenizer.json").read_text())
    assert side["step"] == 3 and side["data_fingerprint"].startswith("manifest-sha256:")
    assert side["config"]["fsq_levels"] == [5, 5, 5]
    # Re-running with more steps resumes from step 3 instead of starting again.
    more = [a if a != "train.steps=3" else "train.steps=5" for a in FAST]
    res = runner.invoke(app, ["train", "tokenizer", "--data", str(dataset), "--out", str(fsq_run),
                              *FSQ, *more, "--no-progress"])
    assert res.exit_code == 0, res.output
    steps = [int(line.split(",")[0]) for line in (fsq_run / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == [1, 2, 3, 4, 5]
    assert json.loads((fsq_run / "tokenizer.json").read_text())["step"] == 5


def test_encode_decode_round_trip(fsq_run, tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, size=(7, 32, 32, 3), dtype=np.uint8)
    np.savez(tmp_path / "in.npz", frames=frames, fps=12.0)
    res = runner.invoke(app, ["tokenize", "encode", "--run", str(fsq_run), "--input", str(tmp_path / "in.npz"),
                              "--out", str(tmp_path / "tok.npz")])
    assert res.exit_code == 0, res.output
    assert "bits/pixel" in res.output
    tok = np.load(tmp_path / "tok.npz")
    assert tok["indices"].shape == (3, 4, 4) and tok["indices"].max() < 125 and int(tok["n_frames"]) == 7
    res = runner.invoke(app, ["tokenize", "decode", "--run", str(fsq_run), "--input", str(tmp_path / "tok.npz"),
                              "--out", str(tmp_path / "out.npz")])
    assert res.exit_code == 0, res.output
    out = np.load(tmp_path / "out.npz")
    assert out["frames"].shape == frames.shape and out["frames"].dtype == np.uint8 and float(out["fps"]) == 12.0
    res = runner.invoke(app, ["tokenize", "decode", "--run", str(fsq_run), "--input", str(tmp_path / "tok.npz"),
                              "--out", str(tmp_path / "out.mp4")])
    assert res.exit_code == 0 and (tmp_path / "out.mp4").stat().st_size > 0


def test_evaluate_reports_per_scenario(fsq_run, dataset, tmp_path):
    out = tmp_path / "eval.json"
    res = runner.invoke(app, ["evaluate-tokenizer", "--run", str(fsq_run), "--data", str(dataset),
                              "--split", "test", "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())
    assert got["clips"] == 2 and {s["scenario"] for s in got["scenarios"]} == {"projectile", "all"}
    res = runner.invoke(app, ["evaluate-tokenizer", "--run", str(fsq_run), "--data", str(dataset),
                              "--split", "test,test_ood", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "eval-test_ood.json").read_text())["clips"] == 1
    for row in got["rows"]:
        assert row["split"] == "test" and 0 < row["psnr"] < 60 and -1 <= row["ssim"] <= 1
        assert row["bpp"] == pytest.approx(3 * 16 * np.log2(125) / (9 * 32 * 32))
        assert "pos_px" in row and "floor_px" in row


def test_user_errors_are_clear(fsq_run, tmp_path):
    res = runner.invoke(app, ["train", "tokenizer", "--data", "synthetic", "--out", str(tmp_path / "r"),
                              "--set", "model.compresion=4x4x4"])
    assert res.exit_code == 2 and "model.compresion: unknown key" in res.output
    res = runner.invoke(app, ["train", "tokenizer", "--data", "synthetic", "--out", str(tmp_path / "r"),
                              "--preset", "huge"])
    assert res.exit_code == 2 and "unknown preset 'huge'" in res.output
    res = runner.invoke(app, ["tokenize", "encode", "--run", str(tmp_path / "none"), "--input", "x.npz",
                              "--out", str(tmp_path / "t.npz")])
    assert res.exit_code == 2 and "no such file or folder" in res.output
    bad = tmp_path / "bad.npz"
    np.savez(bad, frames=np.zeros((5, 30, 32, 3), np.uint8))
    res = runner.invoke(app, ["tokenize", "encode", "--run", str(fsq_run), "--input", str(bad),
                              "--out", str(tmp_path / "t.npz")])
    assert res.exit_code == 2 and "multiples of 8" in res.output
    res = runner.invoke(app, ["evaluate-tokenizer", "--run", str(fsq_run), "--data", str(tmp_path),
                              "--split", "test"])
    assert res.exit_code == 2 and "error:" in res.output


def test_summary_per_scenario_is_nan_aware_and_sums_counts():
    from orrery.eval.tokenizer import summarise

    rows = [{"scenario": "b", "psnr": 30.0},  # a clip without objects has no position figures
            {"scenario": "a", "psnr": 20.0, "pos_px": 0.5, "n_positions": 4},
            {"scenario": "a", "psnr": 40.0, "pos_px": 0.1, "n_positions": 6}]
    got = {s["scenario"]: s for s in summarise(rows)}
    assert list(got) == ["a", "b", "all"]
    assert got["a"]["psnr"] == 30.0 and got["a"]["pos_px"] == pytest.approx(0.3)
    assert np.isnan(got["b"]["pos_px"]) and got["a"]["n_positions"] == 10
    assert got["all"]["clips"] == 3 and got["all"]["psnr"] == 30.0
