"""Recipes for world models: the one place that knows both a model family and the training loop.

For each family: its run config (`kind` = the family, the tokenizer it was trained on, model, data,
train), its presets, its training set, and `train_world()`. Model config defaults are the `tiny`
preset (see each family's config class); a preset lists only what differs, and the `train`
numbers of every preset."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, create_model

from ..checkpoint import export_inference
from ..config import Config, ConfigError, load
from ..data.manifest import describe
from ..models.registry import FAMILIES, Family, check_tokenizer, get_family
from ..train import TrainConfig, TrainResult, train
from .chunks import chunk_sequences
from .windows import Windows, clips_of, collate, data_fingerprint, data_shape


class DataConfig(Config):
    val_split: str = Field("val", description="validation split ('' = none)")
    stride: int = Field(1, ge=1, description="between window starts")
    horizon: int = Field(12, ge=1, description="over a tokenizer that compresses time: video frames each "
                                               "training window rolls out (ceil(horizon / s_t) latent chunks)")


class InitConfig(Config):
    """Post-training: start from another run's weights instead of a fresh initialisation."""

    run: str = Field("", description="run folder whose weights start this run ('' = fresh weights)")
    step: int | None = Field(None, ge=0, description="its checkpoint step (default: the latest)")
    freeze: tuple[str, ...] = Field((), description="parameter-name prefixes kept fixed, e.g. mean_net.down")


# The tiny presets train in ~10 minutes on 2 laptop CPU cores (measured in docs/models.md); the
# others differ only in numbers. No wall-clock cap: a run's result must not depend on machine load.
_TINY_TRAIN = {"steps": 1200, "batch_size": 32, "lr": 1e-3, "warmup": 0.03, "ema_decay": 0.995,
               "val_every": 200, "ckpt_every": 200}
_SMALL_TRAIN = {"steps": 20000, "batch_size": 64, "lr": 5e-4, "ema_decay": 0.999, "val_every": 1000,
                "ckpt_every": 1000}
_BASE_TRAIN = {"steps": 100000, "batch_size": 128, "lr": 3e-4, "ema_decay": 0.9995, "val_every": 2000,
               "ckpt_every": 2000}
# One model for every law (specs/foundation.yaml, docs/foundation.md). The tiny network (a CPU
# budget) trained for longer: tiny's 1,200 steps x 32 windows show each of the quickstart's 2 laws
# ~19k windows; 11 laws at that exposure need 11 / 2 x 1,200 = 6,600 steps, rounded to 6,000 because
# the laws share motion (gravity, contact) and the data is 5.5x larger, so no pass repeats more
# often than tiny's. Same peak lr and warmup share as tiny (same network and batch); the EMA
# averages over ~1/(1 - 0.998) = 500 steps, the same ~8% of the run as tiny's 0.995 over 1,200
# steps; validation and checkpoints every 500 steps (12 of each; a kill loses at most ~4-5 minutes of CPU).
_FOUNDATION_TRAIN = {"steps": 6000, "batch_size": 32, "lr": 1e-3, "warmup": 0.03, "ema_decay": 0.998,
                     "val_every": 500, "ckpt_every": 500}
