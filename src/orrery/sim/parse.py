"""Reading objects back from pixels: the renderer's inverse.

Every rendered pixel is a blend `p = a * c_k + (1 - a) * b` of one palette colour `c_k` over the
static background `b` (black, or the scenery grey where walls are drawn), `a` being the anti-aliased
coverage. The parser solves that per pixel for every palette colour (least squares for `a`, keeps
the colour with the smallest residual), and uses the coverages as weights: the weighted mean of
pixel centres is a sub-pixel centroid, their sum an area, their second moments an orientation.
Because `Camera` puts integer coordinates on pixel centres, the centroid compares directly with
`Camera.to_pixel` of the true position.

Robustness: yuv444p encoding moves colours by a few levels (the residual tolerance absorbs it);
a pixel where two objects touch can look like a third colour at half coverage, so a colour only
counts where it has at least one near-opaque "core" pixel, and only pixels next to a core carry
weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.camera import Camera
from ..data.objects import ObjectSpec
from .palette import BACKGROUND, palette_array

RESIDUAL_TOL = 40.0  # RGB units: how far a pixel may sit from the blend line of its colour
MIN_ALPHA = 0.05  # coverages below this are encoding noise
CORE_ALPHA = 0.6  # a colour is present only where some pixel is at least this opaque
MIN_AREA = 1.5  # px^2 of coverage to count as visible; contact blends leave single pixels (~0.7)
ELONGATED = 1.15  # ratio of principal second moments above which a shape has a long axis
# OpenCV's anti-aliased fill spreads about half a pixel beyond the true outline (measured: a disc of
# radius r px covers pi (r + 0.5)^2 px^2 at r = 0.6 to 13), so sizes subtract it back
FRINGE_PX = 0.5
UNMIX_RES = 12.0  # RGB units: pixels one colour explains worse than this may be two-colour blends
UNMIX_GAIN = 0.35  # ... and are split when two colours leave at most this fraction of the residual^2
UNMIX_SUM = 1.3  # two fringes overlap at a seam: coverages may sum past 1 (each fill is ~0.5 px fat)
FOREGROUND = 8  # summed |RGB - background| below which a pixel is background (MIN_ALPHA of any colour is > 12)
PRESENT_ALPHA = 0.85  # a colour takes part in a blend only if it has a near-opaque pixel in the frame


@dataclass
class Tracks:
    """Per frame and palette colour: what the parser (or the ground truth) says is there.

    All arrays have leading dims [T, K], K = len(colour_ids). Positions are NaN where not visible.
        visible      bool  [T, K]
        centroid_px  float [T, K, 2]  (column, row), integer = pixel centre
        centroid     float [T, K, 2]  metres, world frame (y up)
        area_px      float [T, K]     total coverage in px^2
        size_px      float [T, K]     radius of the area-equivalent disc, px
        size         float [T, K]     the same in metres
        orientation  float [T, K]     rad, world frame counter-clockwise; principal axis (mod pi) of
                                      elongated shapes, 4-fold axis (mod pi/2) of squares; NaN for
                                      round shapes
        colour_rgb   float [T, K, 3]  mean colour of the object's core pixels
        elongation   float [T, K]     sqrt of the ratio of principal second moments (1 = round or
                                      square, w/h for a w x h rectangle)
    `start` is the clip frame index of row 0, `future` the row where prediction begins (0 if none).
    """

    colour_ids: np.ndarray
    visible: np.ndarray
    centroid_px: np.ndarray
    centroid: np.ndarray
    area_px: np.ndarray
    size_px: np.ndarray
    size: np.ndarray
    orientation: np.ndarray
    colour_rgb: np.ndarray
    elongation: np.ndarray
    camera: Camera
    fps: float
    start: int = 0
    future: int = 0
    weights: np.ndarray | None = field(default=None, repr=False)  # float32 [T, H, W, K] coverages
    # ground truth only: bool [T, K], the whole object in view and unoccluded (its centroid is exact)
    complete: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_frames(self) -> int:
        return int(self.visible.shape[0])

    def column(self, colour_id: int) -> int:
        """Index k of a palette colour in these tracks; KeyError if absent."""
        hits = np.flatnonzero(self.colour_ids == colour_id)
        if hits.size == 0:
            raise KeyError(f"colour id {colour_id} is not tracked")
        return int(hits[0])

    def masks(self, threshold: float = 0.5) -> np.ndarray:
        """Parsed per-colour masks bool [T, H, W, K] (coverage above `threshold`)."""
        if self.weights is None:
            raise ValueError("these tracks carry no coverage maps (parse with keep_weights=True)")
        return self.weights > threshold


def box_axis(spec: ObjectSpec) -> tuple[float, float] | None:
    """(offset of the principal axis from the body angle, symmetry period) for a rectangle;
    None for anything else. Squares have period pi/2 (their 4-fold axis), rectangles pi."""
    if spec.shape != "box" or len(spec.vertices) != 4:
        return None
    v = np.asarray(spec.vertices, dtype=np.float64)
    e0, e1 = v[1] - v[0], v[2] - v[1]
    if abs(np.dot(e0, e1)) > 1e-6 * (np.linalg.norm(e0) * np.linalg.norm(e1) + 1e-12):
        return None
    l0, l1 = np.linalg.norm(e0), np.linalg.norm(e1)
    if abs(l0 - l1) <= 0.07 * max(l0, l1):  # ELONGATED on second moments is about 7% on edge lengths
        return float(np.arctan2(e0[1], e0[0])), np.pi / 2
    long_edge = e0 if l0 > l1 else e1
    return float(np.arctan2(long_edge[1], long_edge[0])), np.pi


def background_image(camera: Camera, statics=()) -> np.ndarray:
    """The static background the renderer draws under the objects: uint8 [H, W, 3]."""
    from .render import Renderer

    return Renderer(camera, statics).background()


def coverage(frames: np.ndarray, background: np.ndarray | None = None,
             palette: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel coverage of each palette colour.

    frames uint8 [T, H, W, 3]; background uint8 [H, W, 3] (default black); palette uint8 [K, 3].
    Returns (weights float32 [T, H, W, K] in [0, 1], core bool [T, H, W, K]).
    """
    pal = (palette_array() if palette is None else np.asarray(palette)).astype(np.float32)  # [K, 3]
    t, h, w, _ = frames.shape
    k = pal.shape[0]
    if background is None:
        bg = np.broadcast_to(np.asarray(BACKGROUND, np.uint8), (h, w, 3))
    else:
        bg = np.asarray(background)
        if bg.shape != (h, w, 3):
            raise ValueError(f"background: expected [{h}, {w}, 3] like the frames, got {list(bg.shape)}")
    # only pixels that differ from the background can hold an object (most of a frame does not)
    diff = frames.astype(np.int16) - bg.astype(np.int16)  # [T, H, W, 3]
    idx = np.nonzero(np.abs(diff).sum(-1) > FOREGROUND)  # (t, row, col) of P pixels
    d = diff[idx].astype(np.float32)  # [P, 3]
    u = pal[None, :, :] - bg[idx[1], idx[2]].astype(np.float32)[:, None, :]  # [P, K, 3] blend directions
    uu = np.maximum((u * u).sum(-1), 1.0)  # [P, K]
    du = np.einsum("pc,pkc->pk", d, u)
    alpha = np.clip(du / uu, 0.0, 1.0)
    dd = (d * d).sum(-1)[:, None]
    # |d - a u|^2 = |d|^2 - 2 a d.u + a^2 |u|^2, without materialising [P, K, 3]
    res2 = np.maximum(dd - 2 * alpha * du + alpha * alpha * uu, 0.0)
    best = res2.argmin(-1)
    ok = (np.arange(k) == best[:, None]) & (res2 < RESIDUAL_TOL**2) & (alpha >= MIN_ALPHA)
    wflat = np.where(ok, alpha, 0.0).astype(np.float32)  # [P, K]
    _unmix_pairs(wflat, d, u, alpha, res2, idx, (t, h, w, k))
    weights = np.zeros((t, h, w, k), np.float32)
    weights[idx] = wflat
    core = weights >= CORE_ALPHA
    # keep only weight next to a core pixel (3x3 neighbourhood): stray blends between two touching
    # objects have no opaque neighbour of their apparent colour
    weights *= _grow(core, 1)
    return weights, core


