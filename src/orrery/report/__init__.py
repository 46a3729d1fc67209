"""orrery.report: the self-contained HTML report, the model card, plots and animations."""

from __future__ import annotations


def __getattr__(name: str):
    if name == "write_report":
        from .html import write_report

        return write_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["write_report"]