# The 64 px variant (specs/foundation-64.yaml) on one GPU: the `small` widths (a 64 px frame has 4x
# the pixels, and 11 laws need more capacity than 2), batch 64 like `small`; 40,000 steps = 2x
# small's 20,000 because the data has 11 laws and 4x small's clips per law; lr and EMA as `small`
# (ema horizon 1,000 steps = 2.5% of the run); checkpoints every 2,000 steps.
_FOUNDATION_64_TRAIN = {"steps": 40000, "batch_size": 64, "lr": 5e-4, "ema_decay": 0.999, "val_every": 2000,
                        "ckpt_every": 2000}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "pixel": {
        "tiny": {"train": _TINY_TRAIN},
        # the pure diffusion head models whole frames (std ~0.5), the hybrid's only residuals (~0.1)
        "tiny-diffusion": {"model": {"head": "diffusion", "sigma_max": 10.0,
                                     "denoiser": {"kind": "edm", "sigma_data": 0.5, "p_mean": -1.2, "p_std": 1.2}},
                           "train": _TINY_TRAIN},
        "small": {"model": {"channels": [64, 128, 128], "residual_channels": [32, 64, 64], "cond_dim": 128,
                            "blocks": 2, "text_dim": 128}, "train": _SMALL_TRAIN},
        "base": {"model": {"channels": [128, 256, 256, 512], "residual_channels": [64, 128, 128, 256],
                           "cond_dim": 256, "blocks": 2, "text_dim": 256}, "train": _BASE_TRAIN},
        "foundation": {"train": _FOUNDATION_TRAIN},
        "foundation-64": {"model": {"channels": [64, 128, 128], "residual_channels": [32, 64, 64], "cond_dim": 128,
                                    "blocks": 2, "text_dim": 128}, "train": _FOUNDATION_64_TRAIN},
    },
    "deterministic": {
        "tiny": {"train": _TINY_TRAIN},
        "small": {"model": {"channels": [64, 128, 128], "cond_dim": 128, "blocks": 2, "text_dim": 128},
                  "train": _SMALL_TRAIN},
        "base": {"model": {"channels": [128, 256, 256, 512], "cond_dim": 256, "blocks": 2, "text_dim": 256},
                 "train": _BASE_TRAIN},
        "foundation": {"train": _FOUNDATION_TRAIN},
        "foundation-64": {"model": {"channels": [64, 128, 128], "cond_dim": 128, "blocks": 2, "text_dim": 128},
                          "train": _FOUNDATION_64_TRAIN},
    },
    "latent": {
        "tiny": {"train": {**_TINY_TRAIN, "lr": 5e-4}},
        # the DiT as a deterministic mean of the next latent (no diffusion), one unrolled step: on
        # the 32 px quickstart data it beats the pure-diffusion DiT at every horizon (docs/models.md)
        "tiny-mean": {"model": {"head": "mean", "unroll": 2}, "train": {**_TINY_TRAIN, "lr": 5e-4}},
        "small": {"model": {"d_model": 384, "depth": 8, "heads": 6, "cond_dim": 256, "text_dim": 128},
                  "train": {**_SMALL_TRAIN, "lr": 3e-4}},
        "base": {"model": {"d_model": 768, "depth": 12, "heads": 12, "cond_dim": 512, "text_dim": 256, "patch": 2},
                 "train": {**_BASE_TRAIN, "lr": 2e-4}},
    },
    "autoregressive": {
        "tiny": {"train": {**_TINY_TRAIN, "batch_size": 16, "weight_decay": 0.05}},
        "small": {"model": {"gpt": {"d_model": 384, "n_layer": 8, "n_head": 6, "text_dim": 128}},
                  "train": _SMALL_TRAIN},
        "base": {"model": {"gpt": {"d_model": 768, "n_layer": 12, "n_head": 12, "text_dim": 256}},
                 "train": _BASE_TRAIN},
    },
}
assert set(PRESETS) == set(FAMILIES), "every family needs a preset table"


@functools.cache
def run_config_class(family: str) -> type[Config]:
    """The run config of a family: {kind, tokenizer, model, data, train}."""
    fam = get_family(family)
    return create_model(f"{fam.config.__name__.removesuffix('Config')}RunConfig", __base__=Config,
                        kind=(Literal[family], family),
                        tokenizer=(str, Field("", description="the frozen tokenizer's folder (latent families)")),
                        init=(InitConfig, Field(default_factory=InitConfig)),
                        model=(fam.config, Field(default_factory=fam.config)),
                        data=(DataConfig, Field(default_factory=DataConfig)),
                        train=(TrainConfig, Field(default_factory=TrainConfig)))


def resolve_world_config(family: str, preset: str = "tiny", config: str | Path | None = None,
                         sets: Sequence[str] = ()):
    """class defaults <- preset <- --config FILE <- --set items, validated."""
    get_family(family)
    return load(run_config_class(family), config, sets, PRESETS[family], preset)


