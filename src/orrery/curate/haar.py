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
`privacy.cascade`, then $ORRERY_HAAR_CASCADE, then `orrery/curate/data/`, then `cv2.data.haarcascades`."""

from __future__ import annotations

import os
import sys
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
        out = [np.zeros((0, 4), np.int64) for _ in greys]
        if not greys:
            return out
        # every pyramid level of every frame, stacked into one table with a common row stride, so
        # that a rectangle corner is one constant offset from a window's top-left for all windows
        stride = max(g.shape[1] for g in greys) + 1
        blocks_ii, blocks_sq, tops, ys, xs, facs, frame_of = [], [], [], [], [], [], []
        row = 0
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
                pad = ((0, 0), (0, stride - (sw + 1)))
                blocks_ii.append(np.pad(ii, pad))
                blocks_sq.append(np.pad(sq, pad))
                step = 2 if f <= 2.0 else 1
                yy, xx = np.mgrid[0:sh - self.win_h + 1:step, 0:sw - self.win_w + 1:step]
                n = yy.size
                tops.append(np.full(n, row))
                ys.append(yy.ravel())
                xs.append(xx.ravel())
                facs.append(np.full(n, f))
                frame_of.append(np.full(n, fi))
                row += sh + 1
                f *= scale
        if not tops:
            return out
        ii = np.concatenate(blocks_ii).ravel()
        sq = np.concatenate(blocks_sq).ravel()
        if ii.max() < 2**24:  # exact in float32: half the memory traffic of the gathers
            ii = ii.astype(np.float32)
        Y, X = np.concatenate(ys), np.concatenate(xs)
        P = (np.concatenate(tops) + Y) * stride + X  # flat index of each window's top-left corner
        fac = np.concatenate(facs)
        fr = np.concatenate(frame_of)

        def corners(x, y, w, h):
            tl = y * stride + x
            return tl, tl + w, tl + h * stride, tl + h * stride + w

        nw, nh = self.win_w - 2, self.win_h - 2
        c = corners(1, 1, nw, nh)
        sm = ii[P + c[0]] - ii[P + c[1]] - ii[P + c[2]] + ii[P + c[3]]
        sqs = sq[P + c[0]] - sq[P + c[1]] - sq[P + c[2]] + sq[P + c[3]]
        sm = sm.astype(np.float64)
        nf = nw * nh * sqs - sm * sm
        inv = np.where(nf > 0, 1.0 / np.sqrt(np.maximum(nf, 1e-12)), 1.0)
        keep = np.arange(len(P))
        for st in self.stages:
            p = P[keep][:, None]  # [n, 1]
            val = np.zeros((len(keep), len(st.thresholds)))
            for r in range(3):
                wt = st.rects[:, r, 4]
                if not np.any(wt):
                    continue
                x, y, w, h = (st.rects[:, r, k].astype(np.int64) for k in range(4))
                a, b, cc, d = corners(x, y, w, h)  # [m] each
                val += wt[None, :] * (ii[p + a[None, :]] - ii[p + b[None, :]] - ii[p + cc[None, :]]
                                      + ii[p + d[None, :]])
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
    """Where the face cascade is: explicit path, $ORRERY_HAAR_CASCADE, orrery/curate/data/ (if a copy is
    vendored there), <venv>/share/orrery/ (where `make install` puts OpenCV 4.14's copy), or OpenCV's
    bundled data (OpenCV 4 wheels)."""
    for cand in (explicit, os.environ.get("ORRERY_HAAR_CASCADE")):
        if cand:
            return Path(cand)
    for shipped in (Path(__file__).parent / "data" / CASCADE_NAME, Path(sys.prefix) / "share" / "orrery" / CASCADE_NAME):
        if shipped.exists():
            return shipped
    base = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if base and (Path(base) / CASCADE_NAME).exists():
        return Path(base) / CASCADE_NAME
    return None
