"""`train()`: the one training loop for every trainable module (tokenizers, world models).

It owns the optimiser (AdamW), the warm-up + cosine schedule, gradient clipping, EMA, periodic
validation, checkpoints (safetensors + JSON sidecar), exact resume after a kill, `metrics.csv`, a
progress bar, mixed precision and DDP. The module only supplies `loss(batch, generator)`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset

from ..checkpoint import (
    Checkpoint,
    CorruptCheckpoint,
    list_checkpoints,
    load_checkpoint,
    load_weights,
    restore_optimizer,
    save_checkpoint,
)
from ..config import dump_yaml, to_dict
from ..data.atomic import clean_temporaries, write_text
from ..data.lock import folder_lock
from ..data.progress import Progress
from .batches import StepBatchSampler
from .config import TrainConfig
from .device import (
    Runtime,
    all_reduce_mean,
    autocast,
    enable_fast_math,
    maybe_compile,
    resolve_precision,
    setup_runtime,
    teardown_runtime,
)
from .ema import EMA
from .metrics import MetricsLog
from .protocol import LossModule, check_trainable
from .schedule import warmup_cosine
from .stop import INTERRUPTED, STEPS, STOP_AFTER, TIME_LIMIT, StopRequest, agree, final_line, say
from .tracking import Tracker


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    elapsed_s: float
    samples_per_s: float
    last: dict[str, float]
    stopped_by: str = STEPS  # steps | time_limit | stop_after (an interrupt raises KeyboardInterrupt)
    steps: int = 0  # train.steps, the target
    time_limit_min: float = 0.0

    @property
    def reason(self) -> str:
        """Why the run ended, in words."""
        return final_line(self.stopped_by, self.step, self.steps, self.time_limit_min)


# Keys of the resolved config that may change between a run and its resume.
RESUMABLE_CHANGES = ("train.steps", "train.time_limit_min", "train.device", "train.num_workers",
                     "train.val_every", "train.ckpt_every", "train.log_every", "train.compile",
                    "train.tensorboard")


def _flat(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def _to_device(batch: Any, device: torch.device) -> Any:
    if torch.is_tensor(batch):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)) and batch and torch.is_tensor(batch[0]):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


def step_generator(gen: torch.Generator, seed: int, rank: int, step: int) -> torch.Generator:
    """Reseed from (seed, rank, step): a resumed run draws exactly the noise it would have drawn."""
    return gen.manual_seed((seed * 1_000_003 + rank * 7_919 + step * 104_729) % (2**63 - 1))


def _check_resume(ckpt_cfg: dict, cfg_dict: dict, ckpt_fp: str, fingerprint: str, run_dir: Path) -> None:
    if ckpt_fp != fingerprint:
        raise ValueError(f"{run_dir}: the checkpoint was trained on other data (fingerprint {ckpt_fp}, "
                         f"now {fingerprint}); use a new --out folder")
    a, b = _flat(ckpt_cfg), _flat(cfg_dict)
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k not in RESUMABLE_CHANGES)
    if diff:
        shown = ", ".join(f"{k} ({a.get(k)!r} -> {b.get(k)!r})" for k in diff[:5])
        raise ValueError(f"{run_dir}: config differs from the checkpoint's in {shown}; "
                         "use a new --out folder or the same settings")


def train(model: torch.nn.Module, train_set: Dataset, val_set: Dataset | None, cfg: TrainConfig,
          run_dir: str | Path, *, config: Any, data_fingerprint: str, extra: dict | None = None,
          collate_fn: Callable | None = None, resume: bool = True, progress: bool = True,
          stop_after: int | None = None) -> TrainResult:
    """Train `model` (a module with `loss(batch, generator)`) into `run_dir`.

    config: the full resolved config (a dataclass) written to config.yaml and every sidecar.
    extra: JSON-able data stored in every sidecar (e.g. a latent normalisation).
    stop_after: stop (with a checkpoint) after this many steps of *this call*: a test's stand-in for
    a kill; the schedule still follows `cfg.steps`."""
    check_trainable(model)
    run_dir = Path(run_dir)
    rt = setup_runtime(cfg.device)
    with ExitStack() as stack:
        if rt.is_main:  # one training run per folder; rank 0 holds the lock for the job
            stack.enter_context(folder_lock(run_dir, "training run"))
        stop = stack.enter_context(StopRequest())
        return _train(model, train_set, val_set, cfg, run_dir, rt, stop, config=config,
                      data_fingerprint=data_fingerprint, extra=extra, collate_fn=collate_fn, resume=resume,
                      progress=progress, stop_after=stop_after)


def _resume_checkpoint(run_dir: Path, rt: Runtime) -> Checkpoint | None:
    """The newest checkpoint that reads. A corrupt newer one is set aside (renamed step-N.corrupt.*,
    on rank 0) and said so; training resumes from the one before it."""
    for step in reversed(list_checkpoints(run_dir)):
        try:
            return load_checkpoint(run_dir, step)
        except CorruptCheckpoint as e:
            if rt.is_main:
                folder = run_dir / "checkpoints"
                for ext in ("safetensors", "json"):
                    f = folder / f"step-{step}.{ext}"
                    if f.exists():
                        f.replace(folder / f"step-{step}.corrupt.{ext}")
                say(f"train: {e}; set aside as step-{step}.corrupt.*, resuming from the newest intact "
                    "checkpoint before it")
    return None


def _train(model: torch.nn.Module, train_set: Dataset, val_set: Dataset | None, cfg: TrainConfig,
           run_dir: Path, rt: Runtime, stop: StopRequest, *, config: Any, data_fingerprint: str,
           extra: dict | None, collate_fn: Callable | None, resume: bool, progress: bool,
           stop_after: int | None) -> TrainResult:
    enable_fast_math(rt.device)
    precision = resolve_precision(cfg.precision, rt.device)
    cfg_dict = to_dict(config)
    if rt.is_main:  # temporaries of a killed run: removed only while holding the folder's lock
        clean_temporaries(run_dir)
        if (run_dir / "checkpoints").exists():
            clean_temporaries(run_dir / "checkpoints")

    model.to(rt.device)
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)  # no weight decay on biases and norms
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=cfg.betas)
    ema = EMA(model, cfg.ema_decay) if cfg.ema_decay > 0 else None

    start_step, elapsed_before = 0, 0.0
    ckpt = _resume_checkpoint(run_dir, rt) if resume else None
    if ckpt is not None:
        _check_resume(ckpt.sidecar.get("config") or {}, cfg_dict, ckpt.sidecar.get("data_fingerprint"),
                      data_fingerprint, run_dir)
        where = run_dir / "checkpoints" / f"step-{ckpt.step}.safetensors"
        load_weights(model, ckpt.state("model"), where)
        if ema is not None and ckpt.sidecar.get("has_ema"):
            load_weights(ema.shadow, ckpt.state("ema"), where)
        restore_optimizer(opt, ckpt)
        start_step, elapsed_before = ckpt.step, float(ckpt.sidecar.get("elapsed_s", 0.0))
    if rt.is_main:
        write_text(run_dir / "config.yaml", dump_yaml(config))

    loss_module: torch.nn.Module = LossModule(model)
    if rt.distributed:
        loss_module = torch.nn.parallel.DistributedDataParallel(
            loss_module, device_ids=[rt.device.index] if rt.device.type == "cuda" else None)
    loss_module = maybe_compile(loss_module, cfg.compile, rt.device)

    sampler = StepBatchSampler(len(train_set), cfg.batch_size, cfg.seed, rt.rank, rt.world_size, start_step)
    loader = DataLoader(train_set, batch_sampler=sampler, num_workers=cfg.num_workers, collate_fn=collate_fn,
                        pin_memory=rt.device.type == "cuda", persistent_workers=cfg.num_workers > 0)
    gen = torch.Generator(device=rt.device)
    log = MetricsLog(run_dir / "metrics.csv", resume_step=start_step) if rt.is_main else None
    tracker = Tracker(run_dir, cfg.tensorboard and rt.is_main, purge_step=start_step + 1 if start_step else None)

    def checkpoint(step: int, elapsed: float) -> None:
        if rt.is_main:
            save_checkpoint(run_dir, step, model, ema=ema.shadow if ema else None, optimizer=opt, generator=None,
                            config=cfg_dict, data_fingerprint=data_fingerprint, extra=extra,
                            elapsed_s=elapsed, keep_last=cfg.keep_last)
            log.flush()
            tracker.flush()
        if rt.distributed:
            dist.barrier()

    limit_s = cfg.time_limit_min * 60.0
    step = start_step
    t0 = time.perf_counter()
    window_t, window_samples = t0, 0
    logs_acc: dict[str, float] = {}
    n_acc = 0
    stopped_by = STEPS
    bar = Progress(f"train {run_dir.name}", cfg.steps, start_step, progress and rt.is_main, unit="steps")
    try:
        data_iter = iter(loader)
        model.train()
        while step < cfg.steps:
            elapsed = elapsed_before + time.perf_counter() - t0
            over, interrupted = agree(rt, limit_s > 0 and elapsed >= limit_s, stop.requested)
            if interrupted:
                stopped_by = INTERRUPTED
                break
            if over:
                stopped_by = TIME_LIMIT
                break
            progress_frac = step / cfg.steps
            if limit_s > 0:
                progress_frac = max(progress_frac, elapsed / limit_s)
            lr = cfg.lr * warmup_cosine(progress_frac, cfg.warmup, cfg.min_lr_ratio)
            for group in opt.param_groups:
                group["lr"] = lr

            batch = _to_device(next(data_iter), rt.device)
            step_generator(gen, cfg.seed, rt.rank, step)
            with autocast(rt.device, precision):
                loss, logs = loss_module(batch, gen)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"step {step}: loss is {loss.item()} (not finite); lower train.lr "
                                         "or check the data")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(),
                                                   cfg.grad_clip if cfg.grad_clip > 0 else math.inf)
            opt.step()
            if ema is not None:
                ema.update(model, step)
            step += 1
            window_samples += cfg.batch_size
            for k, v in {"loss": float(loss.detach()), "grad_norm": float(gnorm), **logs}.items():
                logs_acc[k] = logs_acc.get(k, 0.0) + float(v)
            n_acc += 1

            if step % cfg.log_every == 0 or step == cfg.steps:
                now = time.perf_counter()
                means = all_reduce_mean({k: v / n_acc for k, v in logs_acc.items()}, rt)
                sps = window_samples / max(now - window_t, 1e-9)
                if log is not None:
                    row = {f"train/{k}": v for k, v in means.items()} | {"lr": lr, "samples_per_s": sps}
                    log.log(step, row | {"elapsed_s": elapsed_before + now - t0})
                    log.flush()  # small file: rewrite it so progress is visible while training
                    tracker.log(step, row)
                bar.update(step, loss=means.get("loss", float("nan")), samples_s=sps)
                logs_acc, n_acc = {}, 0
                window_t, window_samples = now, 0
            if cfg.val_every and val_set is not None and step % cfg.val_every == 0:
                vals = validate(ema.shadow if ema else model, val_set, cfg, rt, precision, collate_fn)
                if log is not None:
                    log.log(step, {f"val/{k}": v for k, v in vals.items()})
                    tracker.log(step, {f"val/{k}": v for k, v in vals.items()})
                model.train()
            if cfg.ckpt_every and step % cfg.ckpt_every == 0 and step < cfg.steps:
                checkpoint(step, elapsed_before + time.perf_counter() - t0)
            if stop_after is not None and step - start_step >= stop_after:
                stopped_by = STOP_AFTER if step < cfg.steps else STEPS
                break
        total = elapsed_before + time.perf_counter() - t0
        if stopped_by == INTERRUPTED:
            if step > start_step:
                checkpoint(step, total)
            bar.close()
            if rt.is_main:
                say(f"train: {final_line(stopped_by, step, cfg.steps, cfg.time_limit_min)} "
                    f"({run_dir / 'checkpoints'})")
            raise KeyboardInterrupt
        if val_set is not None and cfg.val_every and (step % cfg.val_every != 0):
            vals = validate(ema.shadow if ema else model, val_set, cfg, rt, precision, collate_fn)
            if log is not None:
                log.log(step, {f"val/{k}": v for k, v in vals.items()})
                tracker.log(step, {f"val/{k}": v for k, v in vals.items()})
        if log is not None and stopped_by == TIME_LIMIT:
            log.log(step, {"stopped_by_time_limit": 1.0})
        checkpoint(step, total)
    finally:
        bar.close()
        tracker.close()
    if stopped_by == TIME_LIMIT and rt.is_main:
        say(f"train: {final_line(stopped_by, step, cfg.steps, cfg.time_limit_min)}")
    done = step - start_step
    run_s = time.perf_counter() - t0
    last = dict(log.rows[-1]) if log is not None and log.rows else {}
    result = TrainResult(run_dir, step, elapsed_before + run_s, done * cfg.batch_size / max(run_s, 1e-9), last,
                         stopped_by, cfg.steps, cfg.time_limit_min)
    if rt.distributed:
        teardown_runtime(rt)
    return result


@torch.no_grad()
def validate(model: torch.nn.Module, val_set: Dataset, cfg: TrainConfig, rt: Runtime, precision: str,
             collate_fn: Callable | None) -> dict[str, float]:
    """Mean loss and logs over the first `val_batches` batches, with fixed noise (comparable across steps)."""
    model.eval()
    per_rank = max(cfg.batch_size // rt.world_size, 1)
    n = len(val_set)
    gen = torch.Generator(device=rt.device)
    sums: dict[str, float] = {}
    count = 0
    for b in range(cfg.val_batches):
        idx = [(b * cfg.batch_size + i * rt.world_size + rt.rank) for i in range(per_rank)]
        idx = [i for i in idx if i < n]
        if not idx:
            break
        items = [val_set[i] for i in idx]
        batch = collate_fn(items) if collate_fn else torch.utils.data.default_collate(items)
        step_generator(gen, cfg.seed + 1, rt.rank, b)
        with autocast(rt.device, precision):
            loss, logs = model.loss(_to_device(batch, rt.device), gen)
        for k, v in {"loss": float(loss), **logs}.items():
            sums[k] = sums.get(k, 0.0) + float(v)
        count += 1
    means = {k: v / max(count, 1) for k, v in sums.items()}
    if rt.distributed:
        means = all_reduce_mean(means, rt)
    return means
