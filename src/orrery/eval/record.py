"""The resume record of an evaluation folder (`parts/run.json`): what the per-clip results under
`parts/` were computed from, so a rerun reuses them only when they are still right.

It holds
- the evaluation: the model as named on the command line and the split;
- every setting that changes a score: context, horizon, start, the baselines, the sampling seed
  and the model's inference settings (not the batch size: a clip's rollout draws from its own
  random stream, `models.conditioning.ItemNoise`, so scores do not depend on it; nor `limit`);
- the data, by content: the sha256 of the dataset's manifest (not its path: a dataset regenerated
  at the same path is other data); and each per-clip result carries the sha256 of its clip's
  stored bytes (`Parts`), so a clip regenerated under the same key (the manifest unchanged) is
  scored again;
- the weights: the checkpoint step and the sha256 of its sidecar (a run trained further, or
  retrained, is another model).

Another evaluation or other settings in the same folder are refused (use another --out). Other
data, or other weights of the same run, make the old per-clip results stale: they are removed,
said so, and recomputed."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ..data.atomic import write_text
from ..data.jsonfile import read_json

RECORD = "run.json"


def manifest_sha256(data_dir: str | Path) -> str:
    path = Path(data_dir) / "manifest.parquet"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_record(model_name: str, model, split: str, data_dir: str | Path, settings: dict) -> dict:
    """settings: the evaluation's score-changing settings (context, horizon, start, baselines, seed,
    model_settings). The model's `identity` (set by `models.registry.load_world_model`: checkpoint
    step, sidecar hash, seed, inference overrides) names its weights."""
    identity = getattr(model, "identity", None)
    weights = {k: v for k, v in identity.items() if k != "run"} if isinstance(identity, dict) else None
    return {"format": 2, "evaluation": {"model": model_name, "split": split}, "settings": settings,
            "data": {"manifest_sha256": manifest_sha256(data_dir)}, "weights": weights}


def check_record(parts: Path, record: dict, main_slug: str, out: Path, say=print) -> None:
    """Compare with the record on disk (if any), remove stale per-clip results, write the record."""
    path = parts / RECORD
    old = read_json(path) if path.exists() else None
    if isinstance(old, dict) and old.get("format") == 2:
        for part in ("evaluation", "settings"):
            if old.get(part) != record[part]:
                diff = _diff(old.get(part) or {}, record[part])
                raise ValueError(f"{out}: holds results of another evaluation ({diff}); use another --out")
        if old.get("data") != record["data"]:
            say(f"evaluate: the data changed since {out} was written (manifest hash differs): recomputing "
                "every clip")
            _clear(parts)
        elif old.get("weights") != record["weights"]:
            say(f"evaluate: the model's weights changed since {out} was written: recomputing its clips")
            shutil.rmtree(parts / main_slug, ignore_errors=True)
    elif path.exists() or any(p.is_dir() for p in parts.iterdir()):
        # a record of an older format, or results without one: nothing says what they were made from
        say(f"evaluate: {parts} holds results without a current resume record: recomputing every clip")
        _clear(parts)
    write_text(path, json.dumps(record, indent=1, sort_keys=True))


def _clear(parts: Path) -> None:
    for p in parts.iterdir():
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def _diff(a: dict, b: dict) -> str:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys[:4]) or "records differ"


class Parts:
    """Per-clip results: parts/MODEL/KEY.json = {clip_sha256, rows}. A result is reused only when
    it was computed from the same clip bytes."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, model_slug: str, key: str) -> Path:
        return self.folder / model_slug / f"{key}.json"

    def load(self, model_slug: str, key: str, digest: str) -> list[dict] | None:
        p = self.path(model_slug, key)
        if not p.exists():
            return None
        try:
            data = read_json(p)
        except ValueError:
            return None  # a damaged part is recomputed
        if not isinstance(data, dict) or data.get("clip_sha256") != digest or not isinstance(data.get("rows"), list):
            return None
        return data["rows"]

    def save(self, model_slug: str, key: str, digest: str, rows: list[dict]) -> None:
        write_text(self.path(model_slug, key), json.dumps({"clip_sha256": digest, "rows": rows}, allow_nan=True))
