"""The artefact suite: codec and colour artefacts of an outside generator's strength (H.264 yuv420p
crf 23, 10 degrees of hue, saturation, brightness, contrast, gamma, mild blur and noise) neither
spawn nor lose objects and keep the position error within 0.3 px of the floor, in all eleven
scenarios at 64 px; shifts and lags score their known size."""

import math

import numpy as np
import pytest
from conftest import ELEVEN

from orrery.data.dataset import ClipStore
from orrery.eval.artefacts import ARTEFACT_BY_NAME, ARTEFACTS, apply, score_artefact

AIMED = [a for a in ARTEFACTS if a.aim and a.kind != "geometric"]
GEOMETRIC = [a for a in ARTEFACTS if a.kind == "geometric"]


@pytest.mark.parametrize("scenario", ELEVEN)
def test_artefacts_neither_spawn_nor_lose_and_geometry_scores_its_size(eleven, scenario):
    store = ClipStore(eleven(64), "test", scenarios=[scenario])
    floor_err, err = [], {a.name: [] for a in AIMED}
    for i in (0, 1):  # the position aim is on the mean over clips
        clip = store.clip(i)
        ctx, fut = clip.frames[:4], clip.frames[4:16]
        floor = score_artefact(clip.meta, ctx, fut, clip.masks, None)
        assert floor["spawned"] == 0 and floor["lost"] == 0
        floor_err.append(floor["position_error_px"])
        for a in AIMED:
            r = score_artefact(clip.meta, ctx, fut, clip.masks, a)
            assert r["spawned"] == 0 and r["lost"] == 0, (a.name, r)
            assert r["energy_flag"] != 1.0, (a.name, r)
            err[a.name].append(r["position_error_px"])
        if i == 0:
            for a in GEOMETRIC:
                r = score_artefact(clip.meta, ctx, fut, clip.masks, a)
                if math.isnan(r["known_px"]):  # a lag where nothing is seen in full
                    continue
                assert abs(r["position_error_px"] - r["known_px"]) <= 0.15 + floor["position_error_px"], (a.name, r)
                assert r["spawned"] == 0
    for name, e in err.items():
        assert np.mean(e) <= np.mean(floor_err) + 0.3, (name, e, floor_err)


def test_artefacts_change_frames_as_named_and_refuse_bad_input():
    rng = np.random.default_rng(0)
    ctx = rng.integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
    fut = rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(apply("lag2", ctx, fut, 15.0)[:2], ctx[-2:])
    np.testing.assert_array_equal(apply("lag2", ctx, fut, 15.0)[2:], fut[:-2])
    np.testing.assert_array_equal(apply("shift1px", ctx, fut, 15.0)[:, :, 1:], fut[:, :, :-1])
    bright = apply("brightness+20", ctx, np.zeros_like(fut), 15.0)
    assert (bright == 20).all()
    coded = apply("h264-yuv420p-crf23", ctx, fut, 15.0)
    assert coded.shape == fut.shape and not np.array_equal(coded, fut)
    assert {a.kind for a in ARTEFACTS} == {"codec", "photometric", "geometric"}
    with pytest.raises(ValueError, match="unknown artefact"):
        apply("sepia", ctx, fut, 15.0)
    with pytest.raises(ValueError, match="context frames"):
        apply(ARTEFACT_BY_NAME["lag2"], ctx[:1], fut, 15.0)
