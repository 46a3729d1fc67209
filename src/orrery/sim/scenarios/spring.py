"""Mass-spring oscillator: a block hangs from a spring under gravity, with optional damping.

x'' = -(k/m) x - (c/m) x' about the equilibrium, which gravity only shifts by m g / k: the block
oscillates at omega = sqrt(k/m - (c/2m)^2) and its amplitude decays as exp(-c t / 2m). The spring
pulls on the block's centre, so the block does not turn."""

from __future__ import annotations

import math

from ...config import ConfigError
from ..params import F, ParamSpace, Region
from ..scenario import BuildContext, Scenario

ANCHOR_HEIGHT = 9.5  # m
EQUILIBRIUM_HEIGHT = 5.0  # m: where the block rests


def _side(mass: float) -> float:
    """Block side (m): grows with the mass so that heavier reads heavier, clamped to stay visible."""
    return min(max(0.9 * math.sqrt(mass), 0.6), 1.4)


def _bound(regions: dict[str, Region], train: dict[str, Region], name: str, hi: bool) -> float:
    ivs = (regions.get(name) or train[name]).intervals
    return max(b for a, b in ivs) if hi else min(a for a, b in ivs)


class Spring(Scenario):
    name = "spring"
    summary = "A block on a spring oscillates at sqrt(k/m); damping makes the swings decay."
    shapes = ("box",)
    space = ParamSpace([
        F("stiffness", 10.0, 60.0, min=0.1, max=1000.0, unit="N/m", doc="spring constant k"),
        F("mass", 0.5, 2.0, min=0.05, max=20.0, unit="kg", doc="block mass m"),
        F("amplitude", 0.5, 2.0, min=0.0, max=3.5, unit="m", doc="initial displacement from equilibrium"),
        F("damping", 0.0, 0.5, min=0.0, max=50.0, unit="N s/m", doc="damping coefficient c (0: none)"),
    ])
    templates = (
        "{mover_cap} bobs up and down on a spring.",
        "A mass on a spring of stiffness {stiffness:.0f} N/m: {mover} oscillates around its rest position.",
        "{mover_cap} hangs from a spring and oscillates vertically{damped}.",
    )

    def validate(self, path: str, train: dict[str, Region], ood: dict[str, Region]) -> None:
        for regions in (train, ood):
            sag = _bound(regions, train, "mass", True) * self.gravity / _bound(regions, train, "stiffness", False)
            if sag > ANCHOR_HEIGHT - EQUILIBRIUM_HEIGHT - 0.3:
                raise ConfigError(f"{path}.stiffness", f"the heaviest block stretches the softest spring by "
                                f"{sag:.1f} m; it would rest below the view's centre; use a stiffer spring")

    def build(self, p: dict, ctx: BuildContext):
        w = self.new_world(p, ctx)
        m, k = p["mass"], p["stiffness"]
        x = self.origin[0] + self.extent / 2
        anchor = (x, self.origin[1] + ANCHOR_HEIGHT)
        rest = ANCHOR_HEIGHT - EQUILIBRIUM_HEIGHT - m * abs(self.gravity) / k
        y = self.origin[1] + EQUILIBRIUM_HEIGHT + p["amplitude"] * (1 if ctx.rng.random() < 0.5 else -1)
        side = _side(m)
        i = w.add_box((x, y), side, side, m, ctx.colours(["box"])[0])
        w.add_spring(i, anchor, rest, k, p["damping"])
        return w
