"""Sampling is balanced, honours gaps and OOD regions, and depends on the spec alone."""

import numpy as np

from orrery.sim.params import C, F, I, ParamSpace, sample_params
from orrery.sim.simulate import plan
from orrery.sim.spec import parse_spec

SPACE = ParamSpace([F("x", 0.0, 10.0, min=0.0), I("n", 1, 4, min=1), C("kind", ["a", "b", "c"])])


def regions(overrides=None, ood=None):
    train = SPACE.parse_train("p", overrides or {})
    return train, SPACE.parse_ood("o", ood or {}, train)


def test_balanced_uses_every_stratum_once():
    train, ood = regions()
    ps = sample_params(SPACE, train, ood, 20, "balanced", False, np.random.default_rng(0))
    strata = sorted(int(p["x"] // 0.5) for p in ps)  # 20 strata of width 0.5 over [0, 10]
    assert strata == list(range(20))
    kinds = [p["kind"] for p in ps]
    assert max(kinds.count(k) for k in "abc") - min(kinds.count(k) for k in "abc") <= 1
    ns = [p["n"] for p in ps]
    assert all(ns.count(k) == 5 for k in range(1, 5))


def test_uniform_and_grid_stay_in_range():
    train, ood = regions()
    for mode in ("uniform", "grid"):
        ps = sample_params(SPACE, train, ood, 27, mode, False, np.random.default_rng(1))
        assert all(0.0 <= p["x"] <= 10.0 and 1 <= p["n"] <= 4 for p in ps)
    grid = sample_params(SPACE, train, ood, 27, "grid", False, np.random.default_rng(1))
    assert len({p["x"] for p in grid}) == 3  # 3 levels per parameter for 27 = 3^3 points


def test_gap_is_never_sampled_and_ood_lands_in_its_regions():
    train, ood = regions({"x": {"range": [0.0, 10.0], "gap": [4.0, 6.0]}}, {"x": [[4.0, 6.0], [12.0, 15.0]]})
    ps = sample_params(SPACE, train, ood, 200, "uniform", False, np.random.default_rng(2))
    assert not any(4.0 < p["x"] < 6.0 for p in ps)
    po = sample_params(SPACE, train, ood, 50, "balanced", True, np.random.default_rng(3))
    assert all(4.0 <= p["x"] <= 6.0 or 12.0 <= p["x"] <= 15.0 for p in po)
    assert any(p["x"] > 12.0 for p in po) and any(p["x"] < 6.0 for p in po)


def test_ood_axes_are_balanced():
    train, ood = regions({"kind": ["a", "b"], "n": [1, 2]}, {"kind": ["c"], "n": [[3, 4]]})
    po = sample_params(SPACE, train, ood, 10, "balanced", True, np.random.default_rng(4))
    axes = [p["_ood_axis"] for p in po]
    assert axes.count("kind") == 5 and axes.count("n") == 5
    assert all(p["kind"] == "c" for p in po if p["_ood_axis"] == "kind")
    assert all(p["n"] >= 3 for p in po if p["_ood_axis"] == "n")
    # only the clip's own OOD axis leaves the training distribution
    assert all(p["kind"] in "ab" for p in po if p["_ood_axis"] == "n")
    assert all(p["n"] <= 2 for p in po if p["_ood_axis"] == "kind")


SPEC = {
    "name": "t", "seed": 7, "video": {"size": 32, "fps": 15, "frames": 8},
    "scenarios": [{"scenario": "projectile", "clips": {"train": 6, "val": 2, "test": 2, "test_ood": 4},
                   "params": {"speed": [4.0, 8.0]}, "ood": {"speed": [[10.0, 12.0]]}}],
}


def _plan_digest(spec: dict) -> str:
    import hashlib

    p = plan(*parse_spec(spec))
    rows = [(s, c.seed, sorted(c.params.items()), c.ood_axis) for s in sorted(p) for c in p[s]]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_plan_depends_on_spec_only():
    """The same spec plans the same clips in other processes (other hash seeds); another spec seed
    plans others."""
    import json
    import os
    import subprocess
    import sys

    here = _plan_digest(SPEC)
    code = (f"import json, sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
            f"from test_sim_sampling import _plan_digest; print(_plan_digest(json.loads({json.dumps(SPEC)!r})))")
    for hash_seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr[-1000:]
        assert out.stdout.strip() == here
    assert _plan_digest(dict(SPEC, seed=8)) != here
    a = plan(*parse_spec(SPEC))
    seeds = [c.seed for split in a.values() for c in split]
    assert len(set(seeds)) == len(seeds)
    assert all(c.ood_axis == "speed" and c.params["speed"] >= 10.0 for c in a["test_ood"])
    assert all(c.ood_axis is None and c.params["speed"] <= 8.0 for c in a["train"])


def test_held_out_combos_never_in_train_and_always_in_ood():
    from orrery.sim.simulate import make_clip

    spec = {"name": "c", "seed": 3, "video": {"size": 32, "fps": 15, "frames": 4},
            "scenarios": [{"scenario": "many_bodies", "clips": {"train": 12, "test_ood": 4},
                           "held_out_combos": [{"colour": "red", "shape": "box"}]}]}
    s, entries = parse_spec(spec)
    p = plan(s, entries)
    video = s.video.model_dump()
    for c in p["train"]:
        objs = make_clip(c, video).meta["objects"]
        assert not any(o["colour_id"] == 0 and o["shape"] == "box" for o in objs)
    for c in p["test_ood"]:
        objs = make_clip(c, video).meta["objects"]
        assert any(o["colour_id"] == 0 and o["shape"] == "box" for o in objs)