def _grow(mask: np.ndarray, r: int) -> np.ndarray:
    """Dilate bool [T, H, W, K] by r pixels along rows and columns (a (2r+1)^2 square)."""
    for axis in (1, 2):
        grown = mask.copy()
        for shift in range(1, r + 1):
            lo = [slice(None)] * 4
            hi = [slice(None)] * 4
            lo[axis], hi[axis] = slice(shift, None), slice(None, -shift)
            grown[tuple(lo)] |= mask[tuple(hi)]
            grown[tuple(hi)] |= mask[tuple(lo)]
        mask = grown
    return mask


def _unmix_pairs(wflat: np.ndarray, d: np.ndarray, u: np.ndarray, alpha: np.ndarray, res2: np.ndarray,
                 idx: tuple, shape: tuple) -> None:
    """Where two objects touch, a pixel mixes two palette colours and can pass for a third one
    (red + green reads as orange at half coverage). Pixels that one colour explains poorly are
    re-solved as a blend of two colours present next to them; when that explains them much better,
    their weight is split between those two. Edits `wflat` [P, K] (the foreground pixels) in place."""
    best_res2 = res2.min(-1)
    cand = np.flatnonzero((best_res2 > UNMIX_RES**2) & ((d * d).sum(-1) > UNMIX_RES**2))
    if cand.size == 0:
        return
    k = u.shape[1]
    # colours present next to the pixel: an almost opaque, well explained pixel within 2 px
    present = np.zeros(shape, dtype=bool)
    present[idx] = (alpha >= PRESENT_ALPHA) & (res2 < UNMIX_RES**2)
    present = _grow(present, 2)[idx[0][cand], idx[1][cand], idx[2][cand]]  # [C, K]
    dd, uu, best = d[cand], u[cand], best_res2[cand].copy()
    choice = np.full((cand.size, 2), -1)
    amounts = np.zeros((cand.size, 2))
    for i in range(k):
        for j in range(i + 1, k):
            pair_ok = present[:, i] & present[:, j]
            if not pair_ok.any():
                continue
            ui, uj = uu[:, i], uu[:, j]  # [C, 3]
            a11, a22, a12 = (ui * ui).sum(-1), (uj * uj).sum(-1), (ui * uj).sum(-1)
            b1, b2 = (dd * ui).sum(-1), (dd * uj).sum(-1)
            det = a11 * a22 - a12 * a12
            det = np.where(np.abs(det) < 1e-6, 1e-6, det)
            x1 = np.clip((a22 * b1 - a12 * b2) / det, 0, 1)
            x2 = np.clip((a11 * b2 - a12 * b1) / det, 0, 1)
            r = dd - x1[:, None] * ui - x2[:, None] * uj
            rr = (r * r).sum(-1)
            better = (rr < UNMIX_GAIN * best) & (x1 >= MIN_ALPHA) & (x2 >= MIN_ALPHA) \
                & (x1 + x2 <= UNMIX_SUM) & pair_ok
            best = np.where(better, rr, best)
            choice[better] = (i, j)
            amounts[better] = np.stack([x1, x2], -1)[better]
    hit = choice[:, 0] >= 0
    if not hit.any():
        return
    rows, choice, amounts = cand[hit], choice[hit], amounts[hit]
    wflat[rows, :] = 0.0
    wflat[rows, choice[:, 0]] = amounts[:, 0]
    wflat[rows, choice[:, 1]] = amounts[:, 1]


