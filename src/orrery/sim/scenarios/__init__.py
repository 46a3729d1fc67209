"""Built-in scenarios, one file each; importing this package registers them."""

from . import (  # noqa: F401
    bounce,
    collision_1d,
    collisions_2d,
    incline,
    many_bodies,
    pendulum,
    phyre,
    projectile,
    push,
    spring,
    uniform_motion,
)
