"""report.html: one self-contained file (inline CSS, PNG plots and GIF animations as data: URIs,
no scripts, nothing fetched from the network) with the evaluation's tables, curves, animations and
model card. The model card is also written beside it as model_card.md."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np

from ..data.atomic import write_text
from .animate import gif_bytes, triptych_frames
from .model_card import markdown, sections
from .plots import error_vs_horizon

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#f4f4f4}
td.l,th.l{text-align:left}.best{font-weight:bold}.bad{color:#b00}.note{color:#666;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:10px}.grid figure{margin:0}figcaption{font-size:11px;color:#555}
img.pix{image-rendering:pixelated}
"""

PLOTTED = ("position_error_px", "velocity_error_per_frame", "objects_lost", "size_drift", "psnr", "mask_iou")


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def format_number(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    ax = abs(x)
    return f"{x:.3g}" if ax < 1000 else f"{x:.0f}"


def _overview(summary: dict) -> str:
    models = summary["models"]
    head = "".join(f"<th>{html.escape(m)}</th>" for m in models)
    body = []
    for name, info in summary["metrics"].items():
        vals = [summary["overall"][m].get(name, math.nan) for m in models]
        finite = [v for m, v in zip(models, vals, strict=True)
                  if not math.isnan(v) and not m.startswith("floor")]  # the floors are not contenders
        best = None
        if finite and info["better"] in ("lower", "higher"):
            best = min(finite) if info["better"] == "lower" else max(finite)
        cells = []
        for m, v in zip(models, vals, strict=True):
            cls = "best" if best is not None and v == best and not m.startswith("floor") else ""
            sem = summary.get("overall_sem", {}).get(m, {}).get(name, math.nan)
            pm = f' <span class="note">±{format_number(sem)}</span>' if sem is not None and not math.isnan(sem) and sem > 0 else ""
            cells.append(f'<td class="{cls}">{format_number(v)}{pm}</td>')
        unit = html.escape(info["unit"])
        body.append(f'<tr><td class="l" title="{html.escape(info["doc"])}">{name}</td><td class="l">{unit}</td>'
                    f'<td class="l">{info["better"]}</td>{"".join(cells)}</tr>')
    return (f'<table><tr><th class="l">metric</th><th class="l">unit</th><th class="l">better</th>{head}</tr>'
            + "".join(body) + "</table>")


def _by_scenario(summary: dict) -> str:
    models = summary["models"]
    cell: dict[tuple, float] = {(r["model"], r["split"], r["scenario"], r["metric"]): r["mean"] for r in summary["table"]}
    splits = sorted({r["split"] for r in summary["table"]})
    out = []
    for split in splits:
        for sc in summary["scenarios"]:
            rows = []
            for name in summary["metrics"]:
                vals = [cell.get((m, split, sc, name), math.nan) for m in models]
                if all(math.isnan(v) for v in vals):
                    continue
                rows.append(f'<tr><td class="l">{name}</td>' + "".join(f"<td>{format_number(v)}</td>" for v in vals) + "</tr>")
            if rows:
                head = "".join(f"<th>{html.escape(m)}</th>" for m in models)
                out.append(f"<h3>{html.escape(sc)} · {html.escape(split)}</h3><table><tr><th class='l'>metric</th>{head}</tr>"
                           + "".join(rows) + "</table>")
    return "".join(out)


def _plots(summary: dict) -> str:
    figs = []
    for metric in PLOTTED:
        info = summary["metrics"].get(metric)
        if info is None:
            continue
        png = error_vs_horizon(summary["per_step"], metric, info["unit"], summary["models"])
        figs.append(f'<figure><img alt="{metric} vs horizon" src="{data_uri(png, "image/png")}">'
                    f"<figcaption>{metric}: {html.escape(info['doc'])}</figcaption></figure>")
    return '<div class="grid">' + "".join(figs) + "</div>"


def _animations(summary: dict, examples: dict) -> str:
    if not examples:
        return "<p class='note'>No clips kept for animation.</p>"
    main = summary["main"]
    scores = {k.split("|", 1)[1]: v for k, v in summary["clip_scores"].items() if k.startswith(main + "|")}
    keys = [k for k in examples if k in scores and not math.isnan(scores[k])]
    if not keys:
        keys = list(examples)
    ordered = sorted(keys, key=lambda k: scores.get(k, 0.0))
    picks = [("typical (median position error)", ordered[len(ordered) // 2]), ("worst", ordered[-1])]
    if len(ordered) > 2:
        picks.insert(0, ("best", ordered[0]))
    figs = []
    for label, key in picks:
        ctx, truth, pred = examples[key]
        zoom = max(1, 192 // truth.shape[1])
        gif = gif_bytes(triptych_frames(ctx, truth, pred, zoom=zoom))
        figs.append(f'<figure><img class="pix" alt="{html.escape(key)}" src="{data_uri(gif, "image/gif")}">'
                    f"<figcaption>{label}: {html.escape(key)}, position error {format_number(scores.get(key))} px · "
                    "truth | prediction | |error| (bar: grey = context, red = predicted)</figcaption></figure>")
    return '<div class="grid">' + "".join(figs) + "</div>"


def render(summary: dict, examples: dict, model=None) -> str:
    main = summary["main"]
    skipped = summary["skipped"]
    card = "".join(f"<h3>{html.escape(t)}</h3><p>{html.escape(x)}</p>" for t, x in sections(summary, model))
    skip = ""
    if skipped:
        items = "".join(f"<li>{html.escape(s['key'])}: {html.escape(s['reason'])}</li>" for s in skipped[:50])
        skip = f"<h2>Skipped clips ({len(skipped)})</h2><ul>{items}</ul>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>orrery evaluation: {html.escape(main)}</title>
<style>{CSS}</style></head><body>
<h1>orrery evaluation: {html.escape(main)}</h1>
<p>Data <code>{html.escape(summary['data'])}</code>, split <b>{html.escape(summary['split'])}</b>,
{summary['n_clips']} clips; context {summary['context']} frames from frame {summary['start']}, horizon {summary['horizon']}.
Every physics metric is read from pixels by the object parser and compared with the exact simulated states.
<b>floor</b> = the dataset's own encoded frames scored as a prediction (the parser's error on ground truth):
a model cannot be told apart from the truth below it.</p>
<h2>Overview (all scenarios)</h2>{_overview(summary)}
<p class="note">Per-step metrics are averaged over the horizon, then over clips; ± is the standard error over
clips; "–" = nothing measurable (e.g. no collision in the horizon). Bold = best model (the floor excluded).</p>
<h2>Error versus horizon</h2>{_plots(summary)}
<h2>Animations</h2>{_animations(summary, examples)}
<h2>By scenario and split</h2>{_by_scenario(summary)}
{skip}
<h2>Model card</h2>{card}
</body></html>
"""


def report_files(summary: dict, examples: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
                 model=None) -> dict[str, str]:
    """{'report.html': ..., 'model_card.md': ...}: the report's files, for a caller that writes
    them together with the rest of a result set (`data.atomic.replace_set`)."""
    return {"report.html": render(summary, examples or {}, model), "model_card.md": markdown(summary, model)}


def write_report(path: str | Path, summary: dict, rows: list[dict] | None = None,
                 examples: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None, model=None) -> Path:
    """Write report.html (and model_card.md beside it); returns the report's path."""
    path = Path(path)
    for name, text in report_files(summary, examples, model).items():
        write_text(path.with_name(name) if name != "report.html" else path, text)
    return path
