"""Issue 11, items 4 and 5: no stale or silently wrong scores.

- scores do not depend on --batch-size (each clip's noise comes from its own stream), so the
  batch size is not part of the resume record;
- the resume record fingerprints the data by content: a dataset regenerated at the same path is
  scored afresh; a different setting that changes a score is refused;
- a result set is replaced whole: a run killed while replacing it never leaves new metrics beside
  an old summary;
- every clip that cannot be scored is listed in `skipped` with its reason; duplicate manifest
  keys are refused, naming the key."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import synthetic_dataset

from orrery.data import atomic
from orrery.data.dataset import ClipStore
from orrery.data.manifest import write_manifest
from orrery.eval.evaluate import evaluate
from orrery.eval.synthetic import scene

FAST = {"horizon": 4, "baselines": (), "model_settings": ("steps=2",), "progress": False, "report": False}
QUICK = {"horizon": 4, "baselines": (), "progress": False, "report": False}


def _scores(out) -> dict:
    rows = pq.read_table(out / "metrics.parquet").to_pylist()
    return {(r["model"], r["key"], r["metric"], r["step"]): r["value"] for r in rows}


def test_scores_do_not_depend_on_the_batch_size(tiny_run, tmp_path):
    data, run = tiny_run
    evaluate(str(run), data, "test", tmp_path / "b4", batch_size=4, **FAST)
    evaluate(str(run), data, "test", tmp_path / "b8", batch_size=8, **FAST)
    a, b = _scores(tmp_path / "b4"), _scores(tmp_path / "b8")
    assert a.keys() == b.keys() and len(a) > 100
    assert all(a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])) for k in a)
    # ... so a resumed run with another batch size reuses the per-clip results (not in the record)
    part = next((tmp_path / "b4" / "parts").glob("*run/s0.json"))
    before = part.stat().st_mtime_ns
    evaluate(str(run), data, "test", tmp_path / "b4", batch_size=2, **FAST)
    assert part.stat().st_mtime_ns == before


@pytest.mark.parametrize("n_test,seed", [(3, 100), (2, 200)])
def test_a_dataset_regenerated_at_the_same_path_is_scored_afresh(tmp_path, n_test, seed):
    """Other clips at the same path: more of them (the manifest changes), or the same keys with
    other content (the manifest's rows are identical; each clip's bytes are not)."""
    data = synthetic_dataset(tmp_path / "ds", n_train=1, n_test=2)
    first = evaluate("baseline:copy-last", data, "test", tmp_path / "ev", **QUICK)
    shutil.rmtree(data)
    synthetic_dataset(tmp_path / "ds", n_train=1, n_test=n_test, seed=seed)
    again = evaluate("baseline:copy-last", data, "test", tmp_path / "ev", **QUICK)
    fresh = evaluate("baseline:copy-last", data, "test", tmp_path / "fresh", **QUICK)
    assert first["n_clips"] == 2 and again["n_clips"] == n_test
    assert json.dumps(again["overall"], sort_keys=True) == json.dumps(fresh["overall"], sort_keys=True)
    assert json.dumps(again["overall"], sort_keys=True) != json.dumps(first["overall"], sort_keys=True)


@pytest.mark.parametrize("change", [{"horizon": 5}, {"start": 1}, {"seed": 1}, {"baselines": ("copy-last",)},
                                    {"model_settings": ("steps=1",)}])
def test_a_setting_that_changes_a_score_is_not_resumed_over(tiny_run, tmp_path, change):
    data, run = tiny_run
    evaluate(str(run), data, "test", tmp_path / "ev", limit=1, **FAST)
    with pytest.raises(ValueError, match="holds results of another evaluation"):
        evaluate(str(run), data, "test", tmp_path / "ev", limit=1, **{**FAST, **change})


def test_a_run_killed_while_replacing_its_results_never_mixes_two_sets(tmp_path, monkeypatch):
    import orrery.eval.evaluate as ev

    data = synthetic_dataset(tmp_path / "ds", n_train=1, n_test=2)
    evaluate("baseline:copy-last", data, "test", tmp_path / "ev", **QUICK)
    shutil.rmtree(data)
    synthetic_dataset(tmp_path / "ds", n_train=1, n_test=3)  # new data: a new result set replaces the old
    real_replace, real_set, calls = os.replace, ev.replace_set, []

    def dies_after_the_first_file(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed between two renames of the set
        return real_replace(src, dst)

    def replace_set(*a, **k):
        with monkeypatch.context() as m:
            m.setattr(atomic.os, "replace", dies_after_the_first_file)
            return real_set(*a, **k)

    monkeypatch.setattr(ev, "replace_set", replace_set)
    with pytest.raises(KeyboardInterrupt):
        evaluate("baseline:copy-last", data, "test", tmp_path / "ev", **QUICK)
    monkeypatch.undo()
    # the commit marker went first: nobody reads the new metrics beside the old summary
    assert (tmp_path / "ev" / "metrics.parquet").exists() and not (tmp_path / "ev" / "summary.json").exists()
    assert not list((tmp_path / "ev").glob(".*.tmp"))
    s = evaluate("baseline:copy-last", data, "test", tmp_path / "ev", **QUICK)
    assert json.loads((tmp_path / "ev" / "summary.json").read_text())["n_clips"] == s["n_clips"] == 3
    assert {k[1] for k in _scores(tmp_path / "ev")} == {"s0", "s1", "s2"}


def _with_clip(tmp_path, name, edit):
    """A dataset of three clips whose middle one's record is `edit`ed (written as is: NaN and inf
    included, as a hostile or broken dataset would hold them)."""
    from orrery.data.clip import Clip
    from orrery.data.shards import write_shard

    root = tmp_path / name
    samples = []
    for i in range(3):
        frames, masks, meta = scene(32, 12, seed=i, key=f"c{i}")
        sample = Clip(meta["key"], frames, masks, meta).to_sample()
        if i == 1:
            sample["json"] = json.dumps(edit(json.loads(json.dumps(meta)))).encode()
        samples.append((meta["key"], sample))
    write_shard(root / "shards" / "test-00000.tar", samples)
    write_manifest(root / "manifest.parquet", [{"key": k, "split": "test", "shard": "test-00000.tar"}
                                               for k, _ in samples])
    return root


def _nan_states(meta):
    meta["states"]["position"][2][0] = [float("nan"), 1.0]
    return meta


def _inf_velocity(meta):
    meta["states"]["velocity"][3][1][0] = float("inf")
    return meta


def _no_states(meta):
    del meta["states"]
    return meta


@pytest.mark.parametrize("edit,reason,scored", [
    (_nan_states, "states.position: NaN or inf at frame 2", "no"),
    (_inf_velocity, "states.velocity: NaN or inf at frame 3", "no"),
    (lambda m: {**m, "fps": float("inf")}, "fps inf is not a positive finite frame rate", "no"),
    (lambda m: {**m, "fps": 0}, "fps 0 is not a positive finite frame rate", "no"),
    (lambda m: {**m, "camera": {**m["camera"], "extent": 0.0}}, "camera extent 0.0", "no"),
    (_no_states, "no simulated states", "image metrics only"),
])
def test_a_clip_that_cannot_be_scored_is_listed_in_skipped(tmp_path, edit, reason, scored):
    """The reproduction: such a clip was counted in n_clips while its metrics silently dropped out
    of the means (2.246 -> 2.118 px). Now it is in `skipped` with its reason, and the other clips'
    scores are those of a clean dataset."""
    data = _with_clip(tmp_path, "ds", edit)
    s = evaluate("baseline:copy-last", data, "test", tmp_path / "ev", **QUICK)
    assert [x["key"] for x in s["skipped"]] == ["c1"]
    assert reason in s["skipped"][0]["reason"] and s["skipped"][0]["scored"] == scored
    assert s["n_clips"] == (2 if scored == "no" else 3)
    clean = evaluate("baseline:copy-last", _with_clip(tmp_path, "ref", lambda m: m), "test", tmp_path / "ev-ref",
                     **QUICK)
    assert {k.split("|")[1] for k in s["clip_scores"]} == {"c0", "c2"}  # no position error for c1 either way
    for k in ("c0", "c2"):
        assert s["clip_scores"][f"baseline:copy-last|{k}"] == clean["clip_scores"][f"baseline:copy-last|{k}"]


def test_duplicate_manifest_keys_are_refused_naming_the_key(tmp_path):
    data = synthetic_dataset(tmp_path / "ds", n_train=1, n_test=2)
    rows = pq.read_table(data / "manifest.parquet").to_pylist()
    write_manifest(data / "manifest.parquet", rows + [rows[-1]])
    with pytest.raises(ValueError, match=r"clip key 's1' appears more than once") as e:
        ClipStore(data, "test")
    assert "\n" not in str(e.value)
