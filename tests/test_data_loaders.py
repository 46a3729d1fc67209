"""The dataset from the tools ML engineers already use: torch's DataLoader (default collate,
shuffle, mixed object counts and action sizes), streaming shard by shard, and Hugging Face
`datasets` reading the folder with its four splits and every per-scenario parameter."""

from pathlib import Path

import pytest
import torch
import yaml
from torch.utils.data import DataLoader

from orrery.data import batching
from orrery.data.dataset import open_dataset
from orrery.data.stream import ShardStream
from orrery.sim.simulate import simulate

SPEC = {"name": "mix", "seed": 3, "video": {"size": 32, "fps": 15, "frames": 6}, "shard_size": 4,
        "scenarios": [
            {"scenario": "bounce", "clips": {"train": 5, "val": 1, "test": 2, "test_ood": 2},
             "params": {"restitution": [0.5, 0.9]}, "ood": {"restitution": [[0.95, 1.0]]}},
            {"scenario": "collisions_2d", "clips": {"train": 5, "val": 1, "test": 2, "test_ood": 2},
             "params": {"count": [2, 3]}, "ood": {"count": [[4, 4]]}},
            {"scenario": "push", "clips": {"train": 3, "val": 1, "test": 1, "test_ood": 1},
             "params": {"count": [2, 2]}, "ood": {"count": [[3, 3]]}}]}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("loaders") / "d"
    simulate(SPEC, out, progress=False)
    return out


def test_the_readme_snippet_runs(data):
    from orrery.data import open_dataset as from_package

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    snippet = readme.split("## Use it from Python\n\n```python\n")[1].split("```")[0]
    assert len(snippet.strip().splitlines()) <= 10 and from_package is open_dataset
    exec(snippet.replace('"runs/quickstart/data"', repr(str(data))), {})


def test_the_standard_dataloader_batches_with_shuffle_and_mixed_object_counts(data):
    ds = open_dataset(data, "train")
    torch.manual_seed(0)
    batches = list(DataLoader(ds, batch_size=8, shuffle=True))  # default collate, as users type it
    assert sum(len(b["key"]) for b in batches) == 13
    b = batches[0]
    n = ds.n_objects
    assert n >= 2 and b["position"].shape == (8, 6, n, 2) and b["objects"].shape == (8, n)
    assert b["frames"].shape == (8, 6, 32, 32, 3) and b["frames"].dtype == torch.uint8
    assert b["actions"].shape == (8, 6, ds.action_dim) and ds.action_dim == 2
    assert isinstance(b["caption"], list) and isinstance(b["key"][0], str)
    # the mask marks exactly the clip's own objects; padding is zero
    for i, key in enumerate(b["key"]):
        clip = ds.store.clip([r["key"] for r in ds.store.rows].index(key), decode=False)
        k = len(clip.meta["objects"])
        assert b["objects"][i].sum() == k and not b["objects"][i, k:].any()
        assert torch.all(b["position"][i, :, k:] == 0)
        if clip.actions is None:
            assert torch.all(b["actions"][i] == 0)  # no actuator: zero command


def test_collate_clips_keeps_meta_as_a_list_and_pads_across_datasets(data):
    ds = open_dataset(data, "train", with_meta=True)
    b = next(iter(DataLoader(ds, batch_size=4, shuffle=True, collate_fn=batching.collate_clips)))
    assert isinstance(b["meta"], list) and isinstance(b["meta"][0], dict) and "states" in b["meta"][0]
    a, c = ds[0], dict(ds[1])
    c["position"] = c["position"][:, :1]
    c["objects"] = c["objects"][:1]
    out = batching.collate_clips([a, c])
    assert out["position"].shape[2] == a["position"].shape[1] and not out["objects"][1, 1:].any()


def test_streaming_covers_the_split_once_across_workers(data):
    keys = [k for b in DataLoader(ShardStream(data, "train", shuffle=4, seed=1), batch_size=3, num_workers=2)
            for k in b["key"]]
    assert sorted(keys) == sorted(r["key"] for r in open_dataset(data, "train").store.rows)
    first = [it["key"] for it in ShardStream(data, "test")]
    assert first == [r["key"] for r in open_dataset(data, "test").store.rows]
    halves = [[it["key"] for it in ShardStream(data, "train", rank=r, world_size=2)] for r in (0, 1)]
    assert not set(halves[0]) & set(halves[1]) and len(halves[0]) + len(halves[1]) == 13


def test_only_tars_in_shards_and_a_card_with_configs(data):
    assert {p.suffix for p in (data / "shards").iterdir()} == {".tar"}
    assert len(list((data / "sidecars").glob("*.rows.json"))) == len(list((data / "shards").glob("*.tar")))
    text = (data / "README.md").read_text()
    meta = yaml.safe_load(text.split("---\n")[1])
    files = {d["split"]: d["path"] for d in meta["configs"][0]["data_files"]}
    assert files == {s: f"shards/{s}-*.tar" for s in ("train", "val", "test", "test_ood")}
    assert meta["license"] and "physics" in meta["tags"] and "push" in meta["tags"]
    fields = {f["name"]: f for f in meta["dataset_info"]["features"]}
    params = {p["name"] for f in fields["json"]["struct"] if f["name"] == "params" for p in f["struct"]}
    assert {"count", "speed", "restitution"} <= params  # collisions_2d's and bounce's, whatever comes first


def test_hugging_face_datasets_loads_four_distinct_splits_losslessly(data, tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset(str(data), cache_dir=str(tmp_path / "cache"))
    assert set(ds) == {"train", "val", "test", "test_ood"}
    assert {s: len(ds[s]) for s in ds} == {"train": 13, "val": 3, "test": 5, "test_ood": 5}
    assert all(k.startswith("test_ood-") for k in ds["test_ood"]["__key__"])
    assert not any(k.startswith("test_ood-") for k in ds["test"]["__key__"])
    store = open_dataset(data, "train").store
    for row in ds["train"]:
        ours = store.clip([r["key"] for r in store.rows].index(row["__key__"]), decode=False).meta
        theirs = row["json"]
        assert {k: v for k, v in theirs["params"].items() if v is not None} == ours["params"]
        assert theirs["states"]["position"] == ours["states"]["position"]
        assert theirs["actions"] == ours["actions"] and theirs["ood_axis"] == ours["ood_axis"]
        assert theirs["objects"][0]["size"] == ours["objects"][0]["size"]
        assert row["mp4"][4:8] == b"ftyp" and len(row["masks.npz"]["masks"]) == 6


def test_a_dataset_with_sidecars_in_shards_is_resumed_into_place(tmp_path):
    spec = {"name": "old", "seed": 1, "video": {"size": 32, "fps": 15, "frames": 4}, "shard_size": 2,
            "scenarios": [{"scenario": "bounce", "clips": {"train": 3, "val": 0, "test": 0, "test_ood": 0}}]}
    simulate(spec, tmp_path / "d", progress=False)
    for side in (tmp_path / "d" / "sidecars").glob("*.rows.json"):  # the layout older versions wrote
        side.replace(tmp_path / "d" / "shards" / side.name)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "d" / "shards").glob("*.tar")}
    simulate(spec, tmp_path / "d", progress=False)
    assert {p.suffix for p in (tmp_path / "d" / "shards").iterdir()} == {".tar"}
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "d" / "shards").glob("*.tar")} == before  # not redone
    assert len(open_dataset(tmp_path / "d", "train")) == 3
