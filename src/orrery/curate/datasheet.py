"""datasheet.md of a curated dataset: what went in, what came out, why the rest was set aside,
how the kept clips score, and the limits of the curation (a human-readable summary)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.atomic import write_text
from ..data.card import metadata, with_front_matter
from .config import CurateConfig, dump_config

SCORES = ["duration_s", "motion", "sharpness", "luma", "pixel_std", "letterbox", "faces"]


def write_datasheet(path: Path, cfg: CurateConfig, summary: dict, rows: list[dict], rejected: list[dict]) -> None:
    """datasheet.md with Hugging Face front matter and every section of Gebru et al.'s datasheet:
    motivation, composition, collection, preprocessing, uses, distribution, maintenance."""
    blur = "on" if cfg.privacy.face_blur else "OFF"
    lines = ["# Datasheet: curated video dataset (orrery curate)", "",
             "## Motivation", "",
             "Made by `orrery curate` to turn real video into the dataset format that orrery's tokenizers and "
             "world models train on: short clips cut inside shots, filtered for quality, deduplicated and "
             "captioned, with faces blurred. It lets the same models that learn simulated physics see real "
             "footage. Created by whoever ran `orrery curate` on the inputs below (orrery records no author or "
             "funding).", "",
             "## Composition", "",
             f"- inputs: {summary['inputs']}",
             f"- clips kept: {summary['kept']} in {len(summary['shards'])} shard(s)",
             f"- set aside: {summary['rejected']} (inputs or clips; see `rejected.parquet`)", ""]
    splits: dict[str, int] = {}
    for r in rows:
        splits[r["split"]] = splits.get(r["split"], 0) + 1
    if splits:
        lines += ["| split | clips |", "| --- | ---: |"] + [f"| {k} | {v} |" for k, v in sorted(splits.items())] + [""]
    secs = sum(r["n_frames"] / r["fps"] for r in rows)
    lines += [f"Total kept duration: {secs:.1f} s at {cfg.clips.size[1]}x{cfg.clips.size[0]} px, "
              f"{'source rate' if cfg.clips.fps is None else f'{cfg.clips.fps:g} fps'}.", ""]
    lines += ["## Stages (items in -> out)", "", "| stage | in | out | rejected |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {s} | {i} | {o} | {r} |" for s, (i, o, r) in summary.get("stages", {}).items()] + [""]
    lines += ["## Set aside, by reason", "", "| reason | count |", "| --- | ---: |"]
    lines += [f"| {k} | {v} |" for k, v in summary["reasons"].items()] + [""]
    lines += ["## Scores of kept clips (percentiles 5 / 50 / 95)", "", "| score | p5 | p50 | p95 |",
              "| --- | ---: | ---: | ---: |"]
    for s in SCORES:
        v = np.array([r[f"score.{s}"] for r in rows if r.get(f"score.{s}") is not None], dtype=np.float64)
        if len(v):
            p = np.percentile(v, [5, 50, 95])
            lines.append(f"| {s} | {p[0]:.3g} | {p[1]:.3g} | {p[2]:.3g} |")
    lines += ["", "## Collection process and preprocessing", "",
              "Clips are cut inside detected shots (transitions and `clips.trim_frames` frames at each shot edge "
              "excluded), resampled by timestamp, letterbox bars cropped, centre-cropped to the output aspect and "
              "resized; filtered on duration, letterboxing, blank frames, exposure, motion (DIS optical flow) and "
              "sharpness (Laplacian variance; dataset-percentile floor); deduplicated exactly, by perceptual hash "
              "and semantically (k-means + cosine threshold on a colour/texture/motion descriptor).",
              "",
              "Captions are generated from measured properties (colours, brightness, motion, camera motion, "
              "duration); they describe appearance, not semantics.",
              "",
              f"Privacy: face blur {'ON' if cfg.privacy.face_blur else 'OFF'} (Haar cascade, frontal faces of at "
              f"least {cfg.privacy.face_min_px} px at analysis resolution; profiles and smaller faces can pass); "
              f"caption blocklist of {len(cfg.privacy.blocklist)} term(s).",
              "",
              "## Uses", "",
              "Training and evaluating video tokenizers and the image side of world models on real footage; "
              "pre-training before simulated physics. Not for: physics metrics (there is no ground truth), "
              "identifying or tracking people, or any use the source videos' licences do not allow.", "",
              f"The data may show people. Face blur was {blur}; it misses profiles, small and occluded faces, so "
              "clips may still identify someone: review them before publishing, and do not use the data to "
              "recognise people.", "",
              "## Distribution", "",
              "Folder layout: `shards/{split}-{nnnnn}.tar` (WebDataset: `KEY.mp4`, `KEY.json`), "
              "`manifest.parquet` (one row per clip, with its scores and source), `rejected.parquet` (what was "
              "set aside and why), `README.md` (the dataset card: Hugging Face metadata, splits and record "
              "schema), this datasheet. Read it with `orrery.data.open_dataset(folder, split)` or "
              "`datasets.load_dataset(folder)`. Licence: `other`: the source videos' licences apply to every "
              "clip cut from them; redistribute only what they allow.", "",
              "## Maintenance", "",
              "Rerun the same `orrery curate` command on the same inputs and config to rebuild it (resumable); "
              "orrery does not update a dataset once written. A source withdrawn by its owner is removed by "
              "deleting it from INPUT and curating again.", "",
              "## Limits", "",
              "- Curated clips carry no physical ground truth (no states, objects or events): physics metrics "
              "cannot be computed on them.",
              "- Sources are whatever was given as INPUT; their licences and consent are the user's responsibility.",
              "", "## Config", "", "```yaml", dump_config(cfg).rstrip(), "```", ""]
    head = metadata(path.parent.name, len(rows), "curate")
    head["tags"] = [t for t in head["tags"] if t != "physics"] + ["face-blurred" if cfg.privacy.face_blur else "not-face-blurred"]
    write_text(path, with_front_matter(head, "\n".join(lines)))
