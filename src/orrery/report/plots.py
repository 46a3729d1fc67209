"""Plots for reports, rendered off-screen (matplotlib Agg) to PNG bytes."""

from __future__ import annotations

import io
import math

import numpy as np


def _figure(width: float = 4.2, height: float = 2.8):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return plt, fig, ax


def shared_ylim(per_steps: list[dict[str, dict[str, list[float]]]], metric: str, models: list[str]
                ) -> tuple[float, float] | None:
    """One y range for plots shown side by side: 0 (or the lowest value) to 5 % above the highest."""
    ys = [y for ps in per_steps for m in models for y in (ps.get(m, {}).get(metric) or [])
          if y is not None and math.isfinite(y)]
    if not ys:
        return None
    lo, hi = min(0.0, min(ys)), max(ys)
    return lo, hi + 0.05 * (hi - lo or 1.0)


def error_vs_horizon(per_step: dict[str, dict[str, list[float]]], metric: str, unit: str, models: list[str],
                     ylim: tuple[float, float] | None = None) -> bytes:
    """PNG of metric-vs-future-step curves, one per model (the floor dashed); `ylim` fixes the y
    range (plots set side by side share one)."""
    plt, fig, ax = _figure()
    for m in models:
        ys = per_step.get(m, {}).get(metric)
        if not ys or all(math.isnan(y) for y in ys):
            continue
        xs = np.arange(1, len(ys) + 1)
        ax.plot(xs, ys, "--" if m.startswith("floor") else "-", marker="o", markersize=3, label=m,
                color="grey" if m == "floor" else None)
    ax.set_xlabel("future frame")
    ax.set_ylabel(f"{metric} ({unit})" if unit else metric)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # nothing measured (curated clips have no physics): no legend
        ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def line_plot(series: dict[str, tuple[list[float], list[float]]], xlabel: str, ylabel: str,
              ylim: tuple[float, float] | None = None) -> bytes:
    """PNG of one line per named series of (xs, ys); NaN points are left out."""
    plt, fig, ax = _figure()
    for name, (xs, ys) in series.items():
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        ok = np.isfinite(ys)
        if ok.any():
            ax.plot(xs[ok], ys[ok], "-", marker="o", markersize=4, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
