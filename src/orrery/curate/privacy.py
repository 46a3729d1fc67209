"""Privacy guard: faces are found with OpenCV's CascadeClassifier and its bundled Haar cascade, and blurred in the output
frames (on by default), and captions are checked against a blocklist.

It fails closed: a guard that cannot load stops the run before any work (PrivacyGuardError), and a
clip on which detection fails is rejected, never written unblurred. Limits: a Haar cascade finds
frontal faces of at least `face_min_px` pixels at analysis resolution; profiles and tiny faces pass.
`faces` (score) is the most faces found on one sampled frame."""

from __future__ import annotations

import re

import cv2
import numpy as np

from .faces import CASCADE_NAME, FaceDetector, find_cascade
from .stages import ClipItem, FatalStageError, Stage


class PrivacyGuardError(FatalStageError):
    """The privacy guard cannot run; curating without it would leak faces, so nothing runs."""


def load_detector(cascade: str | None = None) -> FaceDetector:
    """The face cascade, or PrivacyGuardError saying exactly what is missing and how to fix it."""
    path = find_cascade(cascade)
    if path is None:
        raise PrivacyGuardError(
            f"privacy guard: no face cascade found: OpenCV {cv2.__version__} bundles none (orrery needs "
            "opencv-python-headless 4.x: pip install 'opencv-python-headless>=4.9,<5'); or give the path of "
            f"OpenCV's {CASCADE_NAME} with privacy.cascade in the config or $ORRERY_HAAR_CASCADE, or turn the "
            "guard off with privacy.face_blur: false. Refusing to curate without it.")
    if not path.is_file():
        raise PrivacyGuardError(f"privacy guard: face cascade {path} does not exist; refusing to curate without it")
    try:
        return FaceDetector(path)
    except (ValueError, OSError, cv2.error) as e:
        raise PrivacyGuardError(f"privacy guard: cannot load the face cascade {path}: {e}") from None


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
    """Detect on every `every`-th analysis-size frame; blur the matching regions of the output frames
    on the `every` frames either side too, so a face between two sampled frames is covered."""

    name = "privacy"

    def __init__(self, min_px: int = 24, every: int = 4, cascade: str | None = None):
        self.detector = load_detector(cascade)
        self.min_px, self.every = min_px, every

    def process(self, item: ClipItem):
        work = item.work if item.work is not None else item.frames
        sy, sx = item.frames.shape[1] / work.shape[1], item.frames.shape[2] / work.shape[2]
        T = len(work)
        sampled = sorted(set(range(0, T, self.every)) | {T - 1})
        try:
            greys = [cv2.equalizeHist(cv2.cvtColor(work[t], cv2.COLOR_RGB2GRAY)) for t in sampled]
            found = self.detector.detect(greys, 1.1, 3, self.min_px)
        except (cv2.error, ValueError, MemoryError) as e:
            return item.reject(self.name, "privacy_error", f"face detection failed: {e}")
        frames = item.frames
        for t in range(T):
            near = [b for s, b in zip(sampled, found, strict=True) if abs(s - t) <= self.every and len(b)]
            if near:
                boxes = np.concatenate(near).astype(np.float64) * [sx, sy, sx, sy]
                frames[t] = blur_boxes(frames[t], boxes)
        n_faces = int(max((len(b) for b in found), default=0))
        item.frames = frames
        item.work = None  # not needed any more: free it before the next clip
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
