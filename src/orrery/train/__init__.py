"""orrery.train: one training loop for every model (see docs/models.md, "The training loop")."""

from .checkpoint import Checkpoint, latest_checkpoint, load_checkpoint, model_weights, save_checkpoint
from .config import ConfigError, from_dict, parse_overrides, resolve, to_dict
from .loop import TrainConfig, TrainResult, train
from .protocol import Trainable

__all__ = ["Checkpoint", "ConfigError", "TrainConfig", "TrainResult", "Trainable", "from_dict",
           "latest_checkpoint", "load_checkpoint", "model_weights", "parse_overrides", "resolve",
           "save_checkpoint", "to_dict", "train"]
