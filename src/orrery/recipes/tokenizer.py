"""The tokenizer recipe: training a tokenizer with the shared loop (`orrery.train.train`): the run
config (model, data, train) and its presets, the clip datasets it reads, and the export that
follows training (EMA weights plus the latent normalisation, `RUN/tokenizer.safetensors` and its
`.json` sidecar)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ConfigDict, Field, model_validator
from torch.utils.data import Dataset

from ..checkpoint import code_version, load_checkpoint, load_weights, model_weights
from ..config import Config, ConfigError, load, to_dict
from ..data.lock import folder_lock
from ..sim.bouncing import bouncing_discs
from ..tokenizer.checkpoint import save_tokenizer
from ..tokenizer.config import PRESETS as MODEL_PRESETS
from ..tokenizer.config import TokenizerConfig
from ..tokenizer.model import VideoTokenizer
from ..tokenizer.stats import fit_latent_stats
from ..train import TrainConfig, train

SYNTHETIC = "synthetic"  # --data value: rendered bouncing discs instead of a dataset folder


class TokenizerDataConfig(Config):
    """What the tokenizer trains on. Dataset clips are cut into consecutive windows of `frames`."""

    model_config = ConfigDict(frozen=True)

    frames: int = Field(0, ge=0, description="frames per training window; 0 = 1 + 2 s_t")
    synthetic_clips: int = Field(256, ge=1, le=100_000, description="--data synthetic: clips rendered for "
                                                                     "training (and 1/8 as many for validation)")
    synthetic_frames: int = Field(17, ge=1, le=10_000, description="... their length")
    size: int = Field(64, ge=1, le=1024, description="... and side in pixels")
    objects: int = Field(3, ge=1, le=64, description="... discs per clip")
    cache: bool = Field(True, description="keep decoded dataset clips in memory")


class TokenizerRunConfig(Config):
    model_config = ConfigDict(frozen=True)

    model: TokenizerConfig = Field(default_factory=TokenizerConfig)
    data: TokenizerDataConfig = Field(default_factory=TokenizerDataConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

    @model_validator(mode="after")
    def _check(self):
        s_t = self.model.time_factor
        if self.data.frames and (self.data.frames - 1) % s_t:
            raise ConfigError("data.frames", f"must be 1 + k * {s_t} for compression {self.model.compression}, "
                                             f"got {self.data.frames}")
        if self.data.size % self.model.space_factor:
            raise ConfigError("data.size", f"must be a multiple of {self.model.space_factor} for compression "
                                           f"{self.model.compression}, got {self.data.size}")
        return self

    @property
    def window(self) -> int:
        return self.data.frames or 1 + 2 * self.model.time_factor


PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"model": MODEL_PRESETS["tiny"],
             "train": {"steps": 1500, "batch_size": 8, "lr": 2e-3, "weight_decay": 0.0, "ema_decay": 0.999,
                       "val_every": 250, "val_batches": 2, "ckpt_every": 250, "log_every": 25}},
    "small": {"model": MODEL_PRESETS["small"],
              "train": {"steps": 20000, "batch_size": 32, "lr": 1e-3, "val_every": 1000, "ckpt_every": 2000}},
    "base": {"model": MODEL_PRESETS["base"],
             "train": {"steps": 100000, "batch_size": 64, "lr": 5e-4, "val_every": 2000, "ckpt_every": 5000}},
}


def resolve_config(preset: str = "tiny", config: str | Path | None = None,
                   sets: Sequence[str] = ()) -> TokenizerRunConfig:
    """defaults <- preset <- --config FILE <- --set a.b=value, validated (errors name the field path)."""
    return load(TokenizerRunConfig, config, sets, PRESETS, preset)


class ClipWindows(Dataset):
    """Consecutive windows of `window` frames of each clip of a dataset split: item i is
    {'frames': uint8 [window, H, W, 3]} (and 'masks' uint8 [window, H, W] with `masks=True`; a
    clip stored without masks is then an error naming it). Clips shorter than the window are
    skipped, and said so."""

    def __init__(self, clips: Any, window: int, masks: bool = False):
        self.clips, self.window, self.masks = clips, window, masks
        self.index: list[tuple[int, int]] = []
        self.skipped = 0
        for i in range(len(clips)):
            if masks and not clips.store.has_member(i, "masks.npz"):
                raise ValueError(f"clip {clips.store.rows[i]['key']}: stored without instance masks, which "
                                 "model.colour_weight/object_weight need; set both to 0 for this data")
            t = int(clips.store.rows[i].get("n_frames") or clips[i]["frames"].shape[0])
            if t < window:
                self.skipped += 1
            self.index += [(i, s) for s in range(0, t - window + 1, window)]
        if not self.index:
            raise ValueError(f"no clip has {window} frames (the training window); lower data.frames")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, j: int) -> dict:
        i, s = self.index[j]
        item = self.clips[i]
        out = {"frames": item["frames"][s:s + self.window]}
        if self.masks:
            out["masks"] = item["masks"][s:s + self.window]
        return out


class ArrayClips(Dataset):
    """Clips held in memory: uint8 [N, T, H, W, 3] (and masks [N, T, H, W]) -> items {'frames':
    uint8 [T, H, W, 3]} (and 'masks')."""

    def __init__(self, frames: np.ndarray, masks: np.ndarray | None = None):
        self.frames = torch.from_numpy(np.ascontiguousarray(frames))
        self.masks = None if masks is None else torch.from_numpy(np.ascontiguousarray(masks))

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> dict:
        if self.masks is None:
            return {"frames": self.frames[i]}
        return {"frames": self.frames[i], "masks": self.masks[i]}


def collate_frames(items: list[dict]) -> torch.Tensor | dict[str, torch.Tensor]:
    """Items {'frames' [T, H, W, 3]} -> uint8 [B, T, H, W, 3] (metadata is not needed to train);
    items that carry masks -> {'frames', 'masks' [B, T, H, W]}."""
    frames = torch.stack([it["frames"] for it in items])
    if "masks" not in items[0]:
        return frames
    return {"frames": frames, "masks": torch.stack([it["masks"] for it in items])}


def _dataset_fingerprint(root: Path) -> str:
    h = hashlib.sha256((root / "manifest.parquet").read_bytes())
    return "manifest-sha256:" + h.hexdigest()[:16]


def make_datasets(data: str | Path, cfg: TokenizerRunConfig) -> tuple[Dataset, Dataset | None, str]:
    """(train set, validation set or None, data fingerprint) for `--data` (a folder or 'synthetic')."""
    d = cfg.data
    need_masks = cfg.model.needs_masks
    if str(data) == SYNTHETIC:
        n_frames = max(d.synthetic_frames, cfg.window)
        seed = cfg.train.seed
        tr = bouncing_discs(d.synthetic_clips, n_frames, d.size, np.random.default_rng([seed, 0]), n_objects=d.objects)
        va = bouncing_discs(max(1, d.synthetic_clips // 8), n_frames, d.size, np.random.default_rng([seed, 1]),
                            n_objects=d.objects)
        starts = range(0, n_frames - cfg.window + 1, cfg.window)
        windows = [c[s:s + cfg.window] for c in tr.frames for s in starts]
        masks = np.stack([m[s:s + cfg.window] for m in tr.masks for s in starts]) if need_masks else None
        fp = f"synthetic:{d.synthetic_clips}x{n_frames}x{d.size}:objects={d.objects}:seed={seed}"
        return (ArrayClips(np.stack(windows), masks),
                ArrayClips(va.frames[:, :cfg.window], va.masks[:, :cfg.window] if need_masks else None), fp)
    from ..data.dataset import open_dataset

    root = Path(data)
    if not (root / "manifest.parquet").exists():
        raise FileNotFoundError(f"--data {root}: not a dataset folder (no manifest.parquet); "
                                f"make one with `orrery simulate`, or pass --data {SYNTHETIC}")
    train_set = ClipWindows(open_dataset(root, "train", cache=d.cache), cfg.window, need_masks)
    first = train_set[0]["frames"]
    s = cfg.model.space_factor
    if first.shape[1] % s or first.shape[2] % s:
        raise ValueError(f"--data {root}: frames are {first.shape[1]}x{first.shape[2]}, not multiples of "
                         f"{s} (compression {cfg.model.compression})")
    try:
        val_clips = open_dataset(root, "val", cache=d.cache)
    except ValueError:  # no validation split in this dataset: train without validation
        return train_set, None, _dataset_fingerprint(root)
    try:
        val_set = ClipWindows(val_clips, cfg.window, need_masks)
    except ValueError as e:
        if "masks" in str(e):
            raise
        val_set = None  # validation clips shorter than the window
    return train_set, val_set, _dataset_fingerprint(root)


def export_tokenizer(run_dir: Path, cfg: TokenizerRunConfig, train_set: Dataset, fingerprint: str,
                     stat_batches: int = 16) -> Path:
    """Load the run's newest checkpoint (EMA weights), fit the latent normalisation on training
    batches, and write RUN/tokenizer.safetensors + .json (config, latent mean/std, step, data)."""
    ckpt = load_checkpoint(run_dir)
    model = VideoTokenizer(cfg.model)
    load_weights(model, model_weights(ckpt), run_dir / "checkpoints" / f"step-{ckpt.step}.safetensors")
    model.eval()
    n = min(len(train_set), stat_batches * cfg.train.batch_size)
    batches = (torch.stack([train_set[i]["frames"] for i in range(j, min(n, j + cfg.train.batch_size))])
               for j in range(0, n, cfg.train.batch_size))
    if cfg.model.kind == "continuous":
        fit_latent_stats(model, batches)
    extra = {"step": ckpt.step, "data_fingerprint": fingerprint, "code_version": code_version(),
             "run_config": to_dict(cfg)}
    return save_tokenizer(run_dir / "tokenizer.safetensors", model, extra)


def build_model(cfg: TokenizerConfig, seed: int) -> VideoTokenizer:
    """A freshly initialised tokenizer whose weights depend on `seed` only. torch's initialisers
    draw from the global generator, so it is forked (and restored) around them."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return VideoTokenizer(cfg)


def train_tokenizer(data: str | Path, cfg: TokenizerRunConfig, run_dir: str | Path, *, progress: bool = True,
                    stop_after: int | None = None) -> dict[str, Any]:
    """Train (or resume) a tokenizer into `run_dir` and export it. Returns a summary."""
    run_dir = Path(run_dir)
    train_set, val_set, fingerprint = make_datasets(data, cfg)
    model = build_model(cfg.model, cfg.train.seed)
    with ExitStack() as stack:
        if int(os.environ.get("RANK", "0")) == 0:  # the export after training is written under the lock too
            stack.enter_context(folder_lock(run_dir, "tokenizer training"))
        result = train(model, train_set, val_set, cfg.train, run_dir, config=cfg, data_fingerprint=fingerprint,
                       collate_fn=collate_frames, progress=progress, stop_after=stop_after)
        path = export_tokenizer(run_dir, cfg, train_set, fingerprint)
    return {"run": str(run_dir), "step": result.step, "elapsed_s": result.elapsed_s,
            "samples_per_s": result.samples_per_s, "last": result.last, "tokenizer": str(path),
            "train_items": len(train_set), "skipped_clips": getattr(train_set, "skipped", 0),
            "stopped_by": result.stopped_by, "reason": result.reason}