def _encoder(fam: Family, tokenizer_path: str | Path | None, device: str = "cpu"):
    """(frames [N, T, H, W, 3] -> sequences [N, L, ...] (on the CPU) or None, the tokenizer or None,
    its fingerprint) for the family. The tokenizer encodes on `device` (the training device: a
    tokenizer that compresses time encodes every training window, not every clip once)."""
    if fam.tokenizer is None:
        if tokenizer_path is not None:
            raise ConfigError("tokenizer", f"the {fam.name} family works on pixels; it takes no --tokenizer")
        return None, None, ""
    if tokenizer_path is None:
        raise ConfigError("tokenizer", f"the {fam.name} family needs --tokenizer RUN (a {fam.tokenizer} "
                                       "tokenizer from `orrery train tokenizer`)")
    import os

    import torch

    from ..tokenizer.checkpoint import load_tokenizer, tokenizer_fingerprint
    from ..tokenizer.model import to_video
    from ..train.device import pick_device

    dev = pick_device(device)
    if dev.type == "cuda" and dev.index is None and "LOCAL_RANK" in os.environ:  # under torchrun: this rank's GPU
        dev = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    tok, _ = load_tokenizer(tokenizer_path, dev)
    check_tokenizer(fam, tok, tokenizer_path)

    def encode(frames):
        with torch.no_grad():
            video = to_video(frames).to(tok.latent_mean.device)
            if fam.tokenizer == "fsq":
                return tok.encode_indices(video).to(torch.int32).cpu()  # [N, T, h, w]
            return tok.normalize(tok.encode(video)).permute(0, 2, 1, 3, 4).cpu()  # [N, T, C, h, w]

    return encode, tok, tokenizer_fingerprint(tokenizer_path)


def _windows(clips, cfg, field: str, encode, tok, action_dim: int, future: int = 1) -> Windows:
    """The training windows of a family: frames, or latents/tokens of each clip encoded once, or,
    over a tokenizer that compresses time, padded windows encoded alone (`recipes.chunks`)."""
    tc = cfg.model.context
    if tok is None or tok.cfg.time_factor == 1:
        per_clip = None if encode is None else (lambda f: encode(f[None])[0])
        return Windows(clips, tc, future, cfg.data.stride, field, per_clip, action_dim)
    import torch

    from ..models.chunks import latent_context

    s_t = tok.cfg.time_factor
    seqs = chunk_sequences(clips, encode, s_t, tc, cfg.data.horizon, cfg.data.stride)
    return Windows(seqs, latent_context(tc, s_t), 1, 1, field, torch.as_tensor, action_dim)


_FIELD = {None: "frames", "continuous": "latents", "fsq": "tokens"}


def train_world(data: str | Path, out: str | Path, family: str = "pixel", preset: str = "tiny",
                config: str | Path | None = None, sets: Sequence[str] = (), tokenizer: str | Path | None = None,
                init: str | Path | None = None, progress: bool = True, stop_after: int | None = None) -> TrainResult:
    """Train a world model of `family` on a dataset folder into run folder `out` (resumes it).
    `init` (or `init.run` in the config) starts from another run's weights (post-training)."""
    fam = get_family(family)
    cfg = resolve_world_config(family, preset, config, sets)
    if init is not None:
        cfg.init = cfg.init.model_copy(update={"run": str(Path(init).resolve())})
    encode, tok, tok_fp = _encoder(fam, tokenizer, cfg.train.device)
    if tokenizer is not None:
        cfg.tokenizer = str(Path(tokenizer).resolve())
    future = getattr(cfg.model, "unroll", 1)
    field = _FIELD[fam.tokenizer]
    a = _action_dim(fam, cfg)
    clips = clips_of(data, "train")
    inputs = {"context": cfg.model.context, **data_shape(data, "train", clips)}  # what a rollout must match
    windows = _windows(clips, cfg, field, encode, tok, a, future)
    val = None
    if cfg.data.val_split:
        try:
            val = _windows(clips_of(data, cfg.data.val_split), cfg, field, encode, tok, windows.action_dim)
        except ValueError:
            val = None  # a dataset without that split (or with clips too short) trains without validation
    _fit_to_data(fam, cfg, windows, tok)
    net = build_net(fam, cfg)
    lineage = load_init(net, fam, cfg)
    lineage = _resumed_lineage(out) or lineage  # a resumed run's weights came from what its checkpoints say
    fingerprint = data_fingerprint(data) + (f":{tok_fp}" if tok_fp else "")
    result = train(net, windows, val, cfg.train, out, config=cfg, data_fingerprint=fingerprint, collate_fn=collate,
                   progress=progress, stop_after=stop_after,
                   extra={"inputs": inputs, "training_data": describe(data, "train"),
                          **({"lineage": lineage} if lineage else {})})
    if int(os.environ.get("RANK", "0")) == 0:  # beside the checkpoints: weights + config for inference only
        export_inference(out, result.step)
    return result


