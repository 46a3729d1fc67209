"""Captions and QA pairs derived from a clip's ground truth (never from pixels).

`annotate(meta, rng) -> (captions, qa)`; meta is the clip record of `orrery.data.clip` (objects,
states, events, scenario, params, n_frames, fps).

Captions: each scenario's three templates (what moves and how, by which law), each followed by a
different sentence on what the bodies hit and how often, all filled from the ground truth; then one
sentence per quantity the clip states (`sim.stated`: restitution, gravity, speed, which is heavier).

QA in the CLEVRER style, every item {question, answer, kind, family}:
- descriptive: counts, colours, shapes, and existence questions asked in yes/no pairs;
- predictive: "will A hit B" about the part of the clip after `observed_frames` (the first half),
  from the collision events. Each clip asks as many yes- as no-questions (pairs are drawn from the
  pairs that do and do not meet), so answers are balanced over any dataset by construction; clips
  where all pairs answer the same way ask none. Scenery pairs are asked only where there are walls.
  Bodies that touch the scenery are also asked how many more times they will (a count answer).
Contacts of the same pair less than `EPISODE_GAP` frames apart count as one (resting bodies break
and remake contact while they settle)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .palette import PALETTE

EPISODE_GAP = 3  # frames
MAX_PREDICTIVE = 2  # yes-questions (and as many no-questions) per clip
NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
POLYGONS = {3: "triangle", 4: "quadrilateral", 5: "pentagon", 6: "hexagon"}


def _noun(obj: dict) -> str:
    if obj.get("role") == "pusher":
        return "pusher"
    if obj["shape"] == "circle":
        return "ball"
    if obj["shape"] == "box":
        return "block"
    return POLYGONS.get(len(obj.get("vertices", [])), "polygon")


def _name(obj: dict) -> str:
    return f"the {PALETTE[obj['colour_id']].name} {_noun(obj)}"


def _number(n: int) -> str:
    return NUMBERS[n] if 0 <= n < len(NUMBERS) else str(n)


def _join(names: list[str]) -> str:
    if not names:
        return "nothing"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{_number(n)} times")


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def contact_episodes(events: list[dict]) -> list[dict]:
    """First-contact events with repeats of the same pair within EPISODE_GAP frames merged."""
    last: dict[tuple[int, int], int] = {}
    out = []
    for e in sorted(events, key=lambda e: (e["frame"], e["a"], e["b"])):
        pair = (int(e["a"]), int(e["b"]))
        if pair in last and e["frame"] - last[pair] < EPISODE_GAP:
            last[pair] = e["frame"]
            continue
        last[pair] = e["frame"]
        out.append(e)
    return out


def _scenery_name(e: dict, y: float, middle: float, gravity: bool) -> str:
    ix, iy = e["impulse"]
    if gravity and abs(iy) >= abs(ix):
        return "the floor" if y <= middle else "the ceiling"
    return "a wall"


def _facts(meta: dict, episodes: list[dict]) -> dict:
    objs = meta["objects"]
    by_id = {o["id"]: o for o in objs}
    pos = np.asarray(meta["states"]["position"], dtype=np.float64)  # [T, N, 2]
    things = [o for o in objs if o.get("role", "object") != "pusher"]
    pushers = [o for o in objs if o.get("role") == "pusher"]
    index = {o["id"]: k for k, o in enumerate(objs)}
    path = np.linalg.norm(np.diff(pos, axis=0), axis=-1).sum(axis=0) if len(pos) > 1 else np.zeros(len(objs))
    mover = max(things, key=lambda o: path[index[o["id"]]]) if things else objs[0]
    n = len(things)
    p = dict(meta.get("params", {}))
    cam = meta.get("camera", {"y0": 0.0, "extent": 10.0})
    middle = cam["y0"] + cam["extent"] / 2
    gravity = bool(np.any(np.asarray(meta.get("gravity", (0.0, -9.81))) != 0))  # top-down scenes have walls only

    pair_hits: dict[tuple[int, int], int] = defaultdict(int)
    scenery_hits: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in episodes:
        if e["frame"] == 0:  # touching from the start (resting on a ramp, stacked): not a hit
            continue
        if e["b"] == 0:
            y = pos[min(e["frame"], len(pos) - 1), index[e["a"]], 1]
            scenery_hits[e["a"]][_scenery_name(e, y, middle, gravity)] += 1
        else:
            pair_hits[(e["a"], e["b"])] += 1
    facts = dict(p)
    facts.update(
        objects=_join([_name(o) for o in things]), count=_number(n), plural="s" if n != 1 else "",
        s="s" if n == 1 else "", move="moves" if n == 1 else "move", their="its" if n == 1 else "their",
        mover=_name(mover), n_collisions=sum(pair_hits.values()),
    )
    facts["objects_cap"], facts["count_cap"], facts["mover_cap"] = (
        _cap(facts["objects"]), _cap(facts["count"]), _cap(facts["mover"]))
    moved = path[index[mover["id"]]] > 0.2
    facts["slides"] = "it slides down" if moved else "friction holds it in place"
    facts["slides_short"] = "slides down the slope" if moved else "stays put, held by friction"
    facts["damped"] = " and slowly comes to rest" if p.get("damping", 0.0) > 0.05 else ""
    if "template" in p:
        launcher, target = str(p["template"]).split("-")
        facts["launcher"] = launcher
        facts["target_phrase"] = {"tower": "a tower of blocks", "dominoes": "a row of dominoes",
                                  "ball": "a resting ball"}.get(target, target)
    hit_by_mover = sorted({b if a == mover["id"] else a for a, b in pair_hits if mover["id"] in (a, b)})
    facts["collision_phrase"] = (f"it hits {_join([_name(by_id[i]) for i in hit_by_mover])}" if hit_by_mover
                                 else "it hits no other object")
    if pushers:
        facts["pusher"] = f"{PALETTE[pushers[0]['colour_id']].name} pusher disc"
        facts["pusher_cap"] = _cap("the " + facts["pusher"])
        hit = sorted({b if a == pushers[0]["id"] else a for a, b in pair_hits if pushers[0]["id"] in (a, b)})
        facts["hit_objects"] = _join([_name(by_id[i]) for i in hit]) if hit else "nothing"
    facts["_pair_hits"] = pair_hits
    facts["_scenery_hits"] = scenery_hits
    facts["_by_id"] = by_id
    facts["_mover"] = mover
    facts["_walls"] = bool(meta.get("statics"))
    return facts


def _event_sentences(f: dict) -> list[str]:
    """Three paraphrases of what hits what, and how often."""
    by_id, pair_hits, scenery = f["_by_id"], f["_pair_hits"], f["_scenery_hits"]
    mover = f["_mover"]
    own = scenery.get(mover["id"], {})
    bounces = sum(own.values())
    parts = [f"{_name(by_id[a])} hits {_name(by_id[b])} {_times(k)}" for (a, b), k in sorted(pair_hits.items())]
    parts += [f"{_name(by_id[i])} hits {where} {_times(k)}" for i, hits in sorted(scenery.items())
              for where, k in sorted(hits.items())]
    first = _cap(_join(parts)) + "." if parts else "Nothing hits anything."
    n = f["n_collisions"]
    s_total = sum(sum(h.values()) for h in scenery.values())
    second = (f"There {'is' if n == 1 else 'are'} {_number(n)} collision{'s' if n != 1 else ''} between "
              f"objects and {_number(s_total)} contact{'s' if s_total != 1 else ''} with the walls or floor.")
    if bounces:
        where = _join(sorted(own))
        third = f"{_cap(_name(mover))} bounces off {where} {_times(bounces)}."
    elif f["_walls"]:
        third = f"{_cap(_name(mover))} never touches the floor or a wall."
    else:
        third = f"{_cap(_name(mover))} moves freely; there is no floor or wall to hit."
    return [first, second, third]


def captions_for(meta: dict, templates: tuple[str, ...]) -> list[str]:
    """Template sentences (the law and the motion) each joined with one event sentence."""
    f = _facts(meta, contact_episodes(meta.get("events", [])))
    events = _event_sentences(f)
    return [t.format(**f) + " " + events[i % len(events)] for i, t in enumerate(templates)]


def _descriptive(meta: dict, rng: np.random.Generator) -> list[dict]:
    objs = meta["objects"]
    things = [o for o in objs if o.get("role", "object") != "pusher"]
    has_pusher = len(things) != len(objs)
    qa = [{"question": "How many objects are there" + (", not counting the pusher?" if has_pusher else "?"),
           "answer": str(len(things)), "kind": "descriptive", "family": "count"}]
    for noun, plural in (("ball", "balls"), ("block", "blocks")):
        qa.append({"question": f"How many {plural} are there?", "kind": "descriptive", "family": "count",
                   "answer": str(sum(_noun(o) == noun for o in things))})
    nouns = [_noun(o) for o in things]
    for o, noun in zip(things, nouns, strict=True):
        colour = PALETTE[o["colour_id"]].name
        qa.append({"question": f"What shape is the {colour} object?", "answer": noun,
                   "kind": "descriptive", "family": "shape"})
        if nouns.count(noun) == 1:
            qa.append({"question": f"What colour is the {noun}?", "answer": colour,
                       "kind": "descriptive", "family": "colour"})
    # existence in yes/no pairs: one present (colour, noun) and one absent, so answers balance
    present = {(PALETTE[o["colour_id"]].name, n) for o, n in zip(things, nouns, strict=True)}
    absent = [(c.name, n) for c in PALETTE for n in sorted(set(nouns) | {"ball", "block"})
              if (c.name, n) not in present]
    if present and absent:
        yes = sorted(present)[int(rng.integers(len(present)))]
        no = absent[int(rng.integers(len(absent)))]
        for (colour, noun), answer in ((yes, "yes"), (no, "no")):
            qa.append({"question": f"Is there {_a(colour)} {noun}?", "answer": answer,
                       "kind": "descriptive", "family": "exist"})
    return qa


def _predictive(meta: dict, episodes: list[dict], rng: np.random.Generator) -> list[dict]:
    objs = meta["objects"]
    observed = int(meta["n_frames"]) // 2
    later = {(e["a"], e["b"]) for e in episodes if e["frame"] > observed}
    ids = [o["id"] for o in objs]
    pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1:]]
    if meta.get("statics"):  # without walls "will it hit a wall" is always no: not worth asking
        pairs += [(a, 0) for a in ids]
    yes = [q for q in pairs if q in later]
    no = [q for q in pairs if q not in later]
    k = min(len(yes), len(no), MAX_PREDICTIVE)
    by_id = {o["id"]: o for o in objs}
    qa = []
    for group, answer in ((yes, "yes"), (no, "no")):
        for j in sorted(rng.choice(len(group), size=k, replace=False).tolist()) if k else []:
            a, b = group[j]
            other = "the floor or a wall" if b == 0 else _name(by_id[b])
            qa.append({"question": f"After frame {observed}, will {_name(by_id[a])} hit {other}?",
                       "answer": answer, "kind": "predictive", "family": "collide",
                       "observed_frames": observed, "objects": [int(a), int(b)]})
    if meta.get("statics"):
        # how often each moving body will still touch the scenery (bounces): a numeric answer
        for o in objs:
            if o.get("role") == "pusher" or not any(e["a"] == o["id"] and e["b"] == 0 for e in episodes):
                continue
            n = sum(1 for e in episodes if e["a"] == o["id"] and e["b"] == 0 and e["frame"] > observed)
            qa.append({"question": f"After frame {observed}, how many times will {_name(o)} touch the floor "
                       "or a wall?", "answer": str(n), "kind": "predictive", "family": "count",
                       "observed_frames": observed, "objects": [int(o["id"]), 0]})
    return qa


def annotate(meta: dict, rng: np.random.Generator) -> tuple[list[str], list[dict]]:
    """(captions, qa) of one simulated clip, from its ground truth; rng picks which questions."""
    from .scenario import get_scenario

    templates = getattr(get_scenario(meta["scenario"]), "templates", ())
    if len(templates) < 3:
        raise ValueError(f"scenario {meta['scenario']!r} has {len(templates)} caption templates; it needs 3")
    episodes = contact_episodes(meta.get("events", []))
    captions = captions_for(meta, templates)
    qa = _descriptive(meta, rng) + _predictive(meta, episodes, rng)
    # sentences stating measurable quantities (restitution, gravity, speed, which is heavier) come
    # last, drawn after the questions so that the questions stay what they were
    from .stated import stated_captions

    return captions + stated_captions(meta, rng), qa
