"""Issue 11, item 1: curated data trains and evaluates. `curate` writes manifest rows whose `shard`
is a bare file name in DATASET/shards/ (what simulate writes), so train world and evaluate read a
clean curate result; and a manifest `shard` that is not a plain file name is refused, naming the
row (a manifest could otherwise point outside its dataset folder)."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from orrery.curate.config import parse_config
from orrery.curate.pipeline import curate
from orrery.curate.split import assign_split, input_id
from orrery.curate.synth import make_shot
from orrery.data.dataset import ClipStore
from orrery.data.manifest import write_manifest
from orrery.data.video import encode_mp4

SPLITS = {"train": 0.5, "test": 0.5}
CFG = {"privacy": {"face_blur": False}, "decode": {"work_side": 64}, "filters": {"blur_percentile": 0},
       "clips": {"min_s": 0.6, "max_s": 1.2, "size": [32, 32], "trim_frames": 2},
       "dedup": {"semantic": {"enabled": False}}, "splits": SPLITS}


def _names_per_split(cfg) -> dict[str, str]:
    """One input file name that curate puts in each split (splits are per input, by a hash)."""
    out: dict[str, str] = {}
    for i in range(64):
        name = f"v{i}.mp4"
        out.setdefault(assign_split(cfg.seed, input_id(name), SPLITS), name)
        if len(out) == len(SPLITS):
            return out
    raise AssertionError("no input name for every split")


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    root = tmp_path_factory.mktemp("cur")
    cfg = parse_config(CFG)
    rng = np.random.default_rng(0)
    (root / "in").mkdir()
    for name in _names_per_split(cfg).values():
        frames = np.concatenate([make_shot(rng, n, 48, 64) for n in (36, 34)])
        (root / "in" / name).write_bytes(encode_mp4(frames, 25.0))
    summary = curate(root / "in", root / "ds", cfg, progress=False)
    assert summary["kept"] >= 2
    return root / "ds"


def test_curate_then_train_world_then_evaluate(curated, tmp_path):
    from conftest import train_tiny

    from orrery.eval.evaluate import evaluate

    rows = pq.read_table(curated / "manifest.parquet").to_pylist()
    assert {r["split"] for r in rows} == {"train", "test"}
    assert all("/" not in r["shard"] and (curated / "shards" / r["shard"]).is_file() for r in rows)
    res = train_tiny(curated, tmp_path / "run", extra=["data.val_split="])
    assert res.step == 2
    s = evaluate(str(tmp_path / "run"), curated, "test", tmp_path / "ev", baselines=("copy-last",),
                 horizon=4, progress=False, report=False)
    n_test = sum(r["split"] == "test" for r in rows)
    assert s["n_clips"] == n_test
    # curated clips carry no states: scored on images, and each one says so in `skipped`
    assert [x["scored"] for x in s["skipped"]] == ["image metrics only"] * n_test
    assert np.isfinite(s["overall"][str(tmp_path / "run")]["psnr"])


@pytest.mark.parametrize("bad", ["shards/train-00000.tar", "../elsewhere.tar", "/etc/passwd", "..", ""])
def test_a_shard_value_that_is_not_a_plain_file_name_is_refused(curated, tmp_path, bad):
    import shutil

    ds = tmp_path / "ds"
    shutil.copytree(curated, ds)
    rows = pq.read_table(ds / "manifest.parquet").to_pylist()
    rows[0]["shard"] = bad
    write_manifest(ds / "manifest.parquet", rows)
    with pytest.raises(ValueError) as e:
        ClipStore(ds, rows[0]["split"])
    msg = str(e.value)
    assert f"row {rows[0]['key']!r}" in msg and "not a plain file name" in msg and "\n" not in msg
