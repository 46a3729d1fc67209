"""`write_engine_report(DIR)`: OUT/report.html from results.json (and scale.json when a scaling
study ran in the same folder): the headline, equal compute stated, learning curves per arm with
the spread over seeds, per-cell heatmaps per round (where the model failed, where the data went),
the scaling plot, and the grown dataset's datasheet with its provenance. One self-contained file."""

from __future__ import annotations

import html
import io
import json
import math
from pathlib import Path

import numpy as np

from ..config import load_yaml
from ..data.atomic import write_text
from ..report.html import CSS, data_uri, format_number
from .acquire import failure_score
from .analysis import curves, headline


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return data_uri(buf.getvalue(), "image/png")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def learning_curves(cv: dict) -> str:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)  # side by side: one y-axis
    for ax, what, title in ((axes[0], "weak", "weak cells (held-out test)"), (axes[1], "overall", "all cells (held-out test)")):
        for arm, c in cv.items():
            ys = np.array(list(c[what].values()), dtype=np.float64)  # [seeds, rounds + 1]
            mean, std = np.nanmean(ys, 0), np.nanstd(ys, 0)
            ax.plot(c["added"], mean, marker="o", label=f"{arm} ({len(ys)} seeds)")
            ax.fill_between(c["added"], mean - std, mean + std, alpha=0.2)
        ax.set_xlabel("clips added by the engine")
        ax.set_ylabel("position error (px), mean over horizon")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def heatmaps(results: dict, seed: str) -> str:
    """Per arm: the failure score of every cell at each round (probe set), and the clips each round
    sent to each cell."""
    plt = _plt()
    per = results["seeds"][seed]
    cells = list(results["cells"])
    arms = list(per["arms"])
    fig, axes = plt.subplots(len(arms), 2, figsize=(9, 0.28 * len(cells) * len(arms) + 1.5), squeeze=False)
    for i, arm in enumerate(arms):
        rounds = per["arms"][arm]
        stats = [per["start"]["probe_stats"]] + [r["probe_stats"] for r in rounds[:-1]]
        score = np.array([[failure_score(s.get(c, {})) for s in stats] for c in cells])
        counts = np.array([[r["counts"].get(c, 0) for r in rounds] for c in cells])
        for ax, m, title, cmap in ((axes[i, 0], score, "failure score before the round (probe)", "magma"),
                                   (axes[i, 1], counts, "clips acquired", "Blues")):
            im = ax.imshow(m, aspect="auto", cmap=cmap)
            ax.set_yticks(range(len(cells)))
            ax.set_yticklabels([results["cells"][c] for c in cells], fontsize=6)
            ax.set_xticks(range(len(rounds)))
            ax.set_xticklabels([f"r{r['round']}" for r in rounds], fontsize=7)
            ax.set_title(f"{arm}: {title}", fontsize=8)
            fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    return _png(fig)


def scaling_plot(scale: dict) -> str:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    runs = [r for r in scale["runs"] if r]
    sizes = sorted({r["size"] for r in runs})
    for name, marker in (("id", "o"), ("ood", "s")):
        final = [[r["points"][-1][name] for r in runs if r["size"] == n] for n in sizes]
        m = [np.nanmean(f) for f in final]
        s = [np.nanstd(f) for f in final]
        axes[0].errorbar(sizes, m, yerr=s, marker=marker, label=name.upper(), capsize=3)
        f = scale["fit"].get(name)
        if f:
            xs = np.array([sizes[0], sizes[-1]], dtype=float)
            axes[0].plot(xs, f["a"] * xs ** -f["b"], "--", alpha=0.6,
                         label=f"{name.upper()} fit: n^-{f['b']:.2f} (±{f['b_std']:.2f})")
    axes[0].set_xscale("log", base=2)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("training clips")
    axes[0].set_ylabel("position error (px)")
    axes[0].legend(fontsize=7)
    axes[0].grid(alpha=0.3, which="both")
    for n in sizes:
        pts = {}
        for r in runs:
            if r["size"] == n:
                for p in r["points"]:
                    pts.setdefault(p["step"], []).append(p["id"])
        steps = sorted(pts)
        axes[1].plot(steps, [np.nanmean(pts[k]) for k in steps], marker=".", label=f"{n} clips")
    axes[1].set_xlabel("training steps")
    axes[1].set_ylabel("ID position error (px)")
    axes[1].set_yscale("log")
    axes[1].legend(fontsize=7)
    axes[1].grid(alpha=0.3, which="both")
    fig.tight_layout()
    return _png(fig)


