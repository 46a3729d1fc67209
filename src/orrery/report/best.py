"""Which model a report may call best on a metric, and why not when none.

"Best" is meaningful only where the metric ranks the models: never for the parser's floor (not a
model); never for `target` metrics (a signed value is compared with the truth, shown beside it);
never for metrics a frozen frame satisfies trivially (copy-last would win energy conservation,
interpenetration, size and colour drift by not moving: marked instead); and for metrics measured
only on what a model detected (collision timing, restitution, momentum and energy change across
collisions) only among models that detect most of them (a model that misses 76% of collisions
cannot win timing on the other 24%). Two contenders at least, or no bold at all."""

from __future__ import annotations

import math

FLOOR = "floor"
TRIVIAL_MARK = "†"


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and not math.isnan(x)


def contenders(summary: dict, metric: str) -> tuple[list[str], str]:
    """(the models that may be ranked on `metric` overall, the reason the others may not)."""
    info = summary["metrics"][metric]
    models = [m for m in summary["models"] if not m.startswith(FLOOR)]  # floor, floor:tokenizer
    if info["better"] not in ("lower", "higher"):
        return [], "compared with the true value, not ranked"
    if info.get("trivial"):
        return [], "a frozen frame scores perfectly here: not ranked"
    needs = info.get("needs")
    if needs:
        gate, limit = needs
        ok = [m for m in models if _finite(summary["overall"].get(m, {}).get(gate))
              and summary["overall"][m][gate] <= limit]
        dropped = [m for m in models if m not in ok]
        return ok, (f"ranked only among models with {gate} <= {limit:g}" if dropped else "")
    return models, ""


def best(summary: dict, metric: str) -> set[str]:
    """The models shown in bold for `metric` in the overview (empty when ranking is not meaningful)."""
    models, _ = contenders(summary, metric)
    vals = {m: summary["overall"].get(m, {}).get(metric) for m in models}
    vals = {m: v for m, v in vals.items() if _finite(v)}
    if len(vals) < 2:
        return set()
    want = min(vals.values()) if summary["metrics"][metric]["better"] == "lower" else max(vals.values())
    return {m for m, v in vals.items() if v == want}
