"""Saving and loading a tokenizer: weights in safetensors, and beside them a JSON sidecar with the
resolved config and the latent normalisation (mean/std per channel), so a diffusion model can use
the latents without the training run.

A run folder resolves to its export `tokenizer.safetensors` (written after training, with the
latent statistics) or, while training is still going, to the newest training checkpoint (EMA
weights, statistics not fitted yet: mean 0, std 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..checkpoint import CorruptCheckpoint, load_checkpoint, load_weights, model_weights
from ..config import ConfigError
from ..data.atomic import write_text, write_with
from ..data.jsonfile import read_json
from .config import config_from_dict
from .model import VideoTokenizer

EXPORT = "tokenizer.safetensors"


def sidecar_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def save_tokenizer(path: str | Path, model: VideoTokenizer, extra: dict[str, Any] | None = None) -> Path:
    """Write `path` (.safetensors) and its sidecar atomically; the sidecar is written last, so an
    export counts as complete only when both exist."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"checkpoint path {path}: must end in .safetensors")
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    write_with(path, lambda tmp: save_file(tensors, str(tmp)))
    meta = {"part": "tokenizer", "config": model.cfg.to_dict(),
            "latent_mean": model.latent_mean.tolist(), "latent_std": model.latent_std.tolist(),
            **(extra or {})}
    write_text(sidecar_path(path), json.dumps(meta, indent=1, sort_keys=True))
    return path


def _read_json(side: Path) -> dict[str, Any]:
    data = read_json(side)
    if not isinstance(data, dict):
        raise ValueError(f"{side}: expected a JSON object (a tokenizer sidecar)")
    return data


def _build(cfg_dict: Any, state: dict[str, torch.Tensor], where: Path) -> VideoTokenizer:
    if not isinstance(cfg_dict, dict):
        raise ValueError(f"{where}: no tokenizer config in the sidecar")
    try:
        cfg = config_from_dict(cfg_dict, "config")
    except ConfigError as e:
        raise ValueError(f"{where}: {e}") from None
    model = VideoTokenizer(cfg)
    load_weights(model, state, where)
    return model


def load_tokenizer(path: str | Path, device: str | torch.device = "cpu") -> tuple[VideoTokenizer, dict[str, Any]]:
    """An export (.safetensors with its .json) or a run folder -> (model in eval mode, sidecar)."""
    path = Path(path)
    if path.is_dir() and (path / EXPORT).exists():
        path = path / EXPORT
    if path.is_file():
        side = sidecar_path(path)
        if not side.exists():
            raise FileNotFoundError(f"tokenizer {path}: its sidecar {side.name} is missing")
        meta = _read_json(side)
        try:
            state = load_file(str(path), device="cpu")
        except (OSError, ValueError, SafetensorError) as e:
            raise CorruptCheckpoint(f"{path}: unreadable tokenizer weights ({' '.join(str(e).split())[:200]})") from None
        model = _build(meta.get("config"), state, path)
    elif path.is_dir():
        try:
            ckpt = load_checkpoint(path)
        except FileNotFoundError:
            raise FileNotFoundError(f"run {path}: no {EXPORT} and no complete training checkpoint") from None
        meta = ckpt.sidecar
        cfg = meta.get("config", {})
        model = _build(cfg.get("model") if isinstance(cfg, dict) else None, model_weights(ckpt), path)
    else:
        raise FileNotFoundError(f"tokenizer {path}: no such file or folder")
    return model.to(device).eval(), meta


def tokenizer_fingerprint(path: str | Path) -> str:
    """Names the tokenizer weights a world model was trained on (their sidecar's step and config)."""
    import hashlib

    _, meta = load_tokenizer(path)
    return hashlib.sha256(json.dumps({k: meta.get(k) for k in ("config", "step")}, sort_keys=True,
                                     default=str).encode()).hexdigest()[:12]
