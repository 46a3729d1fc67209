"""`TrainConfig`: the optimisation settings shared by every trainable (tokenizers, world models).
Each recipe's presets set these numbers; the defaults are generic."""

from __future__ import annotations

from pydantic import Field

from ..config import Config
from .device import Precision


class TrainConfig(Config):
    steps: int = Field(1000, ge=1, description="optimiser steps")
    batch_size: int = Field(16, ge=1, description="global (split over DDP processes)")
    lr: float = Field(3e-4, gt=0, description="peak learning rate")
    weight_decay: float = Field(0.01, ge=0)
    betas: tuple[float, float] = (0.9, 0.99)
    warmup: float = Field(0.05, ge=0, lt=1, description="fraction of training spent warming up")
    min_lr_ratio: float = Field(0.1, ge=0, le=1, description="final learning rate / peak")
    grad_clip: float = Field(1.0, ge=0, description="max global grad norm; 0 disables")
    ema_decay: float = Field(0.999, ge=0, lt=1, description="0 disables EMA")
    val_every: int = Field(200, ge=0, description="steps between validations; 0 disables")
    val_batches: int = Field(4, ge=1)
    ckpt_every: int = Field(500, ge=0, description="steps between checkpoints (one is always written at the end)")
    keep_last: int = Field(2, ge=1, description="checkpoints kept on disk")
    log_every: int = Field(10, ge=1)
    tensorboard: bool = Field(False, description="also log to TensorBoard in RUN/tensorboard/ "
                                                 "(pip install 'orrery[tensorboard]')")
    seed: int = Field(0, ge=0, description="initialisation, batch order and noise")
    device: str = Field("auto", description="auto | cpu | cuda | cuda:N")
    precision: Precision = Field("auto", description="auto = bf16 on CUDA, fp32 on CPU")
    compile: bool = Field(False, description="torch.compile the loss module")
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes")
    time_limit_min: float = Field(0.0, ge=0, description="opt-in: stop after this much training time (the "
                                                          "schedule then ends on time); 0 = none")
