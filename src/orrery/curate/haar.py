"""A Haar cascade face detector that reads OpenCV's cascade XML files.

Why it exists: OpenCV 5 (the version this project runs on) dropped `cv2.CascadeClassifier` and no
longer bundles the cascade files. This evaluator follows OpenCV 4's `detectMultiScale` for stump
cascades (new XML format): an image pyramid with scale factor `scale`, 24x24 windows stepped by 2
pixels up to a factor of 2 and by 1 beyond, features normalised by the window's standard deviation
over its inner (w-2) x (h-2) rectangle, stage sums of leaf values against stage thresholds, then
OpenCV's grouping of overlapping hits (`groupRectangles`, eps 0.2). Every window of every pyramid
level of every frame is evaluated in one vectorised pass per stage, so a whole clip costs about as
many numpy calls as the cascade has stages.

The cascade file: `haarcascade_frontalface_default.xml` from OpenCV (Intel licence), looked up in
`privacy.cascade`, then $ORRERY_HAAR_CASCADE, then `cv2.data.haarcascades` (OpenCV 4 wheels)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CASCADE_NAME = "haarcascade_frontalface_default.xml"
_LINEAR = getattr(cv2, "INTER_LINEAR_EXACT", cv2.INTER_LINEAR)  # what OpenCV 4 builds its pyramid with


@dataclass
class _Stage:
    threshold: float
    rects: np.ndarray  # float64 [M, 3, 5]: (x, y, w, h, weight) of up to 3 rects per weak classifier
    thresholds: np.ndarray  # [M]
    leaves: np.ndarray  # [M, 2]: value when feature < threshold, and otherwise


class HaarCascade:
    """A stump-based Haar cascade (OpenCV XML, new format) with OpenCV-compatible multi-scale detection."""

    def __init__(self, path: str | Path):
        root = ET.parse(str(path)).getroot()
        casc = root.find("cascade")
        if casc is None or (casc.findtext("featureType") or "").strip() != "HAAR":
            raise ValueError(f"{path}: not an OpenCV HAAR cascade in the new XML format")
        self.win_h = int(casc.findtext("height"))
        self.win_w = int(casc.findtext("width"))
        feats = []
        for f in casc.find("features"):
            if (f.findtext("tilted") or "0").strip() not in ("0", ""):
                raise ValueError(f"{path}: tilted Haar features are not supported")
            rs = np.zeros((3, 5))
            for i, r in enumerate(f.find("rects")):
                rs[i] = [float(v) for v in r.text.split()]
            feats.append(rs)
        feats = np.stack(feats)
        self.stages = []
        for st in casc.find("stages"):
            nodes, leaves = [], []
            for wc in st.find("weakClassifiers"):
                inner = wc.findtext("internalNodes").split()
                if len(inner) != 4:
                    raise ValueError(f"{path}: only stump (depth-1) cascades are supported")
                nodes.append((int(inner[2]), float(inner[3])))
                leaves.append([float(v) for v in wc.findtext("leafValues").split()])
            idx = np.array([n[0] for n in nodes])
            self.stages.append(_Stage(float(st.findtext("stageThreshold")), feats[idx],
                                      np.array([n[1] for n in nodes]), np.array(leaves)))

    def detect(self, greys: list[np.ndarray], scale: float = 1.1, min_neighbors: int = 3,
               min_size: int = 24) -> list[np.ndarray]:
        """Grey uint8 frames [H, W] -> per frame, int boxes [K, 4] (x, y, w, h) in frame pixels."""
        bases, strides, ys, xs, facs, frame_of = [], [], [], [], [], []
        flat_ii, flat_sq = [], []
        offset = 0
        for fi, g in enumerate(greys):
            H, W = g.shape
            f = 1.0
            while True:
                sw, sh = int(round(W / f)), int(round(H / f))
                if sw < self.win_w or sh < self.win_h:
                    break
                if round(self.win_w * f) < min_size or round(self.win_h * f) < min_size:
                    f *= scale
                    continue
                img = cv2.resize(g, (sw, sh), interpolation=_LINEAR) if f > 1.0 else g
                ii, sq = cv2.integral2(img, sdepth=cv2.CV_64F)  # [sh+1, sw+1]
                step = 2 if f <= 2.0 else 1
                yy, xx = np.mgrid[0:sh - self.win_h + 1:step, 0:sw - self.win_w + 1:step]
                n = yy.size
                bases.append(np.full(n, offset))
                strides.append(np.full(n, sw + 1))
                ys.append(yy.ravel())
                xs.append(xx.ravel())
                facs.append(np.full(n, f))
                frame_of.append(np.full(n, fi))
                flat_ii.append(ii.ravel())
                flat_sq.append(sq.ravel())
                offset += ii.size
                f *= scale
        out = [np.zeros((0, 4), np.int64) for _ in greys]
        if not bases:
            return out
        ii = np.concatenate(flat_ii)
        sq = np.concatenate(flat_sq)
        S = np.concatenate(strides)
        P = np.concatenate(bases) + np.concatenate(ys) * S + np.concatenate(xs)  # top-left corner, flat
        fac = np.concatenate(facs)
        fr = np.concatenate(frame_of)
        Y, X = np.concatenate(ys), np.concatenate(xs)

        def rect_sum(table, p, s, x, y, w, h):
            a = p + y * s + x
            return table[a] - table[a + w] - table[a + h * s] + table[a + h * s + w]

        nw, nh = self.win_w - 2, self.win_h - 2
        sm = rect_sum(ii, P, S, 1, 1, nw, nh)
        sqs = rect_sum(sq, P, S, 1, 1, nw, nh)
        nf = nw * nh * sqs - sm * sm
        inv = np.where(nf > 0, 1.0 / np.sqrt(np.maximum(nf, 1e-12)), 1.0)
        keep = np.arange(len(P))
        for st in self.stages:
            p, s = P[keep][:, None], S[keep][:, None]  # [n, 1]
            val = np.zeros((len(keep), len(st.thresholds)))
            for r in range(3):
                x, y, w, h, wt = (st.rects[:, r, c][None, :] for c in range(5))
                if not np.any(wt):
                    continue
                x, y, w, h = x.astype(np.int64), y.astype(np.int64), w.astype(np.int64), h.astype(np.int64)
                val += wt * rect_sum(ii, p, s, x, y, w, h)
            val *= inv[keep][:, None]
            total = np.where(val < st.thresholds[None, :], st.leaves[None, :, 0], st.leaves[None, :, 1]).sum(1)
            keep = keep[total >= st.threshold]
            if not len(keep):
                return out
        for fi in range(len(greys)):
            k = keep[fr[keep] == fi]
            if not len(k):
                continue
            f = fac[k]
            boxes = np.stack([np.round(X[k] * f), np.round(Y[k] * f), np.round(self.win_w * f),
                              np.round(self.win_h * f)], 1).astype(np.int64)
            out[fi] = group_rectangles(boxes, min_neighbors)
        return out


def group_rectangles(boxes: np.ndarray, min_neighbors: int, eps: float = 0.2) -> np.ndarray:
    """OpenCV's groupRectangles: cluster similar boxes, keep clusters with more than `min_neighbors`
    members as their mean box, and drop a box that sits inside a much stronger one."""
    n = len(boxes)
    if min_neighbors <= 0:
        return boxes
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            a, b = boxes[i], boxes[j]
            delta = eps * (min(a[2], b[2]) + min(a[3], b[3])) * 0.5
            if (abs(a[0] - b[0]) <= delta and abs(a[1] - b[1]) <= delta
                    and abs(a[0] + a[2] - b[0] - b[2]) <= delta and abs(a[1] + a[3] - b[1] - b[3]) <= delta):
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    cands = []
    for members in groups.values():
        if len(members) <= min_neighbors:
            continue
        m = boxes[members].astype(np.float64).mean(0)
        cands.append((np.round(m).astype(np.int64), len(members)))
    result = []
    for i, (r1, n1) in enumerate(cands):
        inside = False
        for j, (r2, n2) in enumerate(cands):
            if i == j or n2 <= min_neighbors:
                continue
            dx, dy = int(round(r2[2] * eps)), int(round(r2[3] * eps))
            if (r1[0] >= r2[0] - dx and r1[1] >= r2[1] - dy and r1[0] + r1[2] <= r2[0] + r2[2] + dx
                    and r1[1] + r1[3] <= r2[1] + r2[3] + dy and (n2 > max(3, n1) or n1 < 3)):
                inside = True
                break
        if not inside:
            result.append(r1)
    return np.stack(result) if result else np.zeros((0, 4), np.int64)


def find_cascade(explicit: str | None = None) -> Path | None:
    """Where the face cascade is: explicit path, $ORRERY_HAAR_CASCADE, or OpenCV's bundled data."""
    for cand in (explicit, os.environ.get("ORRERY_HAAR_CASCADE")):
        if cand:
            return Path(cand)
    base = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if base and (Path(base) / CASCADE_NAME).exists():
        return Path(base) / CASCADE_NAME
    return None
