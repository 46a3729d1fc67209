"""The World's stepping: the direct Chipmunk substep gives exactly what pymunk's Space.step gives."""

import numpy as np
import pytest

import orrery.sim.scenarios  # noqa: F401  (fills the registry before parametrising)
import orrery.sim.world as world_mod
from orrery.sim.scenario import SCENARIOS, BuildContext, get_scenario


def _run(name: str, plain: bool, monkeypatch) -> world_mod.Trajectory:
    if plain:
        monkeypatch.setattr(world_mod, "_fast_stepper", lambda space: (None, None))  # Space.step throughout
    s = get_scenario(name)
    p = {k: s.space.params[k].default for k in s.space.params}
    w = s.build(p, BuildContext(np.random.default_rng(5), s.camera(32), "train"))
    return w.run(24, 15.0, 480.0)


@pytest.mark.parametrize("name", sorted(n for n in SCENARIOS if not n.startswith("_")))
def test_fast_substeps_equal_space_step(name, monkeypatch):
    fast = _run(name, False, monkeypatch)
    plain = _run(name, True, monkeypatch)
    for field in ("position", "velocity", "angle", "angular_velocity"):
        assert np.array_equal(getattr(fast, field), getattr(plain, field)), field
    assert fast.events == plain.events
    if fast.actions is not None:
        assert np.array_equal(fast.actions, plain.actions)
