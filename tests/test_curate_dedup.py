"""Dedup and filters: perceptual hash, exact/near/semantic duplicates independent of order, the
blur and motion scores behave as their definitions say."""

from __future__ import annotations

import cv2
import numpy as np

from orrery.curate.config import FilterConfig
from orrery.curate.dedup import descriptor, find_duplicates, hamming, kmeans, phash
from orrery.curate.filters import MotionFilter, flow_stats, percentile_floor, sharpness
from orrery.curate.split import letterbox
from orrery.curate.stages import ClipItem, Rejection
from orrery.curate.synth import make_shot


def _item(key, frames, **scores):
    return ClipItem(key, "s", "i", 0, frames, 25.0, 0.0, 1.0, (0, len(frames)), scores=dict(scores))


def test_phash_near_for_re_encodes_far_for_other_shots():
    rng = np.random.default_rng(0)
    a = make_shot(rng, 8, 64, 64)
    b = make_shot(rng, 8, 64, 64)
    noisy = np.clip(a.astype(int) + rng.integers(-6, 7, a.shape) + 8, 0, 255).astype(np.uint8)
    assert hamming(phash(a), phash(a)) == 0
    assert hamming(phash(a), phash(noisy)) <= 3
    assert hamming(phash(a), phash(b)) > 12


def test_duplicates_keep_smallest_key_whatever_the_order():
    rng = np.random.default_rng(1)
    e = [v / np.linalg.norm(v) for v in rng.normal(size=(4, 16))]
    recs = [
        {"key": "b", "digest": "x", "phash": 0b1111, "embedding": e[0]},
        {"key": "a", "digest": "x", "phash": 0b1111, "embedding": e[0]},  # exact copy of b
        {"key": "c", "digest": "y", "phash": 0b1110, "embedding": e[1]},  # 1 bit from a: near
        {"key": "d", "digest": "z", "phash": 2**40 - 1, "embedding": e[2]},
        {"key": "e", "digest": "w", "phash": 2**60 - 1, "embedding": e[2] + 1e-4},  # semantic copy of d
        {"key": "f", "digest": "v", "phash": 2**20 - 1 << 30, "embedding": e[3]},
    ]
    want = {"b": ("exact_duplicate", "a"), "c": ("near_duplicate", "a"), "e": ("semantic_duplicate", "d")}
    for perm in (recs, recs[::-1], recs[2:] + recs[:2]):
        assert find_duplicates(perm, 3, True, 2, 0.001, seed=0) == want


def test_kmeans_is_deterministic_and_separates_clusters():
    rng = np.random.default_rng(2)
    c = np.eye(8)[:3]
    x = np.concatenate([c[i] + 0.05 * rng.normal(size=(20, 8)) for i in range(3)])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    la = kmeans(x, 3, np.random.default_rng(5))
    lb = kmeans(x, 3, np.random.default_rng(5))
    assert np.array_equal(la, lb)
    assert all(len(set(la[i * 20:(i + 1) * 20])) == 1 for i in range(3)) and len(set(la)) == 3


def test_descriptor_is_unit_norm_and_similar_for_same_shot():
    rng = np.random.default_rng(3)
    a = make_shot(rng, 16, 48, 48)
    b = make_shot(rng, 16, 48, 48)
    da, da2, db = descriptor(_item("a", a[:8])), descriptor(_item("a2", a[8:])), descriptor(_item("b", b))
    assert abs(np.linalg.norm(da) - 1) < 1e-5
    assert float(da @ da2) > float(da @ db)


def test_flow_measures_a_known_translation():
    rng = np.random.default_rng(4)
    tex = cv2.GaussianBlur(rng.integers(0, 256, (64, 200), dtype=np.uint8), (5, 5), 0)
    frames = np.stack([np.repeat(tex[:, 3 * t:3 * t + 64, None], 3, 2) for t in range(6)])  # content moves left 3 px
    mag, dx, dy = flow_stats(frames)
    assert abs(dx + 3) < 0.5 and abs(dy) < 0.5 and abs(mag - 3) < 0.8
    static = np.repeat(frames[:1], 6, 0)
    r = MotionFilter(FilterConfig()).process(_item("s", static))
    assert isinstance(r, Rejection) and r.reason == "static"


def test_sharpness_drops_with_blur_and_percentile_floor():
    rng = np.random.default_rng(5)
    f = make_shot(rng, 4, 64, 64)
    blurred = np.stack([cv2.GaussianBlur(x, (7, 7), 0) for x in f])
    assert sharpness(blurred) < 0.5 * sharpness(f)
    assert percentile_floor([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile_floor([1.0], 0) == -np.inf


def test_letterbox_bars_are_measured():
    f = np.full((3, 40, 60, 3), 120, np.uint8)
    f[:, :5] = 0
    f[:, -7:] = 3
    assert letterbox(f) == (5, 7, 0, 0)
