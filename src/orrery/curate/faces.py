"""Frontal-face detection with OpenCV's own `CascadeClassifier` and the cascade its 4.x wheels
bundle (`cv2/data/haarcascade_frontalface_default.xml`; pyproject pins opencv-python-headless<5,
since OpenCV 5 ships no cascades).

Where the cascade is: `privacy.cascade`, then $ORRERY_HAAR_CASCADE, then OpenCV's bundled data."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

CASCADE_NAME = "haarcascade_frontalface_default.xml"


def find_cascade(explicit: str | None = None) -> Path | None:
    for cand in (explicit, os.environ.get("ORRERY_HAAR_CASCADE")):
        if cand:
            return Path(cand)
    base = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if base and (Path(base) / CASCADE_NAME).exists():
        return Path(base) / CASCADE_NAME
    return None


class FaceDetector:
    """cv2.CascadeClassifier on a cascade file; a file that does not load is a ValueError."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.classifier = cv2.CascadeClassifier(str(self.path))
        except (cv2.error, SystemError) as e:  # a malformed file can surface as either
            raise ValueError(f"not a cascade OpenCV can read ({' '.join(str(e).split())[:160]})") from None
        if self.classifier.empty():
            raise ValueError("OpenCV could not load it as a cascade (not a cascade XML file?)")

    def detect(self, greys: list[np.ndarray], scale: float = 1.1, min_neighbors: int = 3,
               min_size: int = 24) -> list[np.ndarray]:
        """Grey uint8 frames [H, W] -> per frame, int boxes [K, 4] (x, y, w, h) in frame pixels."""
        out = []
        for g in greys:
            boxes = self.classifier.detectMultiScale(g, scaleFactor=scale, minNeighbors=min_neighbors,
                                                     minSize=(min_size, min_size))
            out.append(np.asarray(boxes, np.int64).reshape(-1, 4))
        return out
