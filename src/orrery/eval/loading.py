"""What `--model` names: `baseline:NAME` or a training run folder, turned into a `WorldModel`."""

from __future__ import annotations

from pathlib import Path

from ..checkpoint import CorruptCheckpoint
from ..models.base import WorldModel


class ModelLoadError(ValueError):
    """The model named on the command line cannot be loaded; the message says which and why."""


def load_world_model(run_dir: str | Path, seed: int = 0, overrides: tuple[str, ...] = ()) -> WorldModel:
    """A trained world model from its run folder (`config.yaml` + `checkpoints/`).

    The world-model part owns the formats: this hook calls `orrery.models.registry.load_world_model`
    and says plainly when that does not exist or does not know the run's model type."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ModelLoadError(f"{run_dir}: not a folder (expected a run folder or baseline:NAME)")
    cfg = run_dir / "config.yaml"
    if not cfg.exists():
        raise ModelLoadError(f"{run_dir}: no config.yaml, so not a run folder made by `orrery train`")
    kind = _model_kind(cfg)
    from ..models.registry import load_world_model as load

    try:
        return load(run_dir, seed=seed, overrides=overrides)
    except CorruptCheckpoint:
        raise
    except (KeyError, ValueError, FileNotFoundError) as e:
        raise ModelLoadError(f"{run_dir}: model type {kind!r} is not loadable: {e}") from None


def _model_kind(cfg: Path) -> str:
    from ..config import ConfigError, load_yaml

    try:
        data = load_yaml(cfg, "run config") or {}
    except ConfigError as e:
        raise ModelLoadError(str(e)) from None
    if not isinstance(data, dict):
        return "unknown"
    if data.get("kind"):
        return str(data["kind"])
    model = data.get("model", {})
    if isinstance(model, dict):
        return str(model.get("type") or model.get("kind") or model.get("name") or "unknown")
    return str(model)


def resolve_model(spec: str, truth: dict | None = None, seed: int = 0, overrides: tuple[str, ...] = ()) -> WorldModel:
    """`baseline:NAME` -> that baseline (the oracle gets `truth`, clip key -> states); anything else
    is a run folder."""
    from ..models.baselines import BASELINES, make_baseline

    if spec.startswith("baseline:"):
        name = spec.split(":", 1)[1]
        try:
            return make_baseline(name, truth)
        except KeyError:
            raise ModelLoadError(f"--model {spec}: unknown baseline {name!r}; choose one of "
                                 f"{', '.join('baseline:' + b for b in BASELINES)}") from None
    return load_world_model(spec, seed, overrides)
