"""Checkpoints: `checkpoints/step-N.safetensors` (weights, EMA weights, optimiser state, RNG state)
plus `step-N.json` (config, data fingerprint, step, code version, and whatever the model needs to
be used again, e.g. a latent normalisation).

The JSON sidecar is written last and acts as the commit marker: a checkpoint without it (a run
killed mid-write) is ignored by `latest_checkpoint`. Both files are written atomically. No pickle:
the optimiser state is flattened into named tensors, its hyper-parameters go to the sidecar."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .data.atomic import atomic_path, write_text
from .data.jsonfile import load_json

FORMAT = 1
_NAME = re.compile(r"^step-(\d+)\.json$")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """orrery's version, plus the git commit (and '-dirty') when the package sits in a checkout."""
    from orrery import __version__

    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5)
        if rev.returncode != 0:
            return __version__
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return f"{__version__}+g{rev.stdout.strip()}{'-dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return __version__


@dataclass
class Checkpoint:
    step: int
    tensors: dict[str, torch.Tensor]
    sidecar: dict[str, Any]
    sidecar_sha256: str = ""  # of the sidecar's bytes: names these weights (step, config, creation time)

    def state(self, prefix: str) -> dict[str, torch.Tensor]:
        """The tensors under `prefix.` with the prefix removed (e.g. 'ema' -> a model state dict)."""
        p = prefix + "."
        return {k[len(p):]: v for k, v in self.tensors.items() if k.startswith(p)}


