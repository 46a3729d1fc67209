"""The latent family: a DiT over a frozen continuous tokenizer's latents that denoises the next
latent frame (head `diffusion`), or predicts its deterministic mean (`mean`; `hybrid` adds a
diffusion residual)."""

from __future__ import annotations

from ..registry import Family
from .adapter import LatentRollout
from .config import LatentModelConfig
from .net import LatentWorldNet


def _adapter(net: LatentWorldNet, tokenizer, seed: int, device: str):
    return LatentRollout(net, tokenizer, seed=seed, device=device)


FAMILY = Family(name="latent", summary="DiT over a continuous tokenizer's latents (diffusion; or a deterministic mean)",
                config=LatentModelConfig, net=LatentWorldNet, adapter=_adapter, tokenizer="continuous")
