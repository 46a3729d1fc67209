"""Privacy guard: OpenCV's CascadeClassifier with its bundled cascade finds a drawn face, faces get
blurred, the guard fails closed (a missing or unloadable cascade), the caption blocklist rejects."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from orrery.curate.config import parse_config
from orrery.curate.faces import CASCADE_NAME, FaceDetector, find_cascade
from orrery.curate.pipeline import curate
from orrery.curate.privacy import CaptionBlocklist, FaceBlur, PrivacyGuardError
from orrery.curate.stages import ClipItem, Rejection
from orrery.curate.synth import draw_face, make_shot


@pytest.fixture(scope="module")
def cascade() -> str:
    found = find_cascade()
    assert found is not None and found.is_file(), f"OpenCV {cv2.__version__} bundles no {CASCADE_NAME}: pin <5"
    return str(found)


def test_the_cascade_is_the_one_opencv_4_bundles():
    assert cv2.__version__.startswith("4.") and find_cascade() == Path(cv2.data.haarcascades) / CASCADE_NAME


def _face_image(size=60, blur=3) -> np.ndarray:
    img = np.full((128, 128, 3), (60, 80, 70), np.uint8)
    draw_face(img, 64, 64, size)
    return cv2.GaussianBlur(img, (blur, blur), 0) if blur else img


@pytest.mark.parametrize("size,blur,expected", [(60, 3, [28, 28, 73, 73]), (80, 0, [18, 18, 94, 94]),
                                                (40, 0, [38, 40, 52, 52])])
def test_the_detector_finds_a_drawn_face(cascade, size, blur, expected):
    # expected boxes: those the removed hand-written evaluator found, within a pixel
    grey = cv2.cvtColor(_face_image(size, blur), cv2.COLOR_RGB2GRAY)
    boxes = FaceDetector(cascade).detect([grey], 1.1, 3, 24)[0].tolist()
    assert len(boxes) == 1
    assert np.abs(np.array(boxes[0]) - expected).max() <= 1


def test_the_detector_finds_nothing_in_noise_and_shapes(cascade):
    rng = np.random.default_rng(0)
    greys = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in make_shot(rng, 6, 72, 128)]
    greys.append(rng.integers(0, 256, (72, 128), dtype=np.uint8))
    assert all(len(b) == 0 for b in FaceDetector(cascade).detect(greys))


def test_face_is_blurred_in_the_output_clip(cascade):
    rng = np.random.default_rng(1)
    work = make_shot(rng, 12, 128, 128, n_shapes=0)
    for t, f in enumerate(work):
        draw_face(f, 54 + t, 64, 60)
    out = np.stack([cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in work])
    item = ClipItem("k", "s", "i", 0, out.copy(), 25.0, 0.0, 0.5, (0, 12), work=work, scores={})
    res = FaceBlur(24, 4, cascade).process(item)
    assert res.faces_blurred == 1
    face = (slice(20, 44), slice(20, 44))  # the face's centre region at output size
    before = cv2.Laplacian(cv2.cvtColor(out[5], cv2.COLOR_RGB2GRAY)[face], cv2.CV_64F).var()
    after = cv2.Laplacian(cv2.cvtColor(res.frames[5], cv2.COLOR_RGB2GRAY)[face], cv2.CV_64F).var()
    assert after < 0.2 * before
    np.testing.assert_array_equal(res.frames[:, :6], out[:, :6])  # the top rows, far from the face: untouched


def test_guard_fails_closed_before_any_work(tmp_path):
    (tmp_path / "in").mkdir()
    cfg = parse_config({"privacy": {"cascade": str(tmp_path / "nope.xml")}})
    with pytest.raises(PrivacyGuardError, match="refusing to curate"):
        curate(tmp_path / "in", tmp_path / "out", cfg, progress=False)
    assert not (tmp_path / "out" / "work").exists()
    (tmp_path / "bad.xml").write_text("<opencv_storage></opencv_storage>")
    cfg = parse_config({"privacy": {"cascade": str(tmp_path / "bad.xml")}})
    with pytest.raises(PrivacyGuardError, match="cannot load the face cascade"):
        curate(tmp_path / "in", tmp_path / "out2", cfg, progress=False)


def test_caption_blocklist_rejects_whole_words_any_case():
    st = CaptionBlocklist(("forbidden", "two words"))
    mk = lambda cap: ClipItem("k", "s", "i", 0, np.zeros((1, 8, 8, 3), np.uint8), 25.0, 0, 1, (0, 1),  # noqa: E731
                              captions=[cap])
    assert isinstance(st.process(mk("A FORBIDDEN scene")), Rejection)
    assert isinstance(st.process(mk("two  words? no: Two words.")), Rejection)
    assert not isinstance(st.process(mk("unforbiddenly fine")), Rejection)


def test_curate_blurs_faces_end_to_end(cascade, tmp_path):
    import pyarrow.parquet as pq

    from orrery.data.video import encode_mp4

    rng = np.random.default_rng(2)
    frames = make_shot(rng, 30, 128, 128, n_shapes=0)
    for t, f in enumerate(frames):
        draw_face(f, 60 + t // 3, 64, 60)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "face.mp4").write_bytes(encode_mp4(frames, 25.0))
    cfg = parse_config({"privacy": {"cascade": cascade}, "clips": {"min_s": 0.5}, "splits": {"train": 1.0}})
    s = curate(tmp_path / "in", tmp_path / "out", cfg, progress=False)
    rows = pq.read_table(tmp_path / "out" / "manifest.parquet").to_pylist()
    assert s["kept"] == 1 and rows[0]["score.faces"] >= 1
    assert "face blur ON" in (tmp_path / "out" / "datasheet.md").read_text()