def load_init(net, fam: Family, cfg) -> list[dict]:
    """Load `cfg.init.run`'s weights into net (raw weights, not the EMA: training continues from
    where that run's optimiser was), freeze the named parameters, and return the lineage: the init
    run's own lineage plus itself."""
    if not cfg.init.run:
        return []
    from ..checkpoint import load_checkpoint
    from ..models.registry import upgrade_config

    where = Path(cfg.init.run)
    ckpt = load_checkpoint(where, cfg.init.step)
    conf = upgrade_config(ckpt.sidecar.get("config") or {})
    if conf.get("kind") != fam.name:
        raise ConfigError("init.run", f"{where} is a {conf.get('kind')!r} run; a {fam.name} model can only start "
                                      f"from a {fam.name} run")
    theirs, ours = _action_size(fam, conf.get("model") or {}), _action_size(fam, cfg.model.model_dump())
    if theirs != ours:
        raise ConfigError("init.run", f"{where} takes {theirs} action values per step, this data and model "
                                      f"{ours}; pretrain with --set model.action_dim={ours} to post-train on "
                                      "data with actions")
    state = ckpt.state("model")
    mine = net.state_dict()
    bad = [k for k, v in state.items() if k in mine and mine[k].shape != v.shape]
    missing = [k for k in mine if k not in state]
    if bad or missing:
        raise ConfigError("init.run", f"{where} step {ckpt.step}: its weights do not fit this model "
                                      f"(shape differs: {bad[:3]}, missing: {missing[:3]}); use the same model settings")
    net.load_state_dict(state)
    frozen = 0
    for name, p in net.named_parameters():
        if any(name.startswith(prefix) for prefix in cfg.init.freeze):
            p.requires_grad_(False)
            frozen += 1
    if cfg.init.freeze and not frozen:
        raise ConfigError("init.freeze", f"{list(cfg.init.freeze)} names no parameter of this model")
    before = (ckpt.sidecar.get("extra") or {}).get("lineage", [])
    return [*before, {"run": str(where), "step": ckpt.step, "data_fingerprint": ckpt.sidecar.get("data_fingerprint"),
                      "frozen": list(cfg.init.freeze)}]


def _action_dim(fam: Family, cfg) -> int:
    """The action size the network is built for besides the data's: `model.action_dim` when set,
    else the init run's (a model pretrained with an action input keeps it for post-training on
    data without actions, and one pretrained without push can be post-trained on it when
    pretrained with `--set model.action_dim=2`); 0 = the data decides."""
    mine = _action_size(fam, cfg.model.model_dump())
    if mine or not cfg.init.run:
        return mine
    import json

    from ..checkpoint import latest_checkpoint

    where = Path(cfg.init.run)
    step = cfg.init.step if cfg.init.step is not None else latest_checkpoint(where)
    side = where / "checkpoints" / f"step-{step}.json"
    if step is None or not side.exists():
        return 0  # load_init reports the missing checkpoint
    return _action_size(fam, json.loads(side.read_text()).get("config", {}).get("model", {}))


def _action_size(fam: Family, model: dict) -> int:
    return int((model.get("gpt") or {}).get("action_dim", 0) if fam.name == "autoregressive"
               else model.get("action_dim", 0))


def _resumed_lineage(out: str | Path) -> list[dict]:
    """The lineage in the latest checkpoint of run folder `out` ([] for a fresh run): when the init
    run has been trained further since, a resumed run still records the weights it started from."""
    import json

    from ..checkpoint import latest_checkpoint

    step = latest_checkpoint(out) if Path(out).exists() else None
    if step is None:
        return []
    sidecar = json.loads((Path(out) / "checkpoints" / f"step-{step}.json").read_text())
    return (sidecar.get("extra") or {}).get("lineage", [])


def _fit_to_data(fam: Family, cfg, windows: Windows, tok) -> None:
    """Set the model config's data-dependent numbers (action size, latent grid, vocabulary)."""
    m = cfg.model
    if fam.name == "autoregressive":
        h, w = windows.item_shape
        m.time_factor = tok.cfg.time_factor
        m.gpt = m.gpt.model_copy(update={"vocab": tok.fsq.codebook_size, "tokens_per_frame": h * w,
                                         "max_frames": m.latent_context + 1, "action_dim": windows.action_dim,
                                         "text_dim": m.gpt.text_dim if m.text else 0})
    elif fam.name == "latent":
        c, h, w = windows.item_shape
        m.latent_channels, m.grid, m.action_dim = c, (h, w), windows.action_dim
        m.time_factor = tok.cfg.time_factor
    else:
        m.action_dim = windows.action_dim


def build_net(fam: Family, cfg):
    """A freshly initialised network whose weights depend on `train.seed` only: torch's initialisers
    draw from the global generator, so it is forked (and restored) around them."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.train.seed)
        return fam.net(cfg.model)
