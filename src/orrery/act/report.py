"""report.html of a planning run: success per planner and goal distance (the model between its
floor and its ceiling), seconds per action, and episodes as animations — what the simulator did
beside what the model imagined at each re-plan — with the goal marked."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from ..data.atomic import write_text
from ..report.animate import gif_bytes
from ..report.html import CSS, data_uri, format_number
from ..report.plots import line_plot
from .episodes import Episode

GOAL_RGB = (255, 255, 255)


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _table(summary: dict) -> str:
    dists = list(next(iter(summary["planners"].values()))["by_distance"])
    head = "".join(f"<th>{html.escape(d)} m</th>" for d in dists)
    rows = []
    for name, p in summary["planners"].items():
        cells = "".join(f"<td>{_pct(p['by_distance'][d]['success'])}</td>" for d in dists)
        sem = "" if p["sem"] is None else f' <span class="note">±{100 * p["sem"]:.0f}</span>'
        rows.append(f'<tr><td class="l">{html.escape(name)}</td><td>{p["episodes"]}</td>'
                    f'<td>{_pct(p["success"])}{sem}</td>{cells}<td>{format_number(p["final_distance"])}</td>'
                    f'<td>{format_number(p["seconds_per_action"])}</td></tr>')
    norm = summary.get("normalised_success")
    if norm:
        cells = "".join(f"<td>{format_number(norm['by_distance'].get(d))}</td>" for d in dists)
        rows.append(f'<tr><td class="l"><b>normalised</b> (model − random) / (simulator − random)</td><td></td>'
                    f'<td><b>{format_number(norm["overall"])}</b></td>{cells}<td></td><td></td></tr>')
    return (f'<table><tr><th class="l">planner</th><th>episodes</th><th>success</th>{head}'
            f"<th>final distance (m)</th><th>s per action</th></tr>{''.join(rows)}</table>")


def _plot(summary: dict) -> str:
    series = {}
    for name, p in summary["planners"].items():
        xs = [float(d) for d in p["by_distance"]]
        ys = [np.nan if v["success"] is None else v["success"] for v in p["by_distance"].values()]
        series[name] = (xs, ys)
    png = line_plot(series, "goal distance (m)", "success rate", ylim=(-0.02, 1.02))
    return f'<img alt="success vs goal distance" src="{data_uri(png, "image/png")}">'


def mark_goal(frames: np.ndarray, goal_px: np.ndarray, zoom: int) -> np.ndarray:
    """Zoomed copies of frames [T, S, S, 3] with a cross at the goal (column, row in frame pixels)."""
    big = frames.repeat(zoom, axis=1).repeat(zoom, axis=2)
    c, r = (np.asarray(goal_px) + 0.5) * zoom
    c, r = int(round(c)), int(round(r))
    h, w = big.shape[1:3]
    arm = 2 * zoom
    for d in range(-arm, arm + 1):
        for y, x in ((r + d, c), (r, c + d)):
            if 0 <= y < h and 0 <= x < w:
                big[:, y, x] = GOAL_RGB
    return big


def episode_gif(true: np.ndarray, imagined: np.ndarray, ep: Episode, zoom: int = 6) -> bytes:
    """Simulator | imagined, side by side: both panels start at the start frame; panel 2 shows, for
    every executed command, the frame the model predicted it would lead to."""
    size = true.shape[1]
    goal_px = ep.camera(size).to_pixel(ep.goal)
    n = min(len(true) - 1, len(imagined))
    left = mark_goal(true[:n + 1], goal_px, zoom)
    right = mark_goal(np.concatenate([true[:1], imagined[:n]]), goal_px, zoom)
    sep = np.full((left.shape[0], left.shape[1], 2 * zoom, 3), 60, np.uint8)
    return gif_bytes(np.concatenate([left, sep, right], axis=2), fps=6.0)


def _animations(summary: dict, parts: Path, episodes: list[Episode]) -> str:
    from .plan import _slug

    main = summary["main"]
    folder = parts / _slug(main)
    figs = []
    by_index = {r["index"]: r for r in _records(folder)}
    for ep in episodes:
        npz = folder / f"{ep.index:05d}.npz"
        rec = by_index.get(ep.index)
        if not npz.exists() or rec is None:
            continue
        with np.load(npz) as z:
            gif = episode_gif(z["true"], z["imagined"], ep)
        verdict = "reached" if rec["success"] else "missed"
        figs.append(f'<figure><img class="pix" alt="episode {ep.index}" src="{data_uri(gif, "image/gif")}">'
                    f"<figcaption>episode {ep.index}: move {html.escape(ep.name)} {ep.distance:g} m — {verdict} "
                    f"(closest {rec['min_distance']:.2f} m, final {rec['final_distance']:.2f} m, "
                    f"{rec['actions']} commands)<br>left: the simulator · right: imagined by "
                    f"{html.escape(main)} · cross: the goal</figcaption></figure>")
    return '<div class="grid">' + "".join(figs) + "</div>" if figs else "<p class='note'>No episode kept.</p>"


def _records(folder: Path) -> list[dict]:
    import json

    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def write_plan_report(path: str | Path, summary: dict, parts: Path, episodes: list[Episode]) -> Path:
    cfg = summary["config"]
    pc = cfg["planner"]
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>orrery plan: {html.escape(summary['main'])}</title>
<style>{CSS}</style></head><body>
<h1>orrery plan: {html.escape(summary['main'])}</h1>
<p>Data <code>{html.escape(summary['data'])}</code>, split <b>{html.escape(summary['split'])}</b>:
{cfg['episodes']} episodes at goal distances {', '.join(f'{d:g}' for d in cfg['distances'])} m; the pusher
may execute {cfg['steps']} commands; success = the object's centre within {cfg['tolerance']:g} m of the goal
at some frame, read from the simulator's states. CEM: {pc['population']} plans x {pc['iterations']}
iterations, {pc['horizon']} frames ahead, {pc['execute']} commands executed per plan. The cost is computed
from the model's predicted frames (objects parsed from pixels), never from simulator states.
<b>simulator</b> = the same planner with the exact simulator as its model (the ceiling);
<b>random</b> = random commands (the floor).</p>
<h2>Success</h2>{_table(summary)}
<p class="note">± = binomial standard error. Seconds per action: planning time (rollouts, parsing, CEM) per
executed command, on this machine, not counting the true simulator's step.</p>
<h2>Success versus goal distance</h2>{_plot(summary)}
<h2>Episodes</h2>{_animations(summary, parts, episodes)}
</body></html>
"""
    path = Path(path)
    write_text(path, body)
    return path
