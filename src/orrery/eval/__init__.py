"""orrery.eval: physics metrics on objects parsed from pixels, image metrics, `evaluate()` (in
`orrery.eval.evaluate`, the module of the same name), and the benchmark for outside models
(`bench_export()`, `bench_score()`). See docs/eval.md.

Names are imported on first use so that `orrery --help` (which imports eval.commands) stays fast."""

from __future__ import annotations

_LAZY = {"bench_export": ".bench", "bench_score": ".bench", "score_clip": ".scoring",
         "METRICS": ".scoring", "true_tracks": ".truth", "load_world_model": ".loading", "resolve_model": ".loading"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
