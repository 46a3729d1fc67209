"""orrery.data: the clip record, shards, the manifest, the torch datasets, the datasheet and card.

`open_dataset`, `ClipStore`, `collate_clips` and `ShardStream` are importable from here; they are
loaded on first use, so importing a light module of this package does not import torch."""

_EXPORTS = {"open_dataset": "dataset", "ClipStore": "dataset", "ClipDataset": "dataset",
            "collate_clips": "batching", "ShardStream": "stream"}


def __getattr__(name: str):
    if name in _EXPORTS:
        from importlib import import_module

        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
