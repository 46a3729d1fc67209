"""The stage protocol: fan-out, rejections with reasons, an exception sets one item aside (the
others go on), a fatal stage error stops everything; inputs past decode.max_frames are said."""

from __future__ import annotations

import pytest

from orrery.curate.probe import ProbeDecode
from orrery.curate.stages import FatalStageError, Pipeline, Rejection, Stage


class Split3(Stage):
    name = "split3"

    def process(self, item):
        return [f"{item}-{i}" for i in range(3)]


class FailOn1(Stage):
    name = "fail"

    def process(self, item):
        if item.endswith("-1"):
            raise ZeroDivisionError("boom")
        if item.endswith("-2"):
            return Rejection(item, "src", self.name, "too_dull", "detail")
        return item + "!"


class Fatal(Stage):
    name = "fatal"

    def process(self, item):
        raise FatalStageError("guard down")


def test_pipeline_fans_out_rejects_and_contains_errors():
    pipe = Pipeline([Split3(), FailOn1()])
    kept, rejected = pipe.run("x")
    assert kept == ["x-0!"]
    assert sorted((r.key, r.stage, r.reason) for r in rejected) == [("x-1", "fail", "error"),
                                                                     ("x-2", "fail", "too_dull")]
    assert "ZeroDivisionError: boom" in next(r.detail for r in rejected if r.reason == "error")
    assert pipe.counts == {"split3": [1, 3, 0], "fail": [3, 1, 2]}


def test_fatal_stage_error_stops_the_run():
    with pytest.raises(FatalStageError):
        Pipeline([Split3(), Fatal()]).run("x")


def test_max_frames_is_said_not_silent(tmp_path):
    import numpy as np

    from orrery.data.video import encode_mp4

    p = tmp_path / "v.mp4"
    p.write_bytes(encode_mp4(np.zeros((30, 16, 16, 3), np.uint8), 10.0))
    out = ProbeDecode(16, 12, timeout_s=20.0).process(("v.mp4", str(p), "id"))
    video, rest = out
    assert len(video.frames) == 12 and rest.reason == "too_long" and "12 frames" in rest.detail
