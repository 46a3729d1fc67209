"""Captions and QA come from the ground truth, say true things, and balance yes/no answers."""

from __future__ import annotations

import numpy as np
import pytest

import orrery.sim.scenarios  # noqa: F401  (registers the built-in scenarios)
from orrery.sim.annotate import annotate, contact_episodes
from orrery.sim.palette import PALETTE
from orrery.sim.scenario import SCENARIOS, BuildContext, get_scenario


def clip_meta(name: str, params: dict | None = None, seed: int = 0, frames: int = 32, fps: float = 15) -> dict:
    """The fields of a clip record that annotation reads, as `simulate` writes them."""
    s = get_scenario(name)
    p = params or {q.name: q.default for q in s.space}
    cam = s.camera(32)
    world = s.build(p, BuildContext(np.random.default_rng(seed), cam, "train"))
    tr = world.run(frames, fps, 480)
    return {"scenario": name, "params": p, "n_frames": frames, "fps": fps, "camera": cam.to_dict(),
            "gravity": list(world.gravity), "objects": [o.to_dict() for o in world.objects],
            "statics": [x.to_dict() for x in world.statics], "events": tr.events,
            "states": {"position": tr.position.tolist()}}


def random_params(name: str, rng: np.random.Generator) -> dict:
    return get_scenario(name).space.draw(rng)[0]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_three_distinct_captions_that_name_the_objects(name):
    meta = clip_meta(name)
    captions, qa = annotate(meta, np.random.default_rng(0))
    assert len(captions) >= 3 and len(set(captions)) == len(captions)
    colours = {PALETTE[o["colour_id"]].name for o in meta["objects"]}
    for c in captions:
        assert "{" not in c and any(col in c for col in colours), c
    assert all(set(q) >= {"question", "answer", "kind"} for q in qa)
    assert {q["kind"] for q in qa} <= {"descriptive", "predictive"}


def test_bounce_captions_count_the_bounces():
    p = {"height": 2.0, "restitution": 0.8, "vx": 0.0, "radius": 0.6, "gravity": 9.81}
    meta = clip_meta("bounce", p, frames=45)
    n = len(contact_episodes(meta["events"]))
    assert n >= 2
    times = {2: "twice", 3: "three times", 4: "four times"}[n]
    captions, _ = annotate(meta, np.random.default_rng(0))
    assert any(f"bounces off the floor {times}" in c for c in captions), captions


def synthetic_meta() -> dict:
    """A red ball and a blue ball: resting on the floor from the start, hitting each other in two
    episodes (frames 5-6 merged, and 20), the blue ball hitting a wall at frame 22."""
    objects = [{"id": 1, "shape": "circle", "colour_id": 0, "role": "object", "radius": 0.5},
               {"id": 2, "shape": "circle", "colour_id": 2, "role": "object", "radius": 0.5}]
    t = 30
    pos = np.zeros((t, 2, 2))
    pos[:, 0, 0] = np.linspace(1, 6, t)
    pos[:, 1, 0] = 8
    pos[:, :, 1] = 0.5
    ev = [{"frame": 0, "a": 1, "b": 0, "impulse": [0.0, 1.0]}, {"frame": 5, "a": 1, "b": 2, "impulse": [1.0, 0.0]},
          {"frame": 6, "a": 1, "b": 2, "impulse": [1.0, 0.0]}, {"frame": 20, "a": 1, "b": 2, "impulse": [1.0, 0.0]},
          {"frame": 22, "a": 2, "b": 0, "impulse": [-3.0, 0.0]}]
    return {"scenario": "collisions_2d", "params": {"count": 2, "restitution": 0.9, "speed": 2.0, "radius": 0.5},
            "n_frames": t, "fps": 15, "camera": {"x0": 0.0, "y0": 0.0, "extent": 10.0, "size": 32},
            "gravity": [0.0, -9.81], "objects": objects, "statics": [{"kind": "segment"}], "events": ev,
            "states": {"position": pos.tolist()}}


def test_contact_episodes_merge_repeats_and_captions_skip_initial_contacts():
    meta = synthetic_meta()
    assert [e["frame"] for e in contact_episodes(meta["events"])] == [0, 5, 20, 22]
    captions, _ = annotate(meta, np.random.default_rng(0))
    text = " ".join(captions)
    assert "the red ball hits the blue ball twice" in text.lower()
    assert "the blue ball hits a wall once" in text.lower()
    assert "red ball hits the floor" not in text.lower()  # resting from frame 0 is not a hit
    assert "one collision" not in text and "two collisions between objects and one contact" in text


