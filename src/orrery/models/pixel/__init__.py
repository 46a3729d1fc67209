"""The pixel family: frames in, frames out; a hybrid (deterministic mean + diffusion residual) or
pure diffusion head over a U-Net (`net`), its config (`config`) and rollout (`adapter`)."""

from __future__ import annotations

from ..registry import Family
from .adapter import PixelRollout
from .config import PixelModelConfig
from .net import PixelWorldNet


def _adapter(net: PixelWorldNet, tokenizer, seed: int, device: str):
    return PixelRollout(net, seed=seed, device=device, name=f"pixel:{net.cfg.head}")


FAMILY = Family(name="pixel", summary="hybrid flow-warp mean + diffusion residual on pixels (the default)",
                config=PixelModelConfig, net=PixelWorldNet, adapter=_adapter, tokenizer=None)
