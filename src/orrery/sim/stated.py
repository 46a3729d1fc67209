"""Physical quantities a caption can state, from a clip's ground truth, and sentences stating them.

`stated_facts(meta)` lists the quantities of a clip that its pixels can show and a ruler can
measure back (`verify.quantities`):

- `restitution` (bounce, collisions_2d): the coefficient of restitution e of the scenario;
- `gravity` (projectile, bounce): |g| in m/s^2;
- `speed` (uniform_motion, collision_1d): the moving ball's speed at the start, m/s;
- `heavier` (collision_1d): which of the two balls is heavier (value 1.0: `subject` is heavier
  than `other`).

Each fact carries three paraphrases (`texts`); `annotate` adds one of them per fact to the clip's
captions, so a text-conditioned model trained on the captions sees the quantities stated."""

from __future__ import annotations

import numpy as np

from .palette import PALETTE

PARAPHRASES = {
    "restitution": ("{subject_cap} bounces with a coefficient of restitution of {value:.2f}.",
                    "Every impact of {subject} keeps {value:.2f} of its normal speed (restitution {value:.2f}).",
                    "Restitution is {value:.2f}: {subject} rebounds at {value:.2f} times its impact speed."),
    "gravity": ("Gravity here is {value:.1f} m/s^2.",
                "{subject_cap} falls with an acceleration of {value:.1f} m/s^2.",
                "The gravitational acceleration is {value:.1f} meters per second squared."),
    "speed": ("{subject_cap} starts at {value:.1f} m/s.",
              "{subject_cap} moves at a speed of {value:.1f} meters per second.",
              "At first {subject} travels {value:.1f} m every second."),
    "heavier": ("{subject_cap} is heavier than {other}.",
                "{other_cap} is lighter than {subject}.",
                "Of the two, {subject} has the greater mass."),
}
UNITS = {"restitution": "", "gravity": "m/s^2", "speed": "m/s", "heavier": "bool"}


def _name(o: dict) -> str:
    return f"the {PALETTE[o['colour_id']].name} ball" if o["shape"] == "circle" else \
        f"the {PALETTE[o['colour_id']].name} {'block' if o['shape'] == 'box' else 'polygon'}"


def _fact(quantity: str, value: float, subject: dict, other: dict | None = None) -> dict:
    names = {"subject": _name(subject), "other": _name(other) if other else ""}
    names.update(subject_cap=names["subject"][:1].upper() + names["subject"][1:],
                 other_cap=names["other"][:1].upper() + names["other"][1:])
    return {"quantity": quantity, "value": float(value), "unit": UNITS[quantity], "subject": int(subject["colour_id"]),
            "other": None if other is None else int(other["colour_id"]),
            "texts": [t.format(value=value, **names) for t in PARAPHRASES[quantity]]}


def stated_facts(meta: dict) -> list[dict]:
    """The quantities of this clip a caption may state (see the module doc)."""
    scen, p = meta.get("scenario"), meta.get("params", {})
    objs = [o for o in meta.get("objects", []) if o.get("role", "object") == "object"]
    if not objs or "states" not in meta:
        return []
    colours = [o["colour_id"] for o in objs]
    if len(set(colours)) != len(colours):  # one colour, two bodies: the pixels cannot tell which
        return []
    st = meta["states"]
    if "velocity" in st:
        vel = np.asarray(st["velocity"], np.float64)
    else:  # records without velocities: the first step's displacement rate
        pos = np.asarray(st["position"], np.float64)
        vel = (pos[1:2] - pos[:1]) * float(meta.get("fps", 1.0)) if len(pos) > 1 else np.zeros_like(pos)
    ids = [o["id"] for o in meta["objects"]]
    facts = []
    if scen in ("bounce", "collisions_2d") and "restitution" in p:
        facts.append(_fact("restitution", p["restitution"], objs[0]))
    if scen in ("projectile", "bounce"):
        g = float(np.linalg.norm(meta.get("gravity", [0.0, -9.81])))
        if g > 0:
            facts.append(_fact("gravity", g, objs[0]))
    if scen in ("uniform_motion", "collision_1d"):
        speeds = [float(np.linalg.norm(vel[0, ids.index(o["id"])])) for o in objs]
        k = int(np.argmax(speeds))
        facts.append(_fact("speed", speeds[k], objs[k]))
    if scen == "collision_1d" and len(objs) == 2 and abs(objs[0]["mass"] - objs[1]["mass"]) > 0.05 * max(
            objs[0]["mass"], objs[1]["mass"]):
        heavy, light = sorted(objs, key=lambda o: -o["mass"])
        facts.append(_fact("heavier", 1.0, heavy, light))
    return facts


def stated_captions(meta: dict, rng: np.random.Generator) -> list[str]:
    """One paraphrase per stated fact (drawn by `rng`)."""
    return [f["texts"][int(rng.integers(len(f["texts"])))] for f in stated_facts(meta)]