def _flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"optim.{idx}.{k}"] = v
            else:
                scalars.setdefault(str(idx), {})[k] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, v in tensors.items():
        if not name.startswith("optim."):
            continue
        _, idx, key = name.split(".", 2)
        state.setdefault(int(idx), {})[key] = v
    for idx, sc in meta.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(sc)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(run_dir: str | Path, step: int, model: torch.nn.Module, *, ema: torch.nn.Module | None,
                    optimizer: torch.optim.Optimizer | None, generator: torch.Generator | None,
                    config: dict, data_fingerprint: str, extra: dict | None = None,
                    elapsed_s: float = 0.0, keep_last: int = 2) -> Path:
    """Write step-N.{safetensors,json} atomically; keep only the newest `keep_last` checkpoints."""
    folder = Path(run_dir) / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    # clone+contiguous: safetensors refuses views and tied (shared-storage) tensors.
    tensors = {f"model.{k}": v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    if ema is not None:
        tensors.update({f"ema.{k}": v.detach().cpu().contiguous().clone() for k, v in ema.state_dict().items()})
    optim_meta = None
    if optimizer is not None:
        ot, optim_meta = _flatten_optimizer(optimizer)
        tensors.update({k: v.detach().cpu().contiguous().clone() for k, v in ot.items()})
    if generator is not None:
        tensors["rng.generator"] = generator.get_state().clone()
    weights = folder / f"step-{step}.safetensors"
    with atomic_path(weights) as tmp:
        save_file(tensors, str(tmp))
    sidecar = {"format": FORMAT, "step": step, "config": config, "data_fingerprint": data_fingerprint,
               "code_version": code_version(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "elapsed_s": elapsed_s, "extra": extra or {}, "optimizer": optim_meta,
               "has_ema": ema is not None}
    write_text(folder / f"step-{step}.json", json.dumps(sidecar, indent=2, sort_keys=True))
    for old in list_checkpoints(run_dir)[:-keep_last] if keep_last > 0 else []:
        (folder / f"step-{old}.json").unlink(missing_ok=True)
        (folder / f"step-{old}.safetensors").unlink(missing_ok=True)
    return weights


def list_checkpoints(run_dir: str | Path) -> list[int]:
    """Steps of complete checkpoints (sidecar and weights both present), ascending."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    steps = []
    for p in folder.iterdir():
        m = _NAME.match(p.name)
        if m and (folder / f"step-{m.group(1)}.safetensors").exists():
            steps.append(int(m.group(1)))
    return sorted(steps)


def latest_checkpoint(run_dir: str | Path) -> int | None:
    steps = list_checkpoints(run_dir)
    return steps[-1] if steps else None


class CorruptCheckpoint(ValueError):
    """A checkpoint file that does not read (truncated, overwritten, not safetensors); the message
    names the file."""


def load_checkpoint(run_dir: str | Path, step: int | None = None) -> Checkpoint:
    """Load step N (default: the latest complete one). A run folder or a checkpoints/ folder works.
    A file that does not read is a `CorruptCheckpoint` naming it."""
    run_dir = Path(run_dir)
    if run_dir.name == "checkpoints" and not (run_dir / "checkpoints").exists():
        run_dir = run_dir.parent
    if step is None:
        step = latest_checkpoint(run_dir)
        if step is None:
            raise FileNotFoundError(f"{run_dir}: no complete checkpoint in {run_dir / 'checkpoints'}")
    folder = run_dir / "checkpoints"
    side = folder / f"step-{step}.json"
    weights = folder / f"step-{step}.safetensors"
    if not side.exists():
        raise FileNotFoundError(f"{side}: no such checkpoint")
    raw = side.read_bytes()
    try:
        sidecar = load_json(raw, side)
    except ValueError as e:
        raise CorruptCheckpoint(str(e)) from None
    if not isinstance(sidecar, dict):
        raise CorruptCheckpoint(f"{side}: expected a JSON object")
    if sidecar.get("format") != FORMAT:
        raise CorruptCheckpoint(f"{side}: checkpoint format {sidecar.get('format')!r}, this code reads {FORMAT}")
    try:
        tensors = load_file(str(weights))
    except (OSError, ValueError, SafetensorError) as e:
        reason = " ".join(str(e).split())[:200]
        raise CorruptCheckpoint(f"{weights}: unreadable checkpoint ({reason})") from None
    return Checkpoint(step=step, tensors=tensors, sidecar=sidecar, sidecar_sha256=hashlib.sha256(raw).hexdigest())


def load_weights(module: torch.nn.Module, state: dict[str, torch.Tensor], where: str | Path,
                 strict: bool = True) -> None:
    """`module.load_state_dict(state)`, with a mismatch between the weights and the network built
    from the config (missing or unexpected names, other shapes) as one ValueError naming `where`."""
    try:
        missing, unexpected = module.load_state_dict(state, strict=False)
    except RuntimeError as e:  # shapes: torch lists every mismatch on lines of its own
        lines = [ln.strip() for ln in str(e).splitlines() if "size mismatch" in ln]
        detail = lines[0] if lines else " ".join(str(e).split())[:200]
        raise ValueError(f"{where}: the weights do not fit the network its config builds ({detail}"
                         + (f"; and {len(lines) - 1} more" if len(lines) > 1 else "") + ")") from None
    if strict and (missing or unexpected):
        raise ValueError(f"{where}: the weights do not fit the network its config builds (missing "
                         f"{list(missing)[:3]}, unexpected {list(unexpected)[:3]}); was it written by another "
                         "version of orrery?")


def restore_optimizer(optimizer: torch.optim.Optimizer, ckpt: Checkpoint) -> None:
    meta = ckpt.sidecar.get("optimizer")
    if meta is None:
        raise ValueError(f"checkpoint step {ckpt.step} has no optimiser state (cannot resume training)")
    optimizer.load_state_dict(_unflatten_optimizer(ckpt.tensors, meta))


def model_weights(ckpt: Checkpoint, prefer_ema: bool = True) -> dict[str, torch.Tensor]:
    """The weights to use for inference: the EMA copy when present (and preferred), else the raw ones."""
    if prefer_ema and ckpt.sidecar.get("has_ema"):
        return ckpt.state("ema")
    return ckpt.state("model")


EXPORT_WEIGHTS, EXPORT_SIDECAR = "model.safetensors", "model.json"


def export_inference(run_dir: str | Path, step: int | None = None) -> Path:
    """The inference-only export of a run, beside its resumable checkpoints: RUN/model.safetensors
    (the weights to use, EMA when present, without optimiser state) and RUN/model.json (config,
    step, data fingerprint, code version, what the model expects of its inputs), written last as the
    commit marker. Copied alone, the two files load with `load_world_model` without the training
    stack."""
    run_dir = Path(run_dir)
    ckpt = load_checkpoint(run_dir, step)
    weights = {k: v.contiguous() for k, v in model_weights(ckpt).items()}
    with atomic_path(run_dir / EXPORT_WEIGHTS) as tmp:
        save_file(weights, str(tmp), metadata={"format": "orrery-inference", "step": str(ckpt.step)})
    side = {k: ckpt.sidecar.get(k) for k in ("format", "step", "config", "data_fingerprint", "code_version",
                                             "created", "extra")}
    side["weights"] = EXPORT_WEIGHTS
    side["from_checkpoint"] = f"checkpoints/step-{ckpt.step}"
    write_text(run_dir / EXPORT_SIDECAR, json.dumps(side, indent=2, sort_keys=True))
    return run_dir / EXPORT_SIDECAR


def load_export(where: str | Path) -> Checkpoint:
    """An inference export (a folder holding model.json + model.safetensors, or either file) as a
    Checkpoint whose `model.` tensors are the weights. A file that does not read is a
    `CorruptCheckpoint` naming it."""
    where = Path(where)
    folder = where.parent if where.name in (EXPORT_WEIGHTS, EXPORT_SIDECAR) else where
    side, weights = folder / EXPORT_SIDECAR, folder / EXPORT_WEIGHTS
    if not side.exists():
        raise FileNotFoundError(f"{folder}: no {EXPORT_SIDECAR} (neither a run folder with checkpoints nor an "
                                "inference export)")
    raw = side.read_bytes()
    try:
        sidecar = load_json(raw, side)
    except ValueError as e:
        raise CorruptCheckpoint(str(e)) from None
    if not isinstance(sidecar, dict) or sidecar.get("format") != FORMAT:
        raise CorruptCheckpoint(f"{side}: not an orrery inference export of format {FORMAT}")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as e:
        raise CorruptCheckpoint(f"{weights}: unreadable weights ({' '.join(str(e).split())[:160]})") from None
    sidecar["has_ema"] = False
    return Checkpoint(int(sidecar.get("step") or 0), {f"model.{k}": v for k, v in tensors.items()}, sidecar,
                      hashlib.sha256(raw).hexdigest())
