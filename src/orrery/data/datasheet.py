"""The datasheet of a dataset folder (Gebru et al., "Datasheets for Datasets"): filled from the
spec and from statistics measured on the manifest, with parameter histograms as PNG files."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from ..config import load_yaml
from .atomic import atomic_path, write_text
from .card import metadata, with_front_matter
from .manifest import SPLITS, read_manifest


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _histograms(rows: list[dict], out: Path) -> list[tuple[str, str]]:
    """One PNG per scenario: a histogram per parameter, one colour per split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    by_scn: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_scn[r.get("scenario") or "clips"].append(r)
    for scn, rs in sorted(by_scn.items()):
        params = sorted({k for r in rs for k in r if k.startswith("param.") and isinstance(r[k], (int, float))
                         and not isinstance(r[k], bool)})
        if not params:
            continue
        n = len(params)
        fig, axes = plt.subplots(1, n, figsize=(2.6 * n, 2.2), squeeze=False)
        for ax, p in zip(axes[0], params, strict=True):
            for split in SPLITS:
                vals = [r[p] for r in rs if r["split"] == split and r.get(p) is not None]
                if vals:
                    ax.hist(vals, bins=12, alpha=0.55, label=split)
            ax.set_title(p.removeprefix("param."), fontsize=8)
            ax.tick_params(labelsize=6)
        axes[0][0].legend(fontsize=6)
        fig.tight_layout()
        name = f"params-{scn}.png"
        with atomic_path(out / name) as tmp:
            fig.savefig(tmp, format="png", dpi=80, metadata={"Software": None})
        plt.close(fig)
        made.append((scn, f"datasheet/{name}"))
    return made


def write_datasheet(root: str | Path) -> Path:
    """Write `datasheet.md` (and `datasheet/*.png`) into a dataset folder; returns its path."""
    root = Path(root)
    rows = read_manifest(root).to_pylist()
    spec = (load_yaml(root / "spec.yaml", "spec") or {}) if (root / "spec.yaml").exists() else {}
    rejected = read_manifest(root / "rejected.parquet", ("key",)).to_pylist() if (root / "rejected.parquet").exists() else []
    figs = _histograms(rows, root / "datasheet")
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
    s += [f"![{scn}]({path})" for scn, path in figs]
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
