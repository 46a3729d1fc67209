"""The world-model families, found through one explicit table (no import side effects), and the
loader that turns a run folder into a `WorldModel` without importing the training loop.

A family is a folder under `models/` whose `__init__` defines `FAMILY`: its model config class,
its network, its `WorldModel` adapter and the tokenizer kind it needs. Adding a family is one line
in `FAMILIES` plus that folder (and a preset table in `recipes.world` to train it)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..config import Config, ConfigError, merge, parse_sets, validate
from .base import WorldModel

FAMILIES: dict[str, str] = {
    "pixel": "orrery.models.pixel",
    "latent": "orrery.models.latent",
    "autoregressive": "orrery.models.autoregressive",
    "deterministic": "orrery.models.deterministic",
}

# Names that run folders written before the families were split use for their `kind`.
LEGACY_KINDS = {"diffusion": "pixel", "latent_diffusion": "latent"}


@dataclass(frozen=True)
class Family:
    name: str
    summary: str
    config: type[Config]  # the model config (defaults = the tiny preset)
    net: Callable  # config -> torch.nn.Module with loss(batch, generator)
    adapter: Callable  # (net, tokenizer | None, seed, device) -> WorldModel
    tokenizer: Literal["continuous", "fsq"] | None  # the frozen tokenizer it needs, if any


def get_family(name: str) -> Family:
    """The family called `name`; ConfigError naming the choices otherwise."""
    if name not in FAMILIES:
        raise ConfigError("family", f"unknown world-model family {name!r}; choose one of {', '.join(FAMILIES)}")
    return importlib.import_module(FAMILIES[name]).FAMILY


def upgrade_config(conf: dict) -> dict:
    """A run config written before the families were split -> today's layout (kind = family name).
    The pixel model's old `deterministic` head is now the `deterministic` family."""
    kind = conf.get("kind")
    if kind not in LEGACY_KINDS:
        return conf
    conf = dict(conf, kind=LEGACY_KINDS[kind])
    model = dict(conf.get("model") or {})
    if conf["kind"] == "pixel" and model.get("head") == "deterministic":
        conf["kind"] = "deterministic"
        keep = set(get_family("deterministic").config.model_fields)
        model = {k: v for k, v in model.items() if k in keep}
    conf["model"] = model
    return conf


def check_tokenizer(family: Family, tokenizer, where: str | Path) -> None:
    """Refuse a tokenizer of the wrong kind. One that compresses time (s_t > 1) is rolled out in
    latent chunks of s_t frames (`models.chunks`)."""
    if family.tokenizer == "fsq" and getattr(tokenizer, "fsq", None) is None:
        raise ValueError(f"tokenizer {where}: the {family.name} family needs a discrete (FSQ) tokenizer")
    if family.tokenizer == "continuous" and getattr(tokenizer, "fsq", None) is not None:
        raise ValueError(f"tokenizer {where}: the {family.name} family needs a continuous tokenizer")


def load_world_model(run: str | Path, step: int | None = None, device: str = "cpu", seed: int = 0,
                     overrides: Sequence[str] = ()) -> WorldModel:
    """A trained run folder (or its inference export) -> a WorldModel with the EMA weights.

    `overrides` change inference settings of the model config (e.g. 'steps=2', 'temperature=0')."""
    from ..checkpoint import EXPORT_SIDECAR, load_checkpoint, load_export, load_weights, model_weights

    run = Path(run)
    exported = run.suffix in (".json", ".safetensors") or (
        (run / EXPORT_SIDECAR).exists() and not (run / "checkpoints").is_dir())
    if exported and step is not None:
        raise ValueError(f"{run}: an inference export holds one step; give the run folder for step {step}")
    ckpt = load_export(run) if exported else load_checkpoint(run, step)
    if exported and run.is_file():
        run = run.parent
    conf = upgrade_config(ckpt.sidecar.get("config") or {})
    kind = conf.get("kind")
    if kind not in FAMILIES:
        raise ValueError(f"{run}: not a world-model run (kind {kind!r}; families: {', '.join(FAMILIES)})")
    family = get_family(kind)
    cfg = validate(family.config, merge(conf.get("model") or {}, parse_sets(list(overrides))), "model")
    net = family.net(cfg)
    where = run / "model.safetensors" if exported else run / "checkpoints" / f"step-{ckpt.step}.safetensors"
    load_weights(net, model_weights(ckpt), where)
    tokenizer = None
    if family.tokenizer is not None:
        from ..tokenizer.checkpoint import load_tokenizer

        where = conf.get("tokenizer") or ""
        if not where or not Path(where).exists():
            raise FileNotFoundError(f"{run}: its tokenizer {where or '(not recorded)'} is missing; the run "
                                    "needs the tokenizer folder it was trained with at that path")
        tokenizer, _ = load_tokenizer(where)
        check_tokenizer(family, tokenizer, where)
    model = family.adapter(net, tokenizer, seed, device)
    model.run_dir = str(run)
    model.inputs = (ckpt.sidecar.get("extra") or {}).get("inputs")
    # what names these predictions: the weights (step and sidecar), the inference settings, the seed
    model.identity = {"run": str(Path(run).resolve()), "step": ckpt.step, "sidecar": ckpt.sidecar_sha256,
                      "overrides": list(overrides), "seed": seed}
    return model
