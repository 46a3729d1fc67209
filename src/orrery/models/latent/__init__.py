"""The latent family: a DiT that denoises the next latent frame of a frozen continuous tokenizer."""

from __future__ import annotations

from ..registry import Family
from .adapter import LatentRollout
from .config import LatentModelConfig
from .net import LatentWorldNet


def _adapter(net: LatentWorldNet, tokenizer, seed: int, device: str):
    return LatentRollout(net, tokenizer, seed=seed, device=device)


FAMILY = Family(name="latent", summary="DiT over a continuous tokenizer's latents (diffusion)",
                config=LatentModelConfig, net=LatentWorldNet, adapter=_adapter, tokenizer="continuous")
