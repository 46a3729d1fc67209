"""orrery.train: one training loop for every trainable module (see docs/models.md, "The training
loop"). A leaf of the design: it knows no model family; recipes hand it a module with
`loss(batch, generator)`, datasets and a config."""

from .config import TrainConfig
from .loop import TrainResult, train
from .protocol import Trainable

__all__ = ["TrainConfig", "TrainResult", "Trainable", "train"]
