"""The in-distribution vs out-of-distribution page: one model's errors on `test` and `test_ood`
side by side, per future step, with the OOD/ID ratio (the number video world models fail on;
PhyWorld reports 7-35x), beside the baselines and the parser's floor. Links to each split's
detailed report. One self-contained HTML file."""

from __future__ import annotations

import html
import math
from pathlib import Path

from ..data.atomic import write_text
from .html import data_uri, format_number
from .plots import error_vs_horizon, shared_ylim

METRIC = "position_error_px"
LOST = "objects_lost"


def _at(summary: dict, model: str, metric: str, h: int) -> float:
    ys = summary.get("per_step", {}).get(model, {}).get(metric) or []
    return ys[h - 1] if len(ys) >= h and ys[h - 1] is not None else math.nan


def _ratio(ood: float, idd: float) -> str:
    return "–" if not (idd > 0 and math.isfinite(ood) and math.isfinite(idd)) else f"{ood / idd:.2f}×"


def write_comparison(path: str | Path, summaries: dict[str, dict], reports: dict[str, str]) -> Path:
    """summaries: {'test': summary, 'test_ood': summary} from `evaluate`; reports: split -> report path."""
    idd, ood = summaries["test"], summaries["test_ood"]
    horizon = int(idd.get("horizon", 0))
    marks = sorted({h for h in (1, 2, 4, 8, horizon) if 1 <= h <= horizon})
    models = [m for m in idd.get("models", []) if m in ood.get("models", [])]
    rows = []
    for m in models:
        cells = []
        for h in marks:
            a, b = _at(idd, m, METRIC, h), _at(ood, m, METRIC, h)
            cells.append(f"<td>{format_number(a)}</td><td>{format_number(b)}</td><td>{_ratio(b, a)}</td>")
        lost = f"<td>{format_number(_at(idd, m, LOST, horizon))}</td><td>{format_number(_at(ood, m, LOST, horizon))}</td>"
        rows.append(f"<tr><th>{html.escape(m)}</th>{''.join(cells)}{lost}</tr>")
    head1 = "".join(f"<th colspan=3>h{h}</th>" for h in marks) + f"<th colspan=2>objects lost per clip, h{horizon}</th>"
    head2 = "<th>ID</th><th>OOD</th><th>OOD/ID</th>" * len(marks) + "<th>ID</th><th>OOD</th>"
    ylim = shared_ylim([idd["per_step"], ood["per_step"]], METRIC, models)  # side by side: one y-axis
    plots = "".join(
        f"<figure><img alt='{s}' src='{data_uri(error_vs_horizon(summ['per_step'], METRIC, 'px', models, ylim), 'image/png')}'>"
        f"<figcaption>{s}</figcaption></figure>" for s, summ in (("test (in distribution)", idd),
                                                                   ("test_ood (out of distribution)", ood)))
    links = " · ".join(f"<a href='{html.escape(Path(p).relative_to(Path(path).parent).as_posix())}'>"
                       f"{html.escape(s)} report</a>" for s, p in reports.items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>orrery: ID vs OOD</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}figure{{display:inline-block;margin:0 1em 0 0}}</style>
</head><body><h1>{html.escape(str(idd.get('model', '')))}: in and out of distribution</h1>
<p>Position error in pixels (parsed from the predicted frames, against the simulator's exact states) at future
frames h after {int(idd.get('context', 0))} context frames, on the in-distribution test split and on test_ood
(each clip outside the training distribution along one axis). OOD/ID is the ratio of the two.
The floor is the parser's error on the dataset's own frames.</p>
<table><tr><th rowspan=2>model</th>{head1}</tr><tr>{head2}</tr>{''.join(rows)}</table>
<p>{plots}</p><p>Details: {links}</p></body></html>"""
    path = Path(path)
    write_text(path, page)
    return path
