"""Saving and loading a tokenizer: weights in safetensors, and beside them a JSON sidecar with the
resolved config and the latent normalisation (mean/std per channel), so a diffusion model can use
the latents without the training run. A run folder resolves to its newest checkpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ..data.atomic import write_text, write_with
from .config import ConfigError, config_from_dict
from .model import VideoTokenizer

_STEP = re.compile(r"step-(\d+)\.safetensors$")


def sidecar_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def save_tokenizer(path: str | Path, model: VideoTokenizer, extra: dict[str, Any] | None = None) -> Path:
    """Write `path` (.safetensors) and its sidecar atomically; the sidecar is written last, so a
    checkpoint counts as complete only when both exist."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"checkpoint path {path}: must end in .safetensors")
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    write_with(path, lambda tmp: save_file(tensors, str(tmp)))
    meta = {"part": "tokenizer", "config": model.cfg.model_dump(mode="json"),
            "latent_mean": model.latent_mean.tolist(), "latent_std": model.latent_std.tolist(),
            **(extra or {})}
    write_text(sidecar_path(path), json.dumps(meta, indent=1, sort_keys=True))
    return path


def resolve_checkpoint(path: str | Path) -> Path:
    """A .safetensors file, or a run folder (its newest complete `checkpoints/step-N.safetensors`,
    or a `tokenizer.safetensors` at its top)."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"tokenizer checkpoint {path}: no such file or folder")
    steps = []
    for p in (path / "checkpoints").glob("step-*.safetensors"):
        m = _STEP.search(p.name)
        if m and sidecar_path(p).exists():
            steps.append((int(m.group(1)), p))
    if steps:
        return max(steps)[1]
    top = path / "tokenizer.safetensors"
    if top.exists() and sidecar_path(top).exists():
        return top
    raise FileNotFoundError(f"run {path}: no complete checkpoint (checkpoints/step-N.safetensors with its .json)")


def read_sidecar(weights: Path) -> dict[str, Any]:
    side = sidecar_path(weights)
    if not side.exists():
        raise FileNotFoundError(f"checkpoint {weights}: its sidecar {side.name} is missing")
    try:
        return json.loads(side.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"checkpoint sidecar {side}: not valid JSON ({e})") from None


def _tokenizer_config(meta: dict[str, Any], side: Path) -> dict[str, Any]:
    """The tokenizer config inside a sidecar: ours ({'config': {...}}) or a training run's, whose
    config nests the model's under 'model'."""
    cfg = meta.get("config")
    if isinstance(cfg, dict) and isinstance(cfg.get("model"), dict):
        cfg = cfg["model"]
    if not isinstance(cfg, dict):
        raise ValueError(f"checkpoint sidecar {side}: no tokenizer config")
    return cfg


def load_tokenizer(path: str | Path, device: str | torch.device = "cpu") -> tuple[VideoTokenizer, dict[str, Any]]:
    """A checkpoint file or run folder -> (model in eval mode, sidecar dict)."""
    weights = resolve_checkpoint(path)
    meta = read_sidecar(weights)
    try:
        cfg = config_from_dict(_tokenizer_config(meta, sidecar_path(weights)), prefix=f"{weights.name}.config")
    except ConfigError as e:
        raise ValueError(f"checkpoint {weights}: {e}") from None
    model = VideoTokenizer(cfg)
    state = load_file(str(weights), device="cpu")
    state = {k.removeprefix("model."): v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"checkpoint {weights}: weights do not match its config "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    if "latent_mean" in meta:
        model.latent_mean.copy_(torch.tensor(meta["latent_mean"]))
        model.latent_std.copy_(torch.tensor(meta["latent_std"]))
    return model.to(device).eval(), meta
