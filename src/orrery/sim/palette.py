"""The fixed object palette. Colour identifies an object for the evaluator, so colours are far
apart in RGB (and stay apart after yuv444p encoding), and never the background or scenery grey."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BACKGROUND = (0, 0, 0)
SCENERY = (110, 110, 110)  # static walls, floors, ramps: drawn, never parsed as objects


@dataclass(frozen=True)
class Colour:
    id: int
    name: str
    rgb: tuple[int, int, int]


PALETTE: tuple[Colour, ...] = (
    Colour(0, "red", (230, 25, 25)),
    Colour(1, "green", (20, 200, 40)),
    Colour(2, "blue", (30, 80, 255)),
    Colour(3, "yellow", (240, 230, 20)),
    Colour(4, "magenta", (230, 30, 230)),
    Colour(5, "cyan", (20, 220, 230)),
    Colour(6, "orange", (255, 140, 0)),
    Colour(7, "white", (250, 250, 250)),
    Colour(8, "purple", (140, 50, 200)),
    Colour(9, "pink", (255, 150, 170)),
)

COLOUR_NAMES = tuple(c.name for c in PALETTE)


def colour_by_name(name: str) -> Colour:
    for c in PALETTE:
        if c.name == name:
            return c
    raise KeyError(f"unknown colour {name!r}; the palette has {', '.join(COLOUR_NAMES)}")


def palette_array() -> np.ndarray:
    """The palette as uint8 [K, 3], row k = colour id k."""
    return np.array([c.rgb for c in PALETTE], dtype=np.uint8)