def check_inputs(frames: np.ndarray, camera: Camera, palette: np.ndarray | None) -> tuple[Camera, np.ndarray]:
    """Validate frames uint8 [T, S, S, 3] and a palette [K, 3]; returns (the camera at the frames'
    size, the palette as uint8)."""
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        got = f"{getattr(frames, 'dtype', type(frames).__name__)} {list(getattr(frames, 'shape', []))}"
        raise ValueError(f"frames: expected uint8 [T, H, W, 3], got {got}")
    h, w = frames.shape[1:3]
    if h != w:
        raise ValueError(f"frames: the camera is square, got {h}x{w} frames")
    if camera.size != h:
        camera = camera.resized(h)
    pal = palette_array() if palette is None else np.asarray(palette, dtype=np.uint8)
    if pal.ndim != 2 or pal.shape[1] != 3:
        raise ValueError(f"palette: expected [K, 3] RGB rows, got {list(pal.shape)}")
    return camera, pal


def parse_objects(frames: np.ndarray, camera: Camera, background: np.ndarray | None = None,
                  colour_ids=None, fps: float = 0.0, keep_weights: bool = False, start: int = 0,
                  future: int = 0, palette: np.ndarray | None = None) -> Tracks:
    """Objects in frames uint8 [T, H, W, 3], one track per palette colour (all colours by default).

    `camera` maps pixels to metres (resized to the frames' size if needed); `background` is the
    static scene under the objects (see `background_image`), black by default; `palette` uint8
    [K, 3] (row = colour id) defaults to `sim.palette.PALETTE`.
    """
    camera, pal = check_inputs(frames, camera, palette)
    ids = np.arange(len(pal)) if colour_ids is None else np.asarray(list(colour_ids), dtype=np.int64)
    weights, core = coverage(frames, background, pal)
    return measure(frames, weights[..., ids], core[..., ids], ids, camera, fps, keep_weights, start, future)