def test_predictive_answers_come_from_the_later_events():
    meta = synthetic_meta()
    _, qa = annotate(meta, np.random.default_rng(0))
    pred = [q for q in qa if q.get("family") == "collide"]
    # after frame 15: red-blue meet (frame 20), blue meets a wall (22); red-wall does not
    assert {tuple(q["objects"]): q["answer"] for q in pred} == {(1, 2): "yes", (1, 0): "no"} or \
        {tuple(q["objects"]): q["answer"] for q in pred} == {(2, 0): "yes", (1, 0): "no"}
    assert all(q["observed_frames"] == 15 and "After frame 15" in q["question"] for q in pred)
    # the blue ball touches a wall once after frame 15; the red ball's only contact is at frame 0
    counts = {tuple(q["objects"]): q["answer"] for q in qa if q.get("family") == "count" and "objects" in q}
    assert counts == {(1, 0): "0", (2, 0): "1"}


def test_bounce_asks_how_many_more_bounces():
    p = {"height": 1.5, "restitution": 0.8, "vx": 0.0, "radius": 0.6, "gravity": 9.81}
    meta = clip_meta("bounce", p, frames=45)
    _, qa = annotate(meta, np.random.default_rng(0))
    (q,) = [q for q in qa if q["kind"] == "predictive"]
    later = [e for e in contact_episodes(meta["events"]) if e["frame"] > 22]
    assert q["answer"] == str(len(later)) and len(later) >= 1


def test_no_wall_questions_without_walls():
    meta = clip_meta("collision_1d")
    _, qa = annotate(meta, np.random.default_rng(0))
    assert not any("wall" in q["question"] for q in qa)


def test_descriptive_answers_are_true():
    meta = clip_meta("many_bodies", dict(random_params("many_bodies", np.random.default_rng(1)), count=5), seed=1)
    _, qa = annotate(meta, np.random.default_rng(0))
    objs = meta["objects"]
    by = {q["question"]: q["answer"] for q in qa}
    assert by["How many objects are there?"] == "5"
    assert by["How many balls are there?"] == str(sum(o["shape"] == "circle" for o in objs))
    assert by["How many blocks are there?"] == str(sum(o["shape"] == "box" for o in objs))
    for o in objs:
        colour = PALETTE[o["colour_id"]].name
        noun = {"circle": "ball", "box": "block"}.get(o["shape"])
        if noun:
            assert by[f"What shape is the {colour} object?"] == noun
    exist = [q for q in qa if q.get("family") == "exist"]
    assert sorted(q["answer"] for q in exist) == ["no", "yes"]


def test_predictive_and_existence_answers_balance_over_a_dataset():
    rng = np.random.default_rng(0)
    counts = {"predictive": {"yes": 0, "no": 0}, "exist": {"yes": 0, "no": 0}}
    for i in range(24):
        name = ("collisions_2d", "many_bodies", "phyre", "push")[i % 4]
        meta = clip_meta(name, random_params(name, rng), seed=i)
        _, qa = annotate(meta, np.random.default_rng(i))
        later = {(e["a"], e["b"]) for e in meta["events"] if e["frame"] > meta["n_frames"] // 2}
        for q in qa:
            if q.get("family") == "collide":
                counts["predictive"][q["answer"]] += 1
                assert (tuple(q["objects"]) in later) == (q["answer"] == "yes")
            elif q.get("family") == "exist":
                counts["exist"][q["answer"]] += 1
    assert counts["predictive"]["yes"] == counts["predictive"]["no"] >= 10, counts
    assert counts["exist"]["yes"] == counts["exist"]["no"] == 24


def test_annotation_is_deterministic_in_its_generator():
    meta = clip_meta("collisions_2d", seed=3)
    assert annotate(meta, np.random.default_rng(5)) == annotate(meta, np.random.default_rng(5))


def test_pusher_is_named_and_not_counted_as_an_object():
    meta = clip_meta("push", seed=3)
    captions, qa = annotate(meta, np.random.default_rng(0))
    assert "pusher" in captions[0]
    count = next(q for q in qa if q["question"].startswith("How many objects"))
    assert "not counting the pusher" in count["question"]
    assert count["answer"] == str(len(meta["objects"]) - 1)
