"""The scenario interface and registry.

A scenario is one physical law made visible: a typed `ParamSpace` (units, validity limits,
default ranges) and a `build(params, ctx)` that places bodies in a `World`. Everything else
(stepping, readout, rendering, captions, QA, writing) is shared."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..config import ConfigError
from ..data.camera import Camera
from .palette import PALETTE, colour_by_name
from .params import ParamSpace, Region
from .world import World


@dataclass
class BuildContext:
    """What a scenario's builder may use besides its parameters.

    rng:        the clip's own generator (all randomness of the clip comes from it).
    held_out:   (colour_name, shape) pairs that must never appear in train/val/test.
    require:    for a test_ood clip on the 'combos' axis: one held-out pair that must appear.
    """

    rng: np.random.Generator
    camera: Camera
    split: str
    held_out: tuple[tuple[str, str], ...] = ()
    require: tuple[str, str] | None = None
    _forbidden: set = field(default_factory=set)

    @property
    def required_shape(self) -> str | None:
        """The shape a builder with a choice of shapes must give at least one object, if any."""
        return None if self.require is None else self.require[1]

    def colours(self, shapes: list[str]) -> list[int]:
        """Distinct palette colour ids for objects of the given shapes, honouring held-out pairs."""
        n = len(shapes)
        if n > len(PALETTE):
            raise ValueError(f"{n} objects but the palette has {len(PALETTE)} colours")
        forbidden = {(colour_by_name(c).id, s) for c, s in self.held_out}
        for _ in range(200):
            ids = [int(i) for i in self.rng.permutation(len(PALETTE))[:n]]
            if self.require is not None:
                want = (colour_by_name(self.require[0]).id, self.require[1])
                slots = [k for k, s in enumerate(shapes) if s == want[1]]
                if not slots:
                    raise ValueError(f"held-out combination {self.require} needs a {want[1]}, "
                                     "but the scene has none")
                k = slots[int(self.rng.integers(len(slots)))]
                if want[0] in ids:
                    ids[ids.index(want[0])] = ids[k]
                ids[k] = want[0]
                return ids
            if not any((c, s) in forbidden for c, s in zip(ids, shapes, strict=True)):
                return ids
        raise ValueError(f"cannot colour shapes {shapes} avoiding held-out pairs {self.held_out}")


class Scenario(ABC):
    """Subclass, set the class attributes, implement `build`, and add it to `BUILTIN` (or call
    `register(cls)` for a scenario that lives outside orrery)."""

    name: ClassVar[str]
    summary: ClassVar[str]  # one sentence: what law it shows
    space: ClassVar[ParamSpace]
    shapes: ClassVar[tuple[str, ...]] = ("circle",)  # shapes it can produce (for held-out pairs)
    extent: ClassVar[float] = 10.0  # metres of world seen by the camera
    origin: ClassVar[tuple[float, float]] = (0.0, 0.0)  # world point at the image's bottom-left
    gravity: ClassVar[float] = 9.81  # default |g|, m/s^2 (a parameter named 'gravity' overrides it)
    # caption templates (at least three paraphrases), formatted by `sim.annotate` with the clip's
    # parameters and facts such as {mover} / {mover_cap} (the main moving object's name)
    templates: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def build(self, p: dict, ctx: BuildContext) -> World:
        """Place the bodies of one clip for parameters `p`."""

    def validate(self, path: str, train: dict[str, Region], ood: dict[str, Region]) -> None:
        """Reject impossible parameter regions (e.g. more objects than fit); raise ConfigError.
        The default accepts every region the parameters' validity limits allow."""
        return None

    def camera(self, size: int) -> Camera:
        return Camera(self.origin[0], self.origin[1], self.extent, size)

    def new_world(self, p: dict, ctx: BuildContext) -> World:
        g = float(p.get("gravity", self.gravity))
        return World(ctx.camera, gravity=(0.0, -g))


# The built-in scenarios, one module each: name -> "module:Class", imported when first asked for.
BUILTIN: dict[str, str] = {
    "uniform_motion": "orrery.sim.scenarios.uniform_motion:UniformMotion",
    "projectile": "orrery.sim.scenarios.projectile:Projectile",
    "bounce": "orrery.sim.scenarios.bounce:Bounce",
    "collision_1d": "orrery.sim.scenarios.collision_1d:Collision1D",
    "collisions_2d": "orrery.sim.scenarios.collisions_2d:Collisions2D",
    "pendulum": "orrery.sim.scenarios.pendulum:Pendulum",
    "spring": "orrery.sim.scenarios.spring:Spring",
    "incline": "orrery.sim.scenarios.incline:Incline",
    "many_bodies": "orrery.sim.scenarios.many_bodies:ManyBodies",
    "phyre": "orrery.sim.scenarios.phyre:Phyre",
    "push": "orrery.sim.scenarios.push:Push",
}
_EXTRA: dict[str, type[Scenario]] = {}  # scenarios registered at run time (tests, plug-ins)


class _Registry(Mapping):
    """name -> scenario class, over the built-in table and `register`ed extras."""

    def __getitem__(self, name: str) -> type[Scenario]:
        if name in _EXTRA:
            return _EXTRA[name]
        module, cls = BUILTIN[name].split(":")
        return getattr(importlib.import_module(module), cls)

    def __iter__(self):
        return iter([*BUILTIN, *_EXTRA])

    def __len__(self) -> int:
        return len(BUILTIN) + len(_EXTRA)


SCENARIOS: Mapping[str, type[Scenario]] = _Registry()


def register(cls: type[Scenario]) -> type[Scenario]:
    """Add a scenario defined outside orrery (names must be new)."""
    if cls.name in BUILTIN or cls.name in _EXTRA:
        raise ValueError(f"scenario {cls.name!r} registered twice")
    _EXTRA[cls.name] = cls
    return cls


def get_scenario(name: str, path: str = "scenario") -> Scenario:
    if name not in SCENARIOS:
        raise ConfigError(path, f"unknown scenario {name!r}; expected one of {sorted(SCENARIOS)}")
    return SCENARIOS[name]()
