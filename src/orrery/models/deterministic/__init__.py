"""The deterministic family: the pixel family's mean network alone (a U-Net that warps the last
frame along a predicted flow and adds a change), trained with unrolled steps and no diffusion.
Cheaper to train and roll out than the hybrid; its predictions blur where the future is uncertain.

It was added as the proof of how long a fourth family takes (docs/design.md): a registry entry,
this file, and a recipe preset table."""

from __future__ import annotations

from ..pixel.adapter import PixelRollout
from ..pixel.config import MeanConfig
from ..pixel.net import MeanNet
from ..registry import Family


def _adapter(net: MeanNet, tokenizer, seed: int, device: str):
    return PixelRollout(net, seed=seed, device=device, name="deterministic")


FAMILY = Family(name="deterministic", summary="deterministic flow-warp U-Net on pixels (no diffusion)",
                config=MeanConfig, net=MeanNet, adapter=_adapter, tokenizer=None)
