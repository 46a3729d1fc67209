"""Run folders written before the architecture change (commit 5f6321d: `kind` diffusion /
latent_diffusion / autoregressive, the deterministic model as the pixel model's `head`) still load.

The fixtures in tests/data/legacy/ are the real checkpoint sidecars of four runs that code wrote
(2 training steps each, on the quickstart data) and the name, shape and dtype of every weight
their safetensors files held; the tokenizers' export sidecars likewise. The test rebuilds the files
with random values in exactly that layout, so a renamed parameter, a changed shape or a config
field the new code refuses makes it fail."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from orrery.models.base import Condition
from orrery.models.registry import load_world_model

FIXTURES = Path(__file__).parent / "data" / "legacy"
CASES = {"hybrid": "pixel:hybrid", "deterministic": "deterministic", "latent": "latent", "ar": "autoregressive"}
DTYPES = {"F32": torch.float32, "I64": torch.int64, "BOOL": torch.bool}  # safetensors' names in the fixtures


def _tensors(spec: list, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape, dtype in spec:
        dt = DTYPES[dtype]  # a dtype not listed is a KeyError naming it: add it here
        if dt.is_floating_point:
            out[name] = 0.02 * torch.randn(shape, generator=g).to(dt)
        else:
            out[name] = torch.zeros(shape, dtype=dt)
    return out


def _rebuild(name: str, root: Path) -> Path:
    fix = json.loads((FIXTURES / f"{name}.json").read_text())
    assert fix["weights"], f"{name}: a fixture with no weights tests nothing"
    side = fix["sidecar"]
    if fix["tokenizer"] is not None:
        tok = root / "tokenizer"
        tok.mkdir()
        save_file(_tensors(fix["tokenizer"]["weights"], 1), str(tok / "tokenizer.safetensors"))
        (tok / "tokenizer.json").write_text(json.dumps(fix["tokenizer"]["sidecar"]))
        side["config"]["tokenizer"] = str(tok)
    ckpt = root / "run" / "checkpoints"
    ckpt.mkdir(parents=True)
    save_file(_tensors(fix["weights"], 0), str(ckpt / "step-2.safetensors"))
    (ckpt / "step-2.json").write_text(json.dumps(side))
    return root / "run"


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_run_written_before_the_families_split_loads_and_rolls_out(name, tmp_path):
    run = _rebuild(name, tmp_path)
    model = load_world_model(run)
    assert model.name == CASES[name]
    ctx = np.random.default_rng(0).integers(0, 255, (1, 4, 32, 32, 3), dtype=np.uint8)  # quickstart: 32 px
    out = model.rollout(ctx, 2, Condition(text=["a ball"]))
    assert out.shape == (1, 2, 32, 32, 3) and out.dtype == np.uint8


def test_a_legacy_run_with_a_missing_weight_names_the_file(tmp_path):
    run = _rebuild("deterministic", tmp_path)
    path = run / "checkpoints" / "step-2.safetensors"
    tensors = load_file(str(path))
    tensors.pop(next(k for k in tensors if k.startswith("ema.")))
    save_file(tensors, str(path))
    with pytest.raises(ValueError, match="the weights do not fit") as err:
        load_world_model(run)
    msg = str(err.value)
    assert "step-2.safetensors" in msg and "\n" not in msg.strip()
