"""What a module must offer to be trained by `orrery.train.train()`.

A trainable is a `torch.nn.Module` with one extra method, `loss(batch, generator)`. The loop owns
everything else: optimiser, schedule, precision, EMA, DDP, validation, checkpoints and logs. The
module owns its maths: noise sampling (through the generator it is handed, never a global RNG),
normalisation, and which numbers are worth logging."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class Trainable(Protocol):
    """batch: whatever the dataset's items collate to (dicts of tensors, lists of strings), already
    on the training device. Returns (scalar loss to minimise, {name: float} to log)."""

    def loss(self, batch: Any, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]: ...

    def parameters(self, recurse: bool = True): ...

    def state_dict(self, *args, **kwargs): ...


class LossModule(torch.nn.Module):
    """Routes `forward` to `model.loss` so that DistributedDataParallel, which only hooks
    `forward`, synchronises the gradients of `loss`."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch: Any, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        return self.model.loss(batch, generator)


def check_trainable(model: Any) -> None:
    if not isinstance(model, torch.nn.Module) or not callable(getattr(model, "loss", None)):
        raise TypeError(f"{type(model).__name__} is not trainable: it must be a torch.nn.Module with "
                        "loss(batch, generator) -> (loss, logs)")
