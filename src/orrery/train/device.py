"""Where training runs: device choice, mixed precision, torch.compile, and torchrun/DDP setup.

CPU paths stay plain float32 (no autocast, no compile unless asked); CUDA gets bf16 autocast and
TF32. Nothing here asserts CUDA: the same code runs on a laptop and under torchrun on GPUs."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Literal

import torch
import torch.distributed as dist

Precision = Literal["auto", "fp32", "bf16"]


@dataclass(frozen=True)
class Runtime:
    """The process's place in a (possibly single-process) job."""

    device: torch.device
    rank: int
    world_size: int
    local_rank: int
    distributed: bool

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def pick_device(name: str) -> torch.device:
    """'auto' -> cuda when present, else cpu; anything else is checked to exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: CUDA is not available on this machine")
    return dev


def setup_runtime(device: str = "auto") -> Runtime:
    """Join the torchrun job if launched by torchrun (env RANK/WORLD_SIZE), else run alone.

    Backend: nccl on CUDA, gloo on CPU (which is how DDP is tested without GPUs)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Runtime(pick_device(device), 0, 1, 0, False)
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device)
    if dev.type == "cuda":
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", rank=rank, world_size=world)
    return Runtime(dev, rank, world, local_rank, True)


def teardown_runtime(rt: Runtime) -> None:
    if rt.distributed and dist.is_initialized():
        dist.destroy_process_group()


def resolve_precision(precision: Precision, device: torch.device) -> Literal["fp32", "bf16"]:
    """'auto' is bf16 on CUDA and fp32 on CPU (CPU bf16 is faster only with AMX or AVX-512 BF16, and
    opt-in; asked for on a CPU without them, it is said to be slow, once)."""
    if precision == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    if precision == "bf16" and device.type == "cpu" and not cpu_has_bf16():
        import logging

        logging.getLogger("orrery").warning(
            "train.precision=bf16 on a CPU without AMX or AVX-512 BF16 (no amx_bf16/avx512_bf16 in its flags): "
            "bf16 autocast is emulated there and much slower than fp32 (13x measured on an AVX2-only CPU)")
    return precision


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AMX or AVX-512 BF16), from /proc/cpuinfo's flags
    (Linux; elsewhere assumed yes, so nothing is said)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return True
    return not flags or "amx_bf16" in flags.split() or "avx512_bf16" in flags.split()


def autocast(device: torch.device, precision: Literal["fp32", "bf16"]):
    """The forward-pass context: bf16 autocast when asked, a no-op otherwise."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def enable_fast_math(device: torch.device) -> None:
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def maybe_compile(module: torch.nn.Module, enabled: bool, device: torch.device) -> torch.nn.Module:
    """torch.compile when asked. On CPU it costs 30-40 s of compile for a few percent, so the
    presets only turn it on for CUDA; asking for it on CPU is allowed and honoured."""
    if not enabled:
        return module
    return torch.compile(module)


def all_reduce_mean(values: dict[str, float], rt: Runtime) -> dict[str, float]:
    """Average logged numbers over ranks (same keys on every rank)."""
    if not rt.distributed or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64,
                     device=rt.device if rt.device.type == "cuda" else "cpu")
    dist.all_reduce(t)
    t /= rt.world_size
    return {k: float(v) for k, v in zip(keys, t.tolist(), strict=True)}
