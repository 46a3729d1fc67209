"""Per-video colour calibration: the palette and background a video actually shows.

A video made outside orrery (a generator's output, re-encoded) shows the scene through a colour
pipeline: a hue rotation, a saturation change, brightness, contrast and gamma. The parser reads
objects by colour, so it first estimates that pipeline from the video itself:

1. the background: the median colour of pixels where the known background is black, and of those
   where it is scenery grey (objects cover far less than half of either);
2. a global transform of the palette, `tone(hue_sat(c))`: a hue rotation and a saturation scale
   (searched on a grid, -30..30 degrees, x0.5..1.5) followed by a per-channel gain over the
   observed black; fitted to the video's *solid* pixels (foreground pixels whose neighbours show
   the same colour: object interiors, never anti-aliased or chroma-bled rims), each explained by
   its nearest transformed palette colour, with a truncated squared loss and a small pull towards
   the identity;
3. per colour, the median of its solid pixels replaces the transformed colour where at least
   `MIN_SOLID` pixels vote for it (a residual shift the global model cannot make, e.g. gamma).

`calibrate(frames, background, palette)` returns the observed palette (float [K, 3]) and the
observed background image; the parser then solves its blend model against those."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .palette import SCENERY, palette_array

HUES = np.arange(-30.0, 30.1, 10.0)  # degrees: a coarse grid, then a finer one around its best
SATS = np.arange(0.5, 1.51, 0.25)
TRUNCATE = 45.0  # RGB units: a solid pixel farther than this from every colour is not evidence
UNIFORM = 36.0  # summed |RGB| difference to each 4-neighbour below which a pixel is "solid"
SOLID_FG = 90.0  # summed |RGB| difference from the background above which a pixel can be solid
MIN_SOLID = 4  # solid pixels a colour needs before its own median replaces the global fit
MAX_SAMPLES = 2000  # solid pixels used for the fit (a fixed stride: deterministic)
PRIOR = 2.0  # cost per pixel (RGB units^2) of 10 degrees of hue or 0.1 of saturation: ties go to the identity
UNEXPECTED = 40.0  # RGB units added to the distance of colours outside the known scene
CHANNEL = 0.15  # largest per-channel departure from the common gain (white balance)
GOOD = 12.0  # RGB units: a video the identity explains this well (rms over solid pixels) is not searched


@dataclass
class Calibration:
    palette: np.ndarray  # float [K, 3]: each colour as this video shows it
    background: np.ndarray  # uint8 [H, W, 3]: the background as this video shows it
    hue: float  # degrees
    saturation: float
    gain: np.ndarray  # [3] per channel, over the observed black
    black: np.ndarray  # [3]
    voted: np.ndarray  # bool [K]: colours whose own solid pixels set them


def hue_sat(colours: np.ndarray, hue: float, sat: float) -> np.ndarray:
    """float RGB [N, 3] (0-255) rotated by `hue` degrees and saturation-scaled by `sat` (HSV)."""
    import cv2

    hsv = cv2.cvtColor(np.asarray(colours, np.float32)[None] / 255.0, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0] + hue) % 360.0
    hsv[..., 1] = np.clip(hsv[..., 1] * sat, 0.0, 1.0)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0].astype(np.float64) * 255.0


def _background(frames: np.ndarray, bg0: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(observed black [3], observed scenery grey [3] or None, observed background image)."""
    step = max(1, frames.shape[0] // 8)
    sub = frames[::step].astype(np.float32)
    s = np.sum(bg0.astype(np.int32), axis=-1)
    black = np.median(sub[:, s == 0].reshape(-1, 3), axis=0) if (s == 0).any() else np.zeros(3)
    grey_px = np.all(bg0 == np.asarray(SCENERY, np.uint8), axis=-1)
    grey = np.median(sub[:, grey_px].reshape(-1, 3), axis=0) if grey_px.sum() >= 4 else None
    if grey is None:
        img = np.broadcast_to(black, bg0.shape)
    else:  # anti-aliased scenery edges blend black and grey: keep the blend, change its ends
        a = bg0.astype(np.float32) / np.asarray(SCENERY, np.float32)
        img = black + a * (grey - black)
    return black, grey, np.clip(np.round(img), 0, 255).astype(np.uint8)


def solid_pixels(frames: np.ndarray, background: np.ndarray) -> np.ndarray:
    """float [N, 3]: colours of object interiors (foreground pixels whose four neighbours are
    foreground and of nearly the same colour), at most MAX_SAMPLES of them (fixed stride)."""
    x = frames.astype(np.int16)
    fg = np.abs(x - background.astype(np.int16)).sum(-1) > SOLID_FG  # [T, H, W]
    ok = fg.copy()
    ok[:, :1] = ok[:, -1:] = False
    ok[:, :, :1] = ok[:, :, -1:] = False
    inner = ok[:, 1:-1, 1:-1]
    c = x[:, 1:-1, 1:-1]
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        nb = x[:, 1 + dy:x.shape[1] - 1 + dy, 1 + dx:x.shape[2] - 1 + dx]
        inner &= np.abs(c - nb).sum(-1) <= UNIFORM
        inner &= fg[:, 1 + dy:x.shape[1] - 1 + dy, 1 + dx:x.shape[2] - 1 + dx]
    px = x[ok].astype(np.float64)
    if len(px) > MAX_SAMPLES:
        px = px[np.linspace(0, len(px) - 1, MAX_SAMPLES).astype(np.int64)]
    return px


def _fit(px: np.ndarray, q: np.ndarray, black: np.ndarray, grey: np.ndarray | None, extra: np.ndarray
         ) -> tuple[float, np.ndarray, np.ndarray]:
    """Gain over black for palette q [K, 3] seen as px [N, 3] -> (cost, gain [3], labels [N]). The
    gain is one contrast factor with per-channel departures of at most CHANNEL (white balance);
    `extra` [K] is added to the squared distance of colours the scene is not known to hold."""
    gain = np.ones(3)
    if grey is not None:
        gain = np.full(3, np.clip(np.mean((grey - black) / float(SCENERY[0])), 0.3, 3.0))
    for _ in range(2):
        t = black + q * gain  # [K, 3]
        d2 = ((px[:, None, :] - t[None]) ** 2).sum(-1) + extra  # [N, K]
        lab = d2.argmin(1)
        near = d2[np.arange(len(px)), lab] < (2 * TRUNCATE) ** 2
        if near.sum() < 3:
            break
        qa = q[lab[near]]
        num = ((px[near] - black) * qa).sum(0)
        den = (qa * qa).sum(0)
        if grey is not None:  # the scenery is evidence too
            num += 50 * (grey - black) * SCENERY[0]
            den += 50 * SCENERY[0] ** 2
        g = np.clip(num.sum() / max(den.sum(), 1e-6), 0.3, 3.0)
        gain = np.clip(num / np.maximum(den, 1e-6), g * (1 - CHANNEL), g * (1 + CHANNEL))
    t = black + q * gain
    d2 = ((px[:, None, :] - t[None]) ** 2).sum(-1) + extra
    lab = d2.argmin(1)
    cost = np.minimum(d2[np.arange(len(px)), lab], TRUNCATE**2).sum()
    return float(cost), gain, lab


def calibrate(frames: np.ndarray, background: np.ndarray | None = None,
              palette: np.ndarray | None = None, expected=None) -> Calibration:
    """The palette and background this video shows (see the module doc). frames uint8 [T, H, W, 3];
    background uint8 [H, W, 3] as rendered (black by default); palette uint8 [K, 3] (default the
    project's); `expected`: the colour ids the scene is known to hold (its layout), which explain
    solid pixels before any other colour does."""
    pal = (palette_array() if palette is None else np.asarray(palette)).astype(np.float64)
    bg0 = np.zeros(frames.shape[1:], np.uint8) if background is None else np.asarray(background)
    black, grey, bg_img = _background(frames, bg0)
    px = solid_pixels(frames, bg_img)
    best = (np.inf, 0.0, 1.0, np.ones(3), None)
    extra = np.zeros(len(pal))
    if expected is not None:
        extra[:] = UNEXPECTED**2
        extra[[int(k) for k in expected if 0 <= int(k) < len(pal)]] = 0.0
    if len(px) >= 3:
        def score(hue: float, sat: float):
            cost, gain, lab = _fit(px, hue_sat(pal, hue, sat), black, grey, extra)
            cost += len(px) * PRIOR * (abs(hue) / 10.0 + abs(sat - 1.0) / 0.1)
            return cost, hue, sat, gain, lab

        best = score(0.0, 1.0)
        if best[0] > len(px) * GOOD**2:  # the identity does not explain the video: search
            for hue in HUES:
                for sat in SATS:
                    best = min(best, score(float(hue), float(sat)), key=lambda b: b[0])
            h0, s0 = best[1], best[2]
            for hue in h0 + np.arange(-4.0, 4.1, 2.0):
                for sat in s0 + np.arange(-0.08, 0.081, 0.04):
                    best = min(best, score(float(hue), float(sat)), key=lambda b: b[0])
    _, hue, sat, gain, lab = best
    obs = black + hue_sat(pal, hue, sat) * gain
    voted = np.zeros(len(pal), dtype=bool)
    if lab is not None:
        for k in range(len(pal)):
            mine = px[lab == k]
            if len(mine) >= MIN_SOLID:
                med = np.median(mine, axis=0)
                if np.linalg.norm(med - obs[k]) < TRUNCATE:
                    obs[k], voted[k] = med, True
    return Calibration(palette=np.clip(obs, 0, 255), background=bg_img, hue=hue, saturation=sat, gain=gain,
                       black=black, voted=voted)
