"""orrery.tokenizer: causal video autoencoders, continuous and discrete (FSQ). See docs/tokenizer.md.

Training lives in `orrery.recipes.tokenizer` and measurement in `orrery.eval.tokenizer`: this
package is the network, its codec and its saved form only. Names are imported lazily."""

from __future__ import annotations

import importlib

_NAMES = {
    "VideoTokenizer": ".model", "FSQ": ".fsq", "TokenizerConfig": ".config", "make_config": ".config",
    "load_tokenizer": ".checkpoint", "save_tokenizer": ".checkpoint", "encode_clips": ".codec",
    "decode_clips": ".codec", "reconstruct": ".codec",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name], __name__), name)
    raise AttributeError(f"module 'orrery.tokenizer' has no attribute {name!r}")
