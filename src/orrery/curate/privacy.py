"""Privacy guard: faces are found with OpenCV's bundled Haar cascade and blurred in the output
frames (on by default), and captions are checked against a blocklist.

It fails closed: a guard that cannot load stops the run before any work (PrivacyGuardError), and a
clip on which detection fails is rejected, never written unblurred. Limits: a Haar cascade finds
frontal faces of at least `face_min_px` pixels at analysis resolution; profiles and tiny faces pass."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from .stages import ClipItem, Stage


class PrivacyGuardError(RuntimeError):
    """The privacy guard cannot run; curating without it would leak faces, so nothing runs."""


def cascade_path() -> Path:
    base = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not base:
        raise PrivacyGuardError("privacy guard: this OpenCV build has no bundled Haar cascades (cv2.data); "
                                "install opencv-python-headless, or turn the guard off with privacy.face_blur: false")
    return Path(base) / "haarcascade_frontalface_default.xml"


def load_cascade() -> cv2.CascadeClassifier:
    path = cascade_path()
    clf = cv2.CascadeClassifier(str(path))
    if clf.empty():
        raise PrivacyGuardError(f"privacy guard: cannot load the face cascade {path}; refusing to curate "
                                "without it (privacy.face_blur: false turns the guard off)")
    return clf


def detect_faces(clf: cv2.CascadeClassifier, frame: np.ndarray, min_px: int) -> np.ndarray:
    """uint8 [H, W, 3] RGB -> int [K, 4] boxes (x, y, w, h)."""
    grey = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
    boxes = clf.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=4, minSize=(min_px, min_px))
    return np.asarray(boxes, dtype=np.int64).reshape(-1, 4)


def blur_boxes(frame: np.ndarray, boxes: np.ndarray, pad: float = 0.25) -> np.ndarray:
    """Blur each (x, y, w, h) box, grown by `pad` on each side, beyond recognition."""
    out = frame.copy()
    H, W = frame.shape[:2]
    for x, y, w, h in boxes:
        x0, y0 = max(0, int(x - pad * w)), max(0, int(y - pad * h))
        x1, y1 = min(W, int(np.ceil(x + w * (1 + pad)))), min(H, int(np.ceil(y + h * (1 + pad))))
        if x1 <= x0 or y1 <= y0:
            continue
        region = out[y0:y1, x0:x1]
        k = max(3, (max(x1 - x0, y1 - y0) // 2) | 1)
        # pixelate then blur: nothing of the face's structure survives
        small = cv2.resize(region, (max(1, (x1 - x0) // 8), max(1, (y1 - y0) // 8)), interpolation=cv2.INTER_AREA)
        region = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(region, (k, k), 0)
    return out


class FaceBlur(Stage):
    """Detect on the analysis-size frames, blur the matching regions of the output frames (and of the
    two frames either side, so a missed detection on one frame does not show the face)."""

    name = "privacy"

    def __init__(self, min_px: int):
        self.clf = load_cascade()
        self.min_px = min_px

    def process(self, item: ClipItem):
        work = item.work if item.work is not None else item.frames
        sy, sx = item.frames.shape[1] / work.shape[1], item.frames.shape[2] / work.shape[2]
        try:
            per_frame = [detect_faces(self.clf, f, self.min_px) for f in work]
        except cv2.error as e:
            return item.reject(self.name, "privacy_error", f"face detection failed: {e}")
        T = len(per_frame)
        n_faces = 0
        frames = item.frames
        for t in range(T):
            near = [per_frame[j] for j in range(max(0, t - 2), min(T, t + 3)) if len(per_frame[j])]
            if not near:
                continue
            boxes = np.concatenate(near).astype(np.float64) * [sx, sy, sx, sy]
            frames[t] = blur_boxes(frames[t], boxes)
            n_faces += len(per_frame[t])
        item.frames = frames
        item.faces_blurred = n_faces
        item.scores["faces"] = float(n_faces)
        return item


class CaptionBlocklist(Stage):
    """Rejects a clip whose caption contains a blocked word or phrase (whole words, any case)."""

    name = "blocklist"

    def __init__(self, words: tuple[str, ...]):
        self.patterns = [(w, re.compile(r"\b" + re.escape(w.lower()) + r"\b")) for w in words if w.strip()]

    def process(self, item: ClipItem):
        for cap in item.captions:
            low = cap.lower()
            for word, pat in self.patterns:
                if pat.search(low):
                    return item.reject(self.name, "caption_blocklist", f"caption contains blocked term {word!r}")
        return item
