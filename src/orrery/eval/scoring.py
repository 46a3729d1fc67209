"""The metric table and the scoring of one predicted clip against its ground truth.

`score_clip` parses the context followed by the prediction (velocities at the first predicted
frame need the last context frame), builds the exact tracks from the clip's states, and runs every
metric of `METRICS`, returning long-format rows {metric, step, value} (step = None for per-clip
metrics)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..data.camera import Camera
from ..data.objects import StaticSpec
from ..sim.parse import Tracks, background_image, parse_objects
from ..sim.robust import concat_tracks, parse_video
from . import metrics_energy as en
from . import metrics_events as ev
from . import metrics_image as im
from . import metrics_motion as mo
from .truth import NoGroundTruth, true_tracks


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    per_step: bool
    better: str  # "lower" or "higher"; "target" for signed values or values compared with a true one
    kind: str  # "tracks" (pred, true, meta), "frames" (pred_frames, true_frames, meta), "masks"
    fn: Callable
    physics: bool = True
    # a frozen frame (copy-last) scores perfectly: no best model is shown for it
    trivial: bool = False
    # measured only on what a model detected: best only among models below this share missed
    needs: tuple[str, float] | None = None
    # for `target` metrics: the true value of a clip (meta -> float), shown beside the models
    truth: Callable | None = None


COLLISIONS = ("collisions_missed", 0.5)


def _gravity(meta: dict) -> float:
    g = meta.get("gravity")
    return float(g[1]) if g else float("nan")


METRICS: tuple[Metric, ...] = (
    Metric("position_error_px", "px", True, "lower", "tracks", mo.position_error_px),
    Metric("position_error_m", "m", True, "lower", "tracks", mo.position_error_m),
    Metric("velocity_error_per_frame", "m/s", True, "lower", "tracks", mo.velocity_error_per_frame),
    Metric("velocity_error_time_avg", "m/s", False, "lower", "tracks", mo.velocity_error_time_avg),
    Metric("acceleration_error", "m/s^2", False, "lower", "tracks", mo.acceleration_error),
    Metric("gravity_recovered", "m/s^2", False, "target", "tracks", mo.gravity_recovered, truth=_gravity),
    Metric("momentum_change_error", "rel", False, "lower", "tracks", ev.momentum_change_error, trivial=True,
           needs=COLLISIONS),
    Metric("energy_change_error", "rel", False, "lower", "tracks", ev.energy_change_error, needs=COLLISIONS),
    Metric("energy_gain", "rel", False, "target", "tracks", en.energy_gain, trivial=True,  # signed: 0 is right
           truth=lambda meta: 0.0),
    Metric("energy_flag", "0/1", False, "lower", "tracks", en.energy_flag, trivial=True),
    Metric("restitution_error", "", False, "lower", "tracks", ev.restitution_error, needs=COLLISIONS),
    Metric("collision_timing_error", "frames", False, "lower", "tracks", ev.collision_timing_error,
           needs=COLLISIONS),
    Metric("collisions_missed", "fraction", False, "lower", "tracks", ev.collisions_missed),
    Metric("objects_lost", "count", True, "lower", "tracks", mo.objects_lost),
    Metric("objects_visible", "count", True, "target", "tracks", mo.objects_visible),
    Metric("objects_spawned", "count", True, "lower", "tracks", mo.objects_spawned),
    Metric("objects_untracked", "count", False, "target", "tracks", mo.objects_untracked),
    Metric("size_drift", "rel", True, "lower", "tracks", mo.size_drift, trivial=True),
    Metric("shape_drift", "|ln ratio|", True, "lower", "tracks", mo.shape_drift, trivial=True),
    Metric("colour_drift", "rgb", True, "lower", "tracks", mo.colour_drift, trivial=True),
    Metric("orientation_error_deg", "deg", True, "lower", "tracks", mo.orientation_error_deg),
    Metric("angular_velocity_error", "rad/s", True, "lower", "tracks", mo.angular_velocity_error),
    Metric("interpenetration_px", "px", True, "lower", "tracks", mo.interpenetration_px, trivial=True),
    Metric("mask_iou", "", True, "higher", "masks", im.mask_iou, physics=False),
    Metric("psnr", "dB", True, "higher", "frames", im.psnr, physics=False),
    Metric("ssim", "", True, "higher", "frames", im.ssim, physics=False),
    Metric("motion_iou_spatial", "", False, "higher", "frames", im.motion_iou_spatial, physics=False),
    Metric("motion_iou_spatiotemporal", "", True, "higher", "frames", im.motion_iou_spatiotemporal, physics=False),
)
METRIC_BY_NAME = {m.name: m for m in METRICS}


def parse_prediction(meta: dict, context: np.ndarray, pred: np.ndarray, camera: Camera, background: np.ndarray,
                     start: int, keep_weights: bool = False) -> Tracks:
    """Tracks of the context (the dataset's own frames: the renderer's inverse reads them) followed
    by the prediction, which may come from anywhere: it is parsed with `parse_video` (its colours
    calibrated on itself, with the scene's colours as the prior; rims, flicker and fragments
    dropped)."""
    fps = float(meta["fps"])
    ctx = parse_objects(context, camera, background, fps=fps, keep_weights=keep_weights, start=start,
                        future=len(context))
    expected = [int(o["colour_id"]) for o in meta.get("objects", [])]
    fut = parse_video(pred, camera, background, expected=expected, fps=fps, keep_weights=keep_weights)
    return concat_tracks(ctx, fut)


def score_clip(meta: dict, context: np.ndarray, pred: np.ndarray, truth: np.ndarray, start: int,
               masks: np.ndarray | None = None) -> list[dict]:
    """Score one prediction.

    meta: the clip's record; context uint8 [Tc, S, S, 3] (frames start..start+Tc-1 as the model saw
    them); pred uint8 [H, S, S, 3]; truth uint8 [H, S, S, 3] (the clip's own next frames, for the
    image metrics); masks uint8 [T_clip, S, S] or None. Returns rows {metric, step, value}.
    """
    if pred.shape[1:] != context.shape[1:]:
        raise ValueError(f"prediction: frames {list(pred.shape[1:])} differ from the context's {list(context.shape[1:])}")
    if truth.shape != pred.shape:
        raise ValueError(f"truth: {list(truth.shape)} frames for a prediction of {list(pred.shape)}")
    tc, h, size = context.shape[0], pred.shape[0], pred.shape[1]
    rows: list[dict] = []

    def emit(name: str, value) -> None:
        if np.ndim(value) == 0:
            rows.append({"metric": name, "step": None, "value": float(value)})
        else:
            rows.extend({"metric": name, "step": i, "value": float(v)} for i, v in enumerate(np.asarray(value)))

    first = np.concatenate([context[-1:], pred], axis=0)
    first_true = np.concatenate([context[-1:], truth], axis=0)
    for m in METRICS:
        if m.kind == "frames":
            emit(m.name, m.fn(first, first_true, meta))
    if "camera" not in meta:
        return rows
    camera = Camera.from_dict(meta["camera"]).resized(size)
    bg = background_image(camera, [StaticSpec.from_dict(s) for s in meta.get("statics", [])])
    ptr = parse_prediction(meta, context, pred, camera, bg, start, keep_weights=masks is not None)
    try:
        ttr = true_tracks(meta, start, start + tc + h, size, masks, future=tc)
    except NoGroundTruth:
        return rows
    for m in METRICS:
        if m.kind == "tracks":
            emit(m.name, m.fn(ptr, ttr, meta))
        elif m.kind == "masks" and masks is not None and masks.shape[1] == size:
            emit(m.name, m.fn(ptr, masks[start:start + tc + h], meta))
    return rows
