"""What a video shows, read without ground truth: object tracks, the static scenery, contacts.

`read_scene(frames, fps, layout=None)` parses the objects by their palette colours
(`sim.robust.parse_video`: calibrated colours, rims and flicker dropped), in pixel units. The
scenery is the layout's (camera, walls, anchors) when one is given; otherwise it is read from the
video: pixels that stay grey (the renderer's scenery colour, after the video's own brightness) in
nearly every frame, over a black background. From masks it derives, per frame and object:

- `inview`: the object's coverage does not touch the image border (all of it is seen);
- `gap_scenery`, `gap`: distance in px from the object's pixels to the scenery and to each other
  object's pixels (0 = touching or overlapping);
- `contact`: within `CONTACT_PX` plus the distance the object moves in a frame of something (a fast
  body can strike between two frames);
- sizes (`radius`: area-equivalent, px, median over fully seen frames), `mass` (proportional to
  area: one density), `round` (discs: no long axis, no 4-fold axis);
- `driven` (the layout's pusher) and `tethered` (a scene with anchor points: a pendulum's pivot, a
  spring's anchor; the rod or spring itself is not drawn).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..data.camera import Camera
from ..sim.palette import SCENERY
from ..sim.parse import Tracks, background_image
from ..sim.robust import parse_video

CONTACT_PX = 1.5  # px between two bodies' pixels that count as touching
GREY_SPREAD = 28  # max - min RGB of a scenery pixel
STATIC_SHARE = 0.9  # share of frames a pixel must be scenery-grey in
ANCHOR_PX2 = 12.0  # scenery blobs this small are anchor points (pivots, spring mounts)
MASK_ALPHA = 0.3  # coverage that counts as an object's pixel
ROUND_FILL = 0.72  # share of its enclosing circle a disc's mask fills (a square: 0.64 at most)


@dataclass(frozen=True)
class SceneLayout:
    """The static scene a verifier may be told (the same fields as `models.base.Layout`)."""

    camera: Camera
    statics: tuple = ()
    objects: tuple = ()

    @classmethod
    def from_meta(cls, meta: dict) -> SceneLayout:
        """From a clip record: camera, scenery and objects only (its states are never read)."""
        from ..data.objects import ObjectSpec, StaticSpec

        if "camera" not in meta:
            raise ValueError(f"clip {meta.get('key', '?')}: its record holds no camera (no layout)")
        return cls(Camera.from_dict(meta["camera"]), tuple(StaticSpec.from_dict(x) for x in meta.get("statics", [])),
                   tuple(ObjectSpec.from_dict(o) for o in meta.get("objects", [])))


@dataclass
class Scene:
    tracks: Tracks
    fps: float
    scenery: np.ndarray  # bool [H, W]
    masks: np.ndarray  # bool [T, H, W, K]
    inview: np.ndarray  # bool [T, K]
    gap_scenery: np.ndarray  # float [T, K] px (inf without scenery)
    gap: np.ndarray  # float [T, K, K] px (inf on the diagonal and where unseen)
    contact: np.ndarray  # bool [T, K]
    radius: np.ndarray  # float [K] px
    mass: np.ndarray  # float [K] (area, px^2)
    round: np.ndarray  # bool [K]
    driven: np.ndarray  # bool [K]
    tethered: np.ndarray  # bool [K]
    anchors: np.ndarray  # float [A, 2] px (column, row)

    @property
    def seen(self) -> np.ndarray:
        """bool [K]: colours tracked in at least one frame."""
        return self.tracks.visible.any(0)


def _scenery_from_video(frames: np.ndarray) -> np.ndarray:
    """bool [H, W]: pixels grey (any brightness) in nearly every frame."""
    x = frames.astype(np.int16)
    spread = x.max(-1) - x.min(-1)
    mean = x.mean(-1)
    grey = (spread <= GREY_SPREAD) & (mean >= 40) & (mean <= 200)
    return grey.mean(0) >= STATIC_SHARE


def _anchors(scenery: np.ndarray) -> np.ndarray:
    n, lab, stats, cent = cv2.connectedComponentsWithStats(scenery.astype(np.uint8), connectivity=8)
    return np.array([cent[i] for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] <= ANCHOR_PX2]).reshape(-1, 2)


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """float [H, W]: px from each pixel to the nearest pixel of `mask` (inf if it is empty)."""
    if not mask.any():
        return np.full(mask.shape, np.inf)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)


def _round(tr: Tracks, masks: np.ndarray, full: np.ndarray) -> np.ndarray:
    """bool [K]: discs, read from the masks: a disc fills most of the circle through its farthest
    pixel (a square about 64%); the median over frames where it is seen whole."""
    t, size = masks.shape[:2]
    rows, cols = np.mgrid[0:size, 0:size]
    out = np.zeros(masks.shape[-1], dtype=bool)
    for k in np.flatnonzero(full.any(0)):
        fill = []
        for ti in np.flatnonzero(full[:, k])[:8]:
            m = masks[ti, :, :, k]
            c = tr.centroid_px[ti, k]
            r = np.sqrt((cols[m] - c[0]) ** 2 + (rows[m] - c[1]) ** 2).max() + 0.5
            fill.append(m.sum() / (np.pi * r * r))
        out[k] = np.median(fill) > ROUND_FILL
    return out


def read_scene(frames: np.ndarray, fps: float, layout=None, palette: np.ndarray | None = None) -> Scene:
    """Parse a video uint8 [T, S, S, 3] (see the module doc). `layout`: an optional
    `models.base.Layout`-like object (camera, statics, objects) of the scene."""
    if fps <= 0:
        raise ValueError(f"fps: must be > 0, got {fps}")
    t, size = frames.shape[0], frames.shape[1]
    expected, driven_ids, anchors = None, set(), None
    if layout is not None and getattr(layout, "camera", None) is not None:
        camera = layout.camera.resized(size)
        bg = background_image(camera, list(layout.statics))
        expected = [o.colour_id for o in layout.objects]
        driven_ids = {o.colour_id for o in layout.objects if o.role != "object"}
        scenery = bg.sum(-1) >= 0.5 * sum(SCENERY)
        points = [s for s in layout.statics if s.kind == "segment" and np.allclose(s.points[0], s.points[1])]
        anchors = camera.to_pixel(np.array([p.points[0] for p in points], float).reshape(-1, 2))
    else:
        camera = Camera(0.0, 0.0, float(size), size)  # 1 px = 1 unit: the verifier works in pixels
        scenery = _scenery_from_video(frames)
        bg = np.zeros(frames.shape[1:], np.uint8)
        if scenery.any():
            bg[scenery] = np.median(frames[:, scenery], axis=0).astype(np.uint8)
        anchors = _anchors(scenery)
    tr = parse_video(frames, camera, bg, expected=expected, fps=fps, keep_weights=True, palette=palette)
    masks = tr.weights > MASK_ALPHA
    k = masks.shape[-1]
    ring = np.zeros((size, size), bool)
    ring[0, :] = ring[-1, :] = ring[:, 0] = ring[:, -1] = True
    inview = tr.visible & ~(masks & ring[None, :, :, None]).any(axis=(1, 2))
    d_scen = _distance_to(scenery)
    gap_scenery = np.full((t, k), np.inf)
    gap = np.full((t, k, k), np.inf)
    for ti in range(t):
        for a in np.flatnonzero(tr.visible[ti]):
            m = masks[ti, :, :, a]
            if not m.any():
                continue
            gap_scenery[ti, a] = d_scen[m].min()
            dist = _distance_to(m)
            for b in np.flatnonzero(tr.visible[ti]):
                if b != a and masks[ti, :, :, b].any():
                    gap[ti, b, a] = dist[masks[ti, :, :, b]].min()
    gap = np.minimum(gap, gap.transpose(0, 2, 1))
    step = np.zeros((t, k))
    if t > 1:
        d = np.nan_to_num(np.linalg.norm(np.diff(tr.centroid_px, axis=0), axis=-1), nan=0.0)  # [T-1, K]
        pad = np.concatenate([d[:1], d, d[-1:]], axis=0)  # step into and out of each frame
        for ti in range(t):
            step[ti] = np.median(pad[max(0, ti - 1):ti + 3], axis=0)  # typical speed around the frame
    reach = CONTACT_PX + step  # [T, K]
    contact = (gap_scenery <= reach) | (gap <= np.maximum(reach[:, :, None], reach[:, None, :])).any(-1)
    full = tr.visible & inview
    area = np.where(full, tr.area_px, np.nan)
    with np.errstate(all="ignore"):
        pick = np.where(full.any(0), area, np.where(tr.visible, tr.area_px, np.nan))
        med = np.array([np.nanmedian(c) if np.isfinite(c).any() else 0.0 for c in pick.T])
    radius = np.sqrt(med / np.pi)
    if expected is not None:
        shapes = {o.colour_id: o.shape for o in layout.objects}
        rnd = np.array([shapes.get(int(c)) == "circle" for c in tr.colour_ids])
    else:
        rnd = _round(tr, masks, full)
    driven = np.array([int(c) in driven_ids for c in tr.colour_ids])
    tethered = np.full(k, len(anchors) > 0)
    return Scene(tracks=tr, fps=float(fps), scenery=scenery, masks=masks, inview=inview, gap_scenery=gap_scenery,
                 gap=gap, contact=contact, radius=radius, mass=med, round=rnd, driven=driven, tethered=tethered,
                 anchors=anchors)
