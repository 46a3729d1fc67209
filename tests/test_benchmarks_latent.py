"""The GPU-readiness script's CPU path (`benchmarks/gpu_check.py --device cpu --steps 3`): every
tokenizer and family trains through the real recipes, the end-to-end latent run is evaluated beside
the baselines and both floors; and the cost benchmark measures pixel and latent models side by side."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import torch

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1] / "benchmarks"
TINY_SPEC = """
name: gpu-check-smoke
seed: 0
video: {size: 32, fps: 15, frames: 17, physics_hz: 240, codec: yuv444p, crf: 12}
shard_size: 8
scenarios:
  - scenario: bounce
    clips: {train: 2, val: 1, test: 1, test_ood: 1}
    params:
      restitution: {range: [0.5, 0.9], gap: [0.65, 0.75]}
    ood:
      restitution: [[0.65, 0.75]]
"""


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gpu_check_cpu_path(tmp_path, capsys):
    (tmp_path / "spec.yaml").write_text(TINY_SPEC)
    bench = load("gpu_check")
    out = tmp_path / "out"
    assert bench.main(["--device", "cpu", "--steps", "3", "--preset", "tiny", "--batch", "2", "--compile", "off",
                       "--e2e-steps", "3", "--spec", str(tmp_path / "spec.yaml"), "--out", str(out)]) == 0
    res = json.loads((out / "gpu_check.json").read_text())
    names = [r["name"] for r in res["rows"]]
    assert names == [*bench.TOKENIZERS, *bench.WORLDS]
    for r in res["rows"]:
        assert r["samples_per_s"] > 0 and r["peak_memory_mb"] > 0 and r["loss_first"] is not None
    for split in ("test", "test_ood"):
        models = list(res["e2e"][split])
        assert models[-2:] == ["floor:tokenizer", "floor"]
        assert {"baseline:copy-last", "baseline:constant-velocity"} <= set(models)
        assert len(res["e2e"][split]["floor"]["position_error_px"]) == 12
    latent = json.loads(next((out / "e2e" / "latent" / "checkpoints").glob("step-*.json")).read_text())
    assert latent["config"]["model"]["time_factor"] == 4
    assert "| world-latent | off |" in capsys.readouterr().out


def test_gpu_check_refuses_cuda_without_a_gpu(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert load("gpu_check").main(["--out", str(tmp_path)]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_latent_cost_measures_pixel_and_latent_models_side_by_side(tmp_path):
    bench = load("latent_cost")
    out = tmp_path / "cost.json"
    assert bench.main(["--sizes", "32", "--models", "pixel", "latent 4x8x8", "gpt 4x8x8", "gpt 1x4x4",
                       "latent-mean 1x4x4", "--repeats", "1", "--steps", "1", "--batch", "2", "--clips", "1", "--horizon", "4",
                       "--max-tokens", "100", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["model"] for r in rows] == ["pixel", "latent 4x8x8", "gpt 4x8x8", "gpt 1x4x4", "latent-mean 1x4x4"]
    assert rows[0]["train_samples_s_x"] == 1.0 and rows[1]["frames_per_sample"] == 4
    assert rows[1]["train_frames_s"] == rows[1]["train_samples_s"] * 4 and rows[1]["tokenizer_params"] > 0
    assert all(r["rollout_frames_s"] > 0 for r in rows[:3])
    assert "skipped" in rows[3]  # 64 tokens per frame x 5 frames > --max-tokens 100
    # the latent mean (preset tiny-mean) over 1x4x4: one frame per sample, rolled out
    assert rows[4]["frames_per_sample"] == 1 and rows[4]["rollout_frames_s"] > 0
