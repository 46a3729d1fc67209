"""Duplicates: exact (same frames), near (perceptual hash within a Hamming radius) and semantic
(SemDeDup-style: k-means on clip embeddings, then a cosine threshold inside each cluster).

The embedding is pluggable (`EMBEDDERS`); the default is a descriptor of colour (HSV histogram),
texture (gradient-orientation and Laplacian energy) and motion (flow magnitude and camera motion).
Everything is order-independent: clips are sorted by key and, in every duplicate group, the clip
with the smallest key is kept, so the result does not depend on which worker finished first."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from .stages import ClipItem, Stage


def phash(frames: np.ndarray) -> int:
    """64-bit DCT perceptual hash of the clip's mean frame (uint8 [T, H, W, 3] -> int)."""
    mean = frames.astype(np.float32).mean(0)
    grey = cv2.cvtColor(mean, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:8, :8].ravel()
    bits = low > np.median(low[1:])  # the DC term would dominate the median
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def hamming(a: int, b: int) -> int:
    return int(bin(a ^ b).count("1"))


def descriptor(item: ClipItem) -> np.ndarray:
    """Colour, texture and motion descriptor, float32 [D], L2-normalised (D = 128 + 8 + 1 + 3)."""
    frames = item.frames
    idx = np.unique(np.linspace(0, len(frames) - 1, min(4, len(frames))).round().astype(int))
    hist = np.zeros(128, np.float32)
    grad = np.zeros(8, np.float32)
    lap = 0.0
    for i in idx:
        hsv = cv2.cvtColor(frames[i], cv2.COLOR_RGB2HSV)
        hist += cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
        g = cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY).astype(np.float32)
        gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)
        mag, ang = cv2.cartToPolar(gx, gy)
        grad += np.histogram(ang % np.pi, bins=8, range=(0, np.pi), weights=mag)[0].astype(np.float32)
        lap += float(np.abs(cv2.Laplacian(g, cv2.CV_32F)).mean())
    hist = np.sqrt(hist / max(hist.sum(), 1e-9))  # Hellinger: cosine on sqrt-histograms
    grad = grad / max(float(np.linalg.norm(grad)), 1e-9)
    s = item.scores
    motion = np.array([np.tanh(s.get("motion", 0.0)), np.tanh(s.get("camera_dx", 0.0)),
                       np.tanh(s.get("camera_dy", 0.0))], np.float32)
    tex = np.array([np.tanh(lap / len(idx) / 20.0)], np.float32)
    v = np.concatenate([hist, 0.5 * grad, 0.5 * tex, 0.5 * motion]).astype(np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-9)


EMBEDDERS = {"descriptor": descriptor}


class Embed(Stage):
    """Fingerprints for dedup: sha256 of the frames, perceptual hash, embedding."""

    name = "embed"

    def __init__(self, embedding: str = "descriptor"):
        self.embed = EMBEDDERS[embedding]

    def process(self, item: ClipItem):
        item.digest = hashlib.sha256(np.ascontiguousarray(item.frames).tobytes()).hexdigest()
        item.phash = phash(item.frames)
        item.embedding = self.embed(item)
        return item


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 25) -> np.ndarray:
    """Spherical k-means (k-means++ seeding) on rows of x [N, D] -> labels [N]."""
    n = len(x)
    k = min(k, n)
    centres = [x[int(rng.integers(n))]]
    for _ in range(1, k):
        d = np.min(1.0 - x @ np.stack(centres).T, axis=1).clip(0)
        p = d / d.sum() if d.sum() > 0 else np.full(n, 1.0 / n)
        centres.append(x[int(rng.choice(n, p=p))])
    c = np.stack(centres)
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iters):
        new = np.argmax(x @ c.T, axis=1)
        if _ and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            m = x[labels == j]
            if len(m):
                v = m.sum(0)
                c[j] = v / max(float(np.linalg.norm(v)), 1e-9)
    return labels


def find_duplicates(records: list[dict], phash_max: int, semantic: bool, clusters: int, max_cos_dist: float,
                    seed: int, exact: bool = True) -> dict[str, tuple[str, str]]:
    """records [{key, digest, phash, embedding}] -> {duplicate key: (reason, kept key)}."""
    recs = sorted(records, key=lambda r: r["key"])
    dup: dict[str, tuple[str, str]] = {}
    if exact:
        first: dict[str, str] = {}
        for r in recs:
            if r["digest"] in first:
                dup[r["key"]] = ("exact_duplicate", first[r["digest"]])
            else:
                first[r["digest"]] = r["key"]
    if phash_max >= 0:
        kept: list[dict] = []
        for r in recs:
            if r["key"] in dup:
                continue
            match = next((k for k in kept if hamming(k["phash"], r["phash"]) <= phash_max), None)
            if match is not None:
                dup[r["key"]] = ("near_duplicate", match["key"])
            else:
                kept.append(r)
    if semantic:
        rest = [r for r in recs if r["key"] not in dup]
        if len(rest) >= 2:
            x = np.stack([np.asarray(r["embedding"], np.float32) for r in rest])
            labels = kmeans(x, clusters, np.random.default_rng(seed))
            for j in np.unique(labels):
                members = [i for i in range(len(rest)) if labels[i] == j]  # in key order
                kept_idx: list[int] = []
                for i in members:
                    sims = [float(x[i] @ x[q]) for q in kept_idx]
                    if sims and 1.0 - max(sims) <= max_cos_dist:
                        dup[rest[i]["key"]] = ("semantic_duplicate", rest[kept_idx[int(np.argmax(sims))]]["key"])
                    else:
                        kept_idx.append(i)
    return dup
