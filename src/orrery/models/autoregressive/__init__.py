"""The autoregressive family: a GPT over a frozen FSQ tokenizer's tokens, sampled frame by frame."""

from __future__ import annotations

from ..registry import Family
from .adapter import ARRollout
from .config import ARModelConfig
from .net import ARWorldNet


def _adapter(net: ARWorldNet, tokenizer, seed: int, device: str):
    return ARRollout(net, tokenizer, seed=seed, device=device)


FAMILY = Family(name="autoregressive", summary="GPT over a discrete (FSQ) tokenizer's tokens",
                config=ARModelConfig, net=ARWorldNet, adapter=_adapter, tokenizer="fsq")