def _headline_html(h: dict) -> str:
    if not h:
        return "<p>No targeted and uniform arms to compare.</p>"
    rows = "".join(
        f"<tr><td>{s}</td><td>{format_number(v['ratio']) if math.isfinite(v['ratio']) else 'not reached'}</td>"
        f"<td>{format_number(v['target_weak_px'])}</td><td>{format_number(v[h['arm'] + '_final_weak_px'])}</td>"
        f"<td>{format_number(v[h['arm'] + '_final_overall_px'])}</td><td>{format_number(v[h['control'] + '_final_overall_px'])}</td></tr>"
        for s, v in h["per_seed"].items())
    ratio = (f"{h['ratio_mean']:.2f} ± {h['ratio_std']:.2f}" if math.isfinite(h["ratio_mean"])
             else f"not reached in {len(h['ratios']) - h['reached']} of {len(h['ratios'])} seeds")
    return (f"<p><b>Clips {h['arm']} needs to reach {h['control']}'s final weak-cell error, over {h['control']}'s "
            f"{h['clips_control']} clips: {ratio}</b> (mean ± std over seeds; aim ≤ 0.5). Final overall test error, "
            f"{h['arm']} − {h['control']}: {h['overall_diff_mean']:+.3f} ± {h['overall_diff_std']:.3f} px "
            f"({h['control']}'s own seed spread {h['control_overall_std']:.3f} px).</p>"
            "<table><tr><th>seed</th><th>clip ratio</th><th>target (uniform final, weak cells) px</th>"
            f"<th>{h['arm']} final weak px</th><th>{h['arm']} final overall px</th><th>{h['control']} final overall px</th>"
            f"</tr>{rows}</table>")


def _batch_size(folder: Path, seed: str) -> str:
    """The batch size the starting model trained with (every run of the engine uses the same preset
    and settings), read from its saved config; said to be unknown when that run is not on disk."""
    path = folder / f"seed-{seed}" / "start" / "run" / "config.yaml"
    if not path.exists():
        return "unknown (the starting run's config.yaml is missing)"
    cfg = load_yaml(path, "run config") or {}
    return str(cfg.get("train", {}).get("batch_size", "unknown (not in the starting run's config)"))


def write_engine_report(folder: str | Path) -> Path:
    folder = Path(folder)
    if not (folder / "results.json").exists():
        raise FileNotFoundError(f"{folder}: no results.json; run `orrery engine run` into it first")
    results = json.loads((folder / "results.json").read_text())
    spec = results["spec"]
    cv = curves(results)
    heads = [headline(results, arm) for arm in cv if arm != "uniform"]
    seed0 = next(iter(results["seeds"]))
    m = spec["model"]
    compute = (f"Equal compute in every arm: model <code>{html.escape(m['family'])}</code> preset "
               f"<code>{html.escape(m['preset'])}</code> (settings {html.escape(', '.join(m['sets']) or 'none')}); "
               f"starting model {spec['train']['start_steps']} steps, then {spec['train']['steps']} steps per round "
               f"({'from the previous round' if spec['train']['init'] == 'previous' else 'from scratch'}); "
               f"batch size {_batch_size(folder, seed0)}, seeds {spec['seeds']}, and {spec['clips_per_round']} clips per round for every arm. "
               "Arms share each seed's starting data and model.")
    scale = ""
    if (folder / "scale.json").exists():
        sc = json.loads((folder / "scale.json").read_text())
        fits = "; ".join(f"{k.upper()}: err ∝ n^-{v['b']:.3f} (±{v['b_std']:.3f} over seeds)" for k, v in sc["fit"].items())
        scale = (f"<h2>Data scaling</h2><p>{len(sc['sizes'])} sizes × {len(sc['seeds'])} seeds, {sc['steps']} steps "
                 f"each. {fits}.</p><img src='{scaling_plot(sc)}'>")
    last = results["seeds"][seed0]["arms"]
    arm0 = next((a for a in ("targeted", *last) if a in last), None)
    sheet = ""
    if arm0:
        path = folder / f"seed-{seed0}" / arm0 / f"round-{spec['rounds']}" / "data" / "datasheet.md"
        if path.exists():
            sheet = (f"<h2>The grown dataset (arm {html.escape(arm0)}, seed {seed0})</h2>"
                     f"<pre style='white-space:pre-wrap;font-size:11px'>{html.escape(path.read_text())}</pre>")
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>orrery engine: {html.escape(spec['name'])}</title>
<style>{CSS}</style></head><body>
<h1>orrery data engine: {html.escape(spec['name'])}</h1>
<p>{len(results['cells'])} cells over {len(spec['world'])} scenarios; {spec['rounds']} rounds of {spec['clips_per_round']}
clips; probe set {spec['probe']} and held-out test set {spec['test']} clips per cell (different seeds; the test set
never chose data). Weak cells: the {spec['weak_share']:.0%} of cells the starting model failed worst on the probe set,
measured on the test set. Errors: position error (px) read from pixels against the simulator, mean over a
{spec['eval']['horizon']}-frame horizon after {spec['eval']['context']} context frames.</p>
<h2>Headline</h2>{''.join(_headline_html(h) for h in heads)}
<p class="note">{compute}</p>
<h2>Learning curves</h2><img src="{learning_curves(cv)}">
<h2>Where the model failed and where the data went (seed {seed0})</h2><img src="{heatmaps(results, seed0)}">
{scale}
{sheet}
</body></html>"""
    write_text(folder / "report.html", page)
    return folder / "report.html"
