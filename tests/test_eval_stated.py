"""Stated physics: captions state measurable quantities, the ruler measures them back from pixels
(closed-form scenes), and the stated-vs-measured report runs on an untrained text model (smoke)."""

import numpy as np
import pytest
from test_models_families import tiny  # noqa: F401 (the families' tiny configs)

from orrery.data.dataset import ClipStore
from orrery.eval.stated import set_guidance, stated_vs_measured
from orrery.eval.synthetic import scene
from orrery.models.baselines import CopyLast
from orrery.models.registry import get_family
from orrery.sim.annotate import annotate
from orrery.sim.stated import stated_facts
from orrery.verify.quantities import measure
from orrery.verify.scene import SceneLayout


def test_captions_state_the_true_quantities(eleven):
    by = {c.scenario: c for c in ClipStore(eleven(32), "test")}
    bounce = by["bounce"].meta
    facts = {f["quantity"]: f for f in stated_facts(bounce)}
    assert facts["restitution"]["value"] == pytest.approx(bounce["params"]["restitution"])
    assert facts["gravity"]["value"] == pytest.approx(9.81)
    assert any(f"{bounce['params']['restitution']:.2f}" in c for c in by["bounce"].captions)
    c1d = [c.meta for c in ClipStore(eleven(32), "test", scenarios=["collision_1d"])]
    meta = next(m for m in c1d if any(f["quantity"] == "heavier" for f in stated_facts(m)))
    facts = {f["quantity"]: f for f in stated_facts(meta)}
    heavy = max(meta["objects"], key=lambda o: o["mass"])
    assert facts["heavier"]["subject"] == heavy["colour_id"] and "heavier" in facts["heavier"]["texts"][0]
    assert facts["speed"]["value"] == pytest.approx(max(meta["params"]["speed_a"], meta["params"]["speed_b"]), rel=1e-3)
    assert stated_facts(by["pendulum"].meta) == []
    captions, _ = annotate(by["uniform_motion"].meta, np.random.default_rng(0))
    (speed,) = stated_facts(by["uniform_motion"].meta)
    assert captions[-1] in speed["texts"] and len(captions) == 4


def test_the_ruler_measures_closed_form_quantities():
    frames, _, meta = scene(64, 32, seed=0, e=0.7)  # a red ball bouncing with e = 0.7, g = 9.81
    lay = SceneLayout.from_meta(meta)
    red = measure(frames, meta["fps"], lay, subject=0)
    assert red["restitution"] == pytest.approx(0.7, abs=0.07)
    assert red["gravity"] == pytest.approx(9.81, rel=0.1)
    green = measure(frames, meta["fps"], lay, subject=1, other=2)  # rolls at constant speed, then a swap
    u2 = np.linalg.norm(np.asarray(meta["states"]["velocity"])[0, 1])
    assert green["speed"] == pytest.approx(u2, rel=0.1)
    with pytest.raises(ValueError, match="layout"):
        measure(frames, meta["fps"], None, subject=0)


def test_stated_vs_measured_smoke_with_guidance_and_the_control(eleven):
    fam = get_family("pixel")
    net = fam.net(fam.config(context=2, channels=(8, 8), residual_channels=(8, 8), cond_dim=8, text_dim=8, unroll=1))
    wm = fam.adapter(net, None, 0, "cpu")
    clips = [c for c in ClipStore(eleven(32), "test", scenarios=["projectile", "uniform_motion"])][:2]
    res = stated_vs_measured(wm, clips, guidances=(1.0, 2.0), context=4, horizon=10)
    runs = {r["run"] for r in res["rows"]}
    assert runs == {"truth", "control", "guidance=1", "guidance=2"}
    assert net.cfg.guidance == 2.0
    for q, by_run in res["summary"].items():
        err, n = by_run["truth"]
        assert n >= 1 and err < 0.15, (q, by_run)  # the ruler on the truth: its own floor
    with pytest.raises(ValueError, match="guidance"):
        set_guidance(CopyLast(), 2.0)
