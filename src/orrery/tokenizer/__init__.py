"""orrery.tokenizer: causal video autoencoders, continuous and discrete (FSQ). See docs/tokenizer.md.

Names are imported lazily so that `orrery --help` (which imports `.commands`) does not load torch."""

from __future__ import annotations

import importlib

_NAMES = {
    "VideoTokenizer": ".model", "FSQ": ".fsq", "TokenizerConfig": ".config", "make_config": ".config",
    "load_tokenizer": ".checkpoint", "save_tokenizer": ".checkpoint", "encode_clips": ".codec",
    "decode_clips": ".codec", "reconstruct": ".codec", "train_tokenizer": ".training",
    "evaluate_tokenizer": ".evaluate",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name], __name__), name)
    raise AttributeError(f"module 'orrery.tokenizer' has no attribute {name!r}")
