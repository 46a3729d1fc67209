"""No false alarms on the truth: the floor (a clip's own encoded future scored as a prediction)
never raises the energy flag, in any scenario, at 32 or 64 px, including the pusher's collisions
(an actuated body adds energy; the flag compares with what the truth does). A prediction that
makes energy is still flagged."""

import numpy as np
import pytest
from conftest import ELEVEN

from orrery.data.camera import Camera
from orrery.data.dataset import ClipStore
from orrery.data.objects import StaticSpec
from orrery.eval import metrics_energy as en
from orrery.eval.scoring import parse_prediction
from orrery.eval.truth import true_tracks
from orrery.sim.parse import background_image
from orrery.sim.render import Renderer


def _tracks(clip, pred, tc=4):
    size = pred.shape[1]
    cam = Camera.from_dict(clip.meta["camera"]).resized(size)
    bg = background_image(cam, [StaticSpec.from_dict(s) for s in clip.meta["statics"]])
    p = parse_prediction(clip.meta, clip.frames[:tc], pred, cam, bg, 0)
    t = true_tracks(clip.meta, 0, tc + len(pred), size, clip.masks, future=tc)
    return p, t


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("scenario", ELEVEN)
def test_the_floor_raises_no_energy_flag(eleven, scenario, size):
    store = ClipStore(eleven(size), "test", scenarios=[scenario])
    assert len(store) == 4
    flags, collisions = [], 0
    for clip in store:
        p, t = _tracks(clip, clip.frames[4:16])
        collisions += len(en._exchanges(p, t, clip.meta))
        flags.append(en.energy_flag(p, t, clip.meta))
    assert not any(f == 1.0 for f in flags), (scenario, size, flags)
    if scenario in ("bounce", "collision_1d", "push"):
        assert collisions > 0  # the check had something to check


def test_the_pushers_collisions_are_checked_and_energy_made_is_flagged(eleven):
    # push at 64 px: the pusher adds energy in the truth (no flag); a prediction whose pushed body
    # then leaves at three times the truth's speed is flagged
    store = ClipStore(eleven(64), "test", scenarios=["push"])
    fired = 0
    for clip in store:
        p, t = _tracks(clip, clip.frames[4:16])
        xs = en._exchanges(p, t, clip.meta)
        if not xs:
            continue
        assert en.energy_flag(p, t, clip.meta) == 0.0
        events = [e for e in clip.meta["events"] if 6 <= e["frame"] <= 11 and e["a"] and e["b"]]
        if not events:
            continue
        f, body = events[0]["frame"], events[0]["b"]
        pos = np.asarray(clip.meta["states"]["position"])
        fast = pos.copy()
        fast[f:, body - 1] = pos[f, body - 1] + 3.0 * (pos[f:, body - 1] - pos[f, body - 1])
        cam = Camera.from_dict(clip.meta["camera"])
        from orrery.data.objects import ObjectSpec

        objs = [ObjectSpec.from_dict(o) for o in clip.meta["objects"]]
        frames = Renderer(cam, [StaticSpec.from_dict(s) for s in clip.meta["statics"]]).render_clip(
            objs, fast[:16], np.asarray(clip.meta["states"]["angle"])[:16])[0]
        p2, t2 = _tracks(clip, frames[4:16])
        fired += en.energy_flag(p2, t2, clip.meta) == 1.0
    assert fired >= 1
