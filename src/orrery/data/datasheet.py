"""The datasheet of a dataset folder (Gebru et al., "Datasheets for Datasets"): filled from the
spec and from statistics measured on the manifest, with the parameter histograms of every
scenario in one PNG and each parameter's range per split as a table."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from ..config import load_yaml
from .atomic import atomic_path, write_text
from .card import metadata, with_front_matter
from .manifest import SPLITS, read_manifest


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# One figure for the whole dataset: a row per scenario, a panel per numeric parameter, drawn with
# Pillow in one pass and saved once. Step histograms are axis-aligned lines and boxes, so they
# need no anti-aliasing; its cost (~0.2 s for the eleven-scenario spec) hardly grows with the
# number of scenarios and parameters. Eleven matplotlib figures, each laid out with
# tight_layout, took 5-9 s and most of a small run (issue 16); one matplotlib figure of small
# multiples still took ~1 s, half of it importing matplotlib.
_COLOURS = {"train": (31, 119, 180), "val": (255, 127, 14), "test": (44, 160, 44), "test_ood": (214, 39, 40)}
_TRAIN_FILL = (166, 199, 225)
_BINS = 12
_CELL_W, _CELL_H, _LABEL_W, _HEAD_H = 170, 90, 120, 30  # pixels: a panel, the scenario names, the legend
FIGURE = "datasheet/params.png"


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _by_scenario(rows: list[dict]) -> dict[str, list[dict]]:
    by_scn: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_scn[r.get("scenario") or "clips"].append(r)
    return dict(sorted(by_scn.items()))


def _params(rs: list[dict]) -> tuple[list[str], list[str]]:
    """(numeric, categorical) parameter columns that have a value in these rows."""
    present = {k for r in rs for k, v in r.items() if k.startswith("param.") and v is not None}
    numeric = sorted(k for k in present if all(_is_number(r[k]) for r in rs if r.get(k) is not None))
    return numeric, sorted(present - set(numeric))


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Aileron, with FreeType (Pillow >= 10.1)
    except (TypeError, OSError, ImportError):
        return ImageFont.load_default()


def _figure(rows: list[dict], root: Path) -> bool:
    """Write the parameter histograms of every scenario into one PNG; False if nothing to plot."""
    panels = [(scn, rs, _params(rs)[0]) for scn, rs in _by_scenario(rows).items()]
    panels = [p for p in panels if p[2]]
    if not panels:
        return False
    from PIL import Image, ImageDraw

    ncol, nrow = max(len(p[2]) for p in panels), len(panels)
    im = Image.new("RGB", (_LABEL_W + ncol * _CELL_W, _HEAD_H + nrow * _CELL_H), "white")
    d = ImageDraw.Draw(im)
    font, small = _font(11), _font(10)
    x = _LABEL_W
    for sp in SPLITS:  # the legend
        d.rectangle((x, 9, x + 12, 21), fill=_COLOURS[sp])
        d.text((x + 16, 9), sp, fill="black", font=font)
        x += 30 + int(d.textlength(sp, font=font))
    for i, (scn, rs, params) in enumerate(panels):
        top = _HEAD_H + i * _CELL_H
        label = f"{scn}\n{len(rs)} clips"
        box = d.multiline_textbbox((0, 0), label, font=font, align="right")
        d.multiline_text((_LABEL_W - 10 - box[2], top + (_CELL_H - box[3]) // 2), label, fill="black", font=font,
                         align="right")
        for j, p in enumerate(params):
            x0, x1, y0, y1 = _LABEL_W + j * _CELL_W + 6, _LABEL_W + (j + 1) * _CELL_W - 10, top + _CELL_H - 8, top + 22
            d.rectangle((x0, y1, x1, y0), fill=(245, 245, 245))
            vals = {sp: np.array([r[p] for r in rs if r["split"] == sp and r.get(p) is not None], float)
                    for sp in SPLITS}
            every = np.concatenate(list(vals.values()))
            edges = np.histogram_bin_edges(every, bins=_BINS)  # shared by the splits
            px = np.round(x0 + (edges - edges[0]) / (edges[-1] - edges[0]) * (x1 - x0)).astype(int)
            for sp, v in vals.items():  # each split scaled to its own tallest bin
                if not len(v):
                    continue
                h = np.histogram(v, edges)[0]
                hy = np.round(y0 - h / h.max() * (y0 - y1)).astype(int)
                if sp == "train":
                    for k in np.flatnonzero(h):
                        d.rectangle((px[k], hy[k], px[k + 1], y0), fill=_TRAIN_FILL)
                outline = [(px[0], y0)] + [pt for k in range(len(h)) for pt in ((px[k], hy[k]), (px[k + 1], hy[k]))]
                d.line(outline + [(px[-1], y0)], fill=_COLOURS[sp], width=1)
            d.line(((x0, y0), (x1, y0)), fill=(128, 128, 128))
            lo, hi = _fmt(every.min()), _fmt(every.max())
            title = f"{p.removeprefix('param.')}  " + (f"= {lo}" if lo == hi else f"[{lo}, {hi}]")
            d.text((x0, y1 - 15), title, fill="black", font=small)
    with atomic_path(root / FIGURE) as tmp:
        im.save(tmp, format="png")
    for old in (root / "datasheet").glob("params-*.png"):  # one figure per scenario, before issue 16
        old.unlink()
    return True


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _parameter_table(rows: list[dict]) -> list[list[str]]:
    """Per scenario and parameter, what each split holds: min–max of a number, counts of a category."""
    out = []
    for scn, rs in _by_scenario(rows).items():
        numeric, categorical = _params(rs)
        for p in numeric + categorical:
            cells = []
            for sp in SPLITS:
                vals = [r[p] for r in rs if r["split"] == sp and r.get(p) is not None]
                if not vals:
                    cells.append("—")
                elif p in numeric:
                    lo, hi = _fmt(min(vals)), _fmt(max(vals))
                    cells.append(lo if lo == hi else f"[{lo}, {hi}]")
                else:
                    cells.append(", ".join(f"{v} {n}" for v, n in sorted(Counter(map(str, vals)).items())))
            out.append([scn, p.removeprefix("param.")] + cells)
    return out


def write_datasheet(root: str | Path) -> Path:
    """Write `datasheet.md` (and `datasheet/params.png`) into a dataset folder; returns its path."""
    root = Path(root)
    rows = read_manifest(root).to_pylist()
    spec = (load_yaml(root / "spec.yaml", "spec") or {}) if (root / "spec.yaml").exists() else {}
    rejected = read_manifest(root / "rejected.parquet", ("key",)).to_pylist() if (root / "rejected.parquet").exists() else []
    has_figure = _figure(rows, root)
    video = spec.get("video", {})
    scenarios = sorted({r.get("scenario") or "?" for r in rows})
    count = Counter((r.get("scenario"), r["split"]) for r in rows)
    split_totals = Counter(r["split"] for r in rows)
    coll = [r.get("n_collisions", 0) or 0 for r in rows]
    yes = sum(r.get("qa_yes", 0) or 0 for r in rows)
    no = sum(r.get("qa_no", 0) or 0 for r in rows)
    ood_axes = Counter(r.get("ood_axis") for r in rows if r["split"] == "test_ood")

    s = [f"# Datasheet: {spec.get('name', root.name)}", ""]
    head = metadata(spec.get("name", root.name), len(rows), "simulate", scenarios)
    s += ["## Motivation", "",
          "Made by `orrery simulate` to train and measure video world models against exact physics: every clip "
          "comes with the simulator's ground truth (states, masks, collision events), so a model's predictions "
          "can be scored in physical units rather than by appearance. Splits include out-of-distribution "
          "clips, defined in the spec, because video models are known to fail physics out of distribution.", "",
          "Created by whoever ran `orrery simulate` on the spec below (orrery records no author); no funding, "
          "people or third-party data are involved: every clip is computed from the spec and its seed.", ""]
    s += ["## Composition", "",
          f"{len(rows)} clips in {len(scenarios)} scenario(s); "
          + ", ".join(f"{split} {split_totals.get(split, 0)}" for split in SPLITS) + ".", "",
          _table(["scenario"] + list(SPLITS) + ["total"],
                 [[scn] + [count.get((scn, sp), 0) for sp in SPLITS] + [sum(count.get((scn, sp), 0) for sp in SPLITS)]
                  for scn in scenarios]), "",
          f"Each clip: {video.get('frames', '?')} RGB frames of {video.get('size', '?')}x{video.get('size', '?')} px "
          f"at {video.get('fps', '?')} fps (H.264 {video.get('codec', '?')}, crf {video.get('crf', '?')}), "
          "a per-frame instance mask (0 = background, k = object k), and per frame and object: position, "
          "velocity, angle, angular velocity, size, mass, shape, colour id; kinetic and potential energy; "
          "first-contact collision events with their impulses; the scenario, its exact parameters, the seed; "
          "captions (paraphrases generated from the ground truth) and QA pairs.", "",
          f"Collisions between objects per clip: mean {sum(coll) / max(1, len(coll)):.2f}, max {max(coll, default=0)}.",
          f"QA answers: {yes} yes / {no} no"
          + (f" ({yes / (yes + no):.0%} yes)." if yes + no else "."), ""]
    if ood_axes:
        s += ["Out-of-distribution clips by axis (the one parameter or attribute drawn outside the training "
              "distribution): " + ", ".join(f"{k}: {v}" for k, v in sorted(ood_axes.items(), key=str)) + ".", ""]
    for e in spec.get("scenarios", []):
        if e.get("ood") or e.get("held_out_combos"):
            s.append(f"- `{e['scenario']}`: OOD regions {e.get('ood') or {}}; held-out colour x shape "
                     f"{[(c['colour'], c['shape']) for c in e.get('held_out_combos', [])]}.")
    s += ["", "### Parameter distributions", ""]
    if has_figure:
        s += ["A row per scenario, a panel per numeric parameter, titled with the range its x axis spans. "
              "Each split's histogram (the splits share 12 bins; train filled) is scaled to its own tallest "
              "bin, so a small split shows where it lies as clearly as train.", "",
              f"![parameter histograms]({FIGURE})"]
    table = _parameter_table(rows)
    if table:
        s += ([""] if has_figure else []) + [
            "Each parameter per split: the range [min, max] of a number, the count of each value of a category.", "",
            _table(["scenario", "parameter"] + list(SPLITS), table)]
    s += ["", "## Collection process", "",
          f"Simulated with pymunk (2-D rigid bodies) at a fixed substep of {video.get('physics_hz', '?')} Hz, independent "
          f"of the frame rate; rendered with OpenCV (anti-aliased, sub-pixel). Spec seed {spec.get('seed', '?')}; each "
          "clip's seed derives from (spec seed, scenario entry, split, index), so any clip can be regenerated alone. "
          "Parameters were sampled " + ", ".join(sorted({e.get('sampling', 'balanced') for e in spec.get('scenarios', [])}))
          + " (balanced = stratified: each parameter's range cut into equal strata, each used once).", ""]
    if rejected:
        s += [f"{len(rejected)} clip(s) were set aside:", "",
              _table(["key", "reason"], [[r["key"], r["reason"]] for r in rejected[:50]]), ""]
    s += ["## Preprocessing, cleaning and labelling", "",
          "None beyond rendering and encoding: states are the simulator's, sampled at frame times. Frames are "
          "lossy-encoded unless the codec is `lossless`; masks are stored losslessly.", ""]
    s += ["## Uses", "",
          "Training and evaluating video world models and tokenizers; measuring physical consistency (positions, "
          "velocities, gravity, momentum, energy) against exact ground truth; studying out-of-distribution "
          "generalisation and data scaling.", "",
          "Not suitable for: claims about real-world video, 3-D scenes, deformable bodies, fluids, lighting, "
          "textures or camera motion.", "",
          "The data holds no people and no personal information; nothing in it can harm a person directly. A "
          "model that learns it learns these simplified laws only: do not deploy one on real systems on the "
          "strength of its scores here.", ""]
    s += ["## What the data cannot represent", "",
          "- 2-D rigid-body mechanics only, seen by a fixed orthographic camera; no drag, no rolling friction.",
          "- Objects are flat-coloured and identified by colour; no texture, shading, shadows or occlusion by scenery.",
          "- Integration is semi-implicit Euler at the physics rate: states carry an O(dt) discretisation error "
          "(about g*t*dt/2 in free flight).",
          "- Small frames make small objects a few pixels wide; positions from pixels are limited to sub-pixel accuracy.",
          ""]
    s += ["## Distribution", "",
          "Folder layout: `spec.yaml` (the resolved spec), `shards/{split}-{nnnnn}.tar` (WebDataset: `KEY.mp4`, "
          "`KEY.json`, `KEY.masks.npz`, optional `KEY.frames.npz`), `sidecars/` (each shard's manifest rows and "
          "record schema), `manifest.parquet` (one row per clip), `README.md` (the dataset card: Hugging Face "
          "metadata, the four splits and the schema of every record), this datasheet. Read it with "
          "`orrery.data.open_dataset(folder, split)` (torch), `ShardStream` (streaming) or "
          "`datasets.load_dataset(folder)` (Hugging Face). Licence: " + head["license"] + " (the default for "
          "simulated data; the person who generated it may choose another).", ""]
    s += ["## Maintenance", "",
          "Regenerate from `spec.yaml` with `orrery simulate spec.yaml --out DIR`: output is byte-identical for the "
          "same spec and orrery version. orrery does not update a dataset once written; errors in the simulator "
          "or the renderer are fixed in orrery and a dataset is regenerated, not patched. The code version that "
          "made it is the orrery release installed when it was simulated.", ""]
    path = root / "datasheet.md"
    write_text(path, with_front_matter(head, "\n".join(s)))
    return path