def measure(frames: np.ndarray, weights: np.ndarray, core: np.ndarray, ids: np.ndarray, camera: Camera,
            fps: float = 0.0, keep_weights: bool = False, start: int = 0, future: int = 0) -> Tracks:
    """Tracks from coverage maps: weights float32 [T, H, W, K] and core bool [T, H, W, K] of the
    palette colours `ids` [K] over frames uint8 [T, H, W, 3] (whose size the camera has)."""
    t, h, w, _ = frames.shape
    k = len(ids)

    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)  # pixel centres
    flat = weights.reshape(t, h * w, k).transpose(0, 2, 1)  # [T, K, HW]
    area = flat.sum(-1, dtype=np.float64)  # [T, K]
    visible = (area >= MIN_AREA) & core.any(axis=(1, 2))
    safe = np.where(area > 0, area, 1.0)
    centres = np.stack([cols.ravel(), rows.ravel()], -1).astype(np.float32)  # [HW, 2]
    centroid_px = np.matmul(flat, centres).astype(np.float64) / safe[..., None]  # [T, K, 2]
    cx, cy = centroid_px[..., 0], centroid_px[..., 1]
    centroid_px[~visible] = np.nan

    # second moments (and the 4-fold harmonic for squares) about the centroid
    orientation = np.full((t, k), np.nan)
    elongation = np.full((t, k), np.nan)
    for ti, ki in zip(*np.nonzero(visible), strict=True):
        wk = weights[ti, :, :, ki]
        sel = wk > 0
        ww = wk[sel].astype(np.float64)
        dx = cols[sel] - cx[ti, ki]
        dy = -(rows[sel] - cy[ti, ki])  # world y is up
        mxx, myy, mxy = (ww * dx * dx).sum(), (ww * dy * dy).sum(), (ww * dx * dy).sum()
        lam = np.linalg.eigvalsh(np.array([[mxx, mxy], [mxy, myy]]))
        if lam[0] > 0:
            elongation[ti, ki] = np.sqrt(lam[1] / lam[0])
        if lam[0] > 0 and lam[1] / lam[0] > ELONGATED:
            orientation[ti, ki] = 0.5 * np.arctan2(2 * mxy, mxx - myy) % np.pi
        else:
            z4 = (ww * (dx + 1j * dy) ** 4).sum()
            # an axis-aligned square has its mass-weighted r^4 at the corners (45 deg): arg = pi
            if abs(z4) > 0.05 * (ww * (dx * dx + dy * dy) ** 2).sum():
                orientation[ti, ki] = ((np.angle(z4) - np.pi) / 4.0) % (np.pi / 2)

    ncore = core.sum(axis=(1, 2))  # [T, K]
    coref = core.reshape(t, h * w, k).transpose(0, 2, 1).astype(np.float32)  # [T, K, HW]
    sums = np.matmul(coref, frames.reshape(t, h * w, 3).astype(np.float32)).astype(np.float64)  # [T, K, 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        rgb = sums / ncore[..., None]
    rgb[~visible] = np.nan

    size_px = np.maximum(np.sqrt(area / np.pi) - FRINGE_PX, 0.0)
    size_px[~visible] = np.nan
    return Tracks(
        colour_ids=ids, visible=visible, centroid_px=centroid_px, centroid=camera.to_world(centroid_px),
        area_px=area, size_px=size_px, size=size_px / camera.scale, orientation=orientation,
        colour_rgb=rgb, elongation=elongation, camera=camera, fps=float(fps), start=start, future=future,
        weights=weights if keep_weights else None)
