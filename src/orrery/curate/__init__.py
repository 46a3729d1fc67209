"""orrery.curate: real video in, the dataset format of `simulate` out (see docs/curate.md)."""

from .stages import Pipeline, Rejection, Stage


def curate(*args, **kwargs):
    """`orrery.curate.pipeline.curate` (imported on first use: it pulls in PyAV, OpenCV and the shard writer)."""
    from .pipeline import curate as _curate

    return _curate(*args, **kwargs)


__all__ = ["Pipeline", "Rejection", "Stage", "curate"]
