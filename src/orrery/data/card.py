"""The dataset card (`README.md` of a dataset folder): YAML front matter in the Hugging Face
conventions, so `datasets.load_dataset(DIR)` reads the folder losslessly.

- `configs:` names the four splits by their shard patterns (`shards/test-*.tar` does not match
  `test_ood-*`, which a loader's default split rules would fold into `test`);
- `dataset_info.features` declares every member: `KEY.json` with the schema of all the dataset's
  records (`data.schema`, merged over every clip, not guessed from the first shard), the video as
  raw bytes, the masks as an array;
- license, tags, size category, and a pointer to the datasheet (the full documentation).

Only `shards/` holds tars; the per-shard sidecars live in `sidecars/` (`shards.sidecar_path`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from .atomic import write_text
from .manifest import SPLITS
from .schema import Type, to_hf_yaml

LICENSE = {"simulate": "cc-by-4.0", "curate": "other"}


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def features(schema: Type, members: set[str]) -> list[dict]:
    """The `dataset_info.features` list: __key__, __url__, then each member present."""
    out: list[dict] = [{"name": "__key__", "dtype": "string"}, {"name": "__url__", "dtype": "string"}]
    out.append({"name": "json", **to_hf_yaml(schema)})
    if "mp4" in members:
        out.append({"name": "mp4", "dtype": "binary"})  # H.264 bytes: decode with PyAV or torchcodec
    if "masks.npz" in members:
        out.append({"name": "masks.npz", "struct": [{"name": "masks", "list": {"list": {"list": "uint8"}}}]})
    if "frames.npz" in members:
        out.append({"name": "frames.npz",
                    "struct": [{"name": "frames", "list": {"list": {"list": {"list": "uint8"}}}}]})
    return out


def metadata(name: str, n_clips: int, source: str, scenarios: list[str] | tuple[str, ...] = ()) -> dict:
    """The Hugging Face dataset metadata shared by the card and the datasheet: license, name, tags,
    size category, task categories."""
    scenarios = sorted(scenarios)
    tags = ["physics", "world-models", "video", "webdataset", "orrery",
            "synthetic" if source == "simulate" else "curated", *scenarios]
    if "push" in scenarios:
        tags.append("robotics")
    return {"license": LICENSE.get(source, "other"), "pretty_name": name, "tags": tags,
            "size_categories": [_size_category(n_clips)],
            "task_categories": ["video-classification", "robotics"] if "push" in scenarios else ["video-classification"]}


def with_front_matter(meta: dict, body: str) -> str:
    """Markdown with YAML front matter (`---` lines), as Hugging Face cards are written."""
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n" + body


def front_matter(name: str, counts: dict[str, int], schema: Type, members: set[str], source: str,
                 scenarios: list[str]) -> dict:
    return {
        **metadata(name, sum(counts.values()), source, scenarios),
        "configs": [{"config_name": "default",
                     "data_files": [{"split": s, "path": f"shards/{s}-*.tar"} for s in SPLITS if counts.get(s)]}],
        "dataset_info": {"config_name": "default", "features": features(schema, members),
                         "splits": [{"name": s, "num_examples": int(counts[s])} for s in SPLITS if counts.get(s)]},
    }


def write_dataset_card(out: str | Path, name: str, counts: dict[str, int], schema: Type, members: set[str],
                       source: str = "simulate", scenarios: list[str] | tuple[str, ...] = ()) -> Path:
    """Write DIR/README.md: front matter + a short body pointing at the datasheet."""
    out = Path(out)
    meta = front_matter(name, counts, schema, members, source, list(scenarios))
    split_line = ", ".join(f"{s} {counts.get(s, 0)}" for s in SPLITS)
    body = f"""# {name}

{'Physically exact synthetic video' if source == 'simulate' else 'Curated real video'} made by orrery:
{split_line} clips. The full documentation (motivation, composition, collection, uses,
distribution, maintenance, limits) is the datasheet, [datasheet.md](datasheet.md).

Each sample of `shards/{{split}}-*.tar` (WebDataset) holds `KEY.mp4` (H.264), `KEY.json` (the
ground truth: states, objects, events, actions, captions, QA) and `KEY.masks.npz` (instance masks).

```python
from datasets import load_dataset
ds = load_dataset("path/to/this/folder")   # splits: {', '.join(s for s in SPLITS if counts.get(s))}
```

With orrery: `orrery.data.open_dataset(DIR, "train")` (a torch Dataset), or `ShardStream` to stream.
"""
    path = out / "README.md"
    write_text(path, with_front_matter(meta, body))
    return path
