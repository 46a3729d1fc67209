"""The counterfactual action test: does a world model do what it is told?

For every `push` clip, the recorded commands from the last context frame on are replaced by K
other sequences — the recorded ones turned by each angle of `rotations` (0 = the recorded ones).
The simulator re-runs each from the clip's own past (`sim.replay.counterfactual`): the ground truth
of every counterfactual. The model rolls out each from the same context frames, with the same
random stream per clip (so only the actions differ between its K rollouts). Two figures:

- position error (px) of each rollout against its counterfactual truth, through the same
  `score_clip` as every evaluation (a record whose states are the re-run's);
- the **action response**: how far the pushed objects' predicted trajectories move apart between
  counterfactuals (mean distance over pairs, future frames and objects, in px, read by the parser)
  over how far the true ones move apart, summed over clips. 1 = the model responds as physics does,
  0 = it ignores the action. The same ratio for the pusher itself is reported beside it.

The same model is also fed the actions `zeroed` (every row 0: its K rollouts are then identical)
and `shuffled` (each clip gets another clip's counterfactual commands): a model that obeys its
actions gets worse errors under both; an action-blind model scores the same under all three."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from pydantic import Field

from ..config import Config
from ..data.camera import Camera
from ..data.objects import ObjectSpec, StaticSpec
from ..models.base import Condition, Layout, WorldModel
from ..sim.parse import background_image, parse_objects
from ..sim.replay import counterfactual, render
from .scoring import score_clip
from .truth import tracked_objects

VARIANTS = ("given", "zeroed", "shuffled")


class ActionTestConfig(Config):
    context: int = Field(4, ge=1, description="context frames given to the model")
    horizon: int = Field(12, ge=1, description="future frames predicted under each counterfactual")
    start: int = Field(8, ge=0, description="clip frame where the context begins (8: the pusher is moving)")
    rotations: tuple[float, ...] = Field((0.0, 90.0, 180.0, 270.0), min_length=2,
                                         description="degrees the recorded commands are turned by (0 = recorded)")
    limit: int = Field(0, ge=0, description="at most this many push clips (0 = all)")


def rotate(rows: np.ndarray, degrees: float) -> np.ndarray:
    """Commands [T, A] with their velocity (the first two values) turned by `degrees`."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    out = np.array(rows, dtype=np.float64, copy=True)
    vx, vy = out[:, 0].copy(), out[:, 1].copy()
    out[:, 0], out[:, 1] = c * vx - s * vy, s * vx + c * vy
    return out


@dataclass
class Case:
    """One clip under one counterfactual: the rollout's action rows [Tc + H, A], the re-run's
    record (the clip's meta with the re-run's states and events) and its future frames [H, S, S, 3]."""

    key: str
    k: int
    actions: np.ndarray
    meta: dict
    truth: np.ndarray


def cases_of(meta: dict, cfg: ActionTestConfig) -> list[Case]:
    """The K counterfactuals of one push clip (ValueError if the clip is too short or not actuated)."""
    s, tc, h = cfg.start, cfg.context, cfg.horizon
    n = s + tc + h
    recorded = np.asarray(meta.get("actions") or [], dtype=np.float64)
    if recorded.ndim != 2 or recorded.shape[0] < n:
        raise ValueError(f"clip {meta.get('key', '?')}: needs {n} recorded commands (start + context + horizon), "
                         f"has {recorded.shape[0] if recorded.ndim == 2 else 0}")
    t0 = s + tc - 1  # the command from the last context frame into the first predicted one
    out = []
    for k, deg in enumerate(cfg.rotations):
        new = rotate(recorded[t0:n], deg)  # rows t0 .. n - 1 (the last one moves nothing in view)
        traj = counterfactual(meta, t0, new, n)
        states = {"position": traj.position.tolist(), "velocity": traj.velocity.tolist(),
                  "angle": traj.angle.tolist(), "angular_velocity": traj.angular_velocity.tolist()}
        full = np.concatenate([recorded[:t0], new], axis=0)
        record = dict(meta, states=states, events=traj.events, actions=full.tolist(), n_frames=n)
        rows = full[s:n].astype(np.float32)
        out.append(Case(str(meta["key"]), k, rows, record, render(meta, traj, start=s + tc)))
    return out


def _pairs_distance(pos: np.ndarray, ok: np.ndarray) -> tuple[float, float]:
    """pos [K, H, N, 2], ok bool [K, H, N] -> (sum over pairs, frames, objects of |p_i - p_j|, count)."""
    total, count = 0.0, 0
    for i, j in combinations(range(pos.shape[0]), 2):
        both = ok[i] & ok[j]
        total += float(np.linalg.norm(pos[i] - pos[j], axis=-1)[both].sum())
        count += int(both.sum())
    return total, count


def response_terms(pred: np.ndarray, truth_cases: list[Case], start: int) -> dict[str, tuple[float, float]]:
    """The action response's numerator and denominator for one clip, for the pushed objects and for
    the pusher: pred uint8 [K, H, S, S, 3] (the model's rollouts under the K counterfactuals);
    predicted positions are parsed from pixels, true ones are the re-runs' states. Only frames and
    objects visible in the prediction and in view in the truth, under both counterfactuals of a
    pair, count (the same entries for numerator and denominator)."""
    meta = truth_cases[0].meta
    size, h = pred.shape[2], pred.shape[1]
    camera = Camera.from_dict(meta["camera"]).resized(size)
    bg = background_image(camera, [StaticSpec.from_dict(x) for x in meta.get("statics", [])])
    keep, _ = tracked_objects(meta)
    if not keep:
        return {}
    idx = [i for i, _ in keep]
    colours = [o.colour_id for _, o in keep]
    reach = np.array([_reach(o) for _, o in keep]) * camera.scale
    pred_px, true_px, ok = [], [], []
    for k, case in enumerate(truth_cases):
        tracks = parse_objects(pred[k], camera, bg, colour_ids=colours)
        pos = np.asarray(case.meta["states"]["position"], dtype=np.float64)[start:start + h][:, idx]
        px = camera.to_pixel(pos)
        in_view = ((px + reach[None, :, None] > -0.5) & (px - reach[None, :, None] < size - 0.5)).all(-1)
        pred_px.append(tracks.centroid_px)
        true_px.append(px)
        ok.append(tracks.visible & in_view)
    pred_px, true_px, ok = np.stack(pred_px), np.stack(true_px), np.stack(ok)
    roles = np.array([o.role for _, o in keep])
    out = {}
    for name, cols in (("pushed", roles != "pusher"), ("pusher", roles == "pusher")):
        if cols.any():
            p, _ = _pairs_distance(np.nan_to_num(pred_px[:, :, cols]), ok[:, :, cols])
            t, _ = _pairs_distance(true_px[:, :, cols], ok[:, :, cols])
            out[name] = (p, t)
    return out


def _reach(o: ObjectSpec) -> float:
    return o.radius if o.shape == "circle" else float(np.max(np.linalg.norm(np.asarray(o.vertices), axis=1)))


def variant_actions(clip_cases: list[list[Case]], variant: str) -> np.ndarray:
    """Action rows [C * K, Tc + H, A] fed to the model: the counterfactuals' own (`given`), zeros
    (`zeroed`), or clip c + 1's counterfactual k for clip c (`shuffled`, a cyclic shift)."""
    c = len(clip_cases)
    if variant == "given":
        src = clip_cases
    elif variant == "shuffled":
        if c < 2:
            raise ValueError("shuffled actions need at least two clips")
        src = [clip_cases[(i + 1) % c] for i in range(c)]
    elif variant == "zeroed":
        src = clip_cases
    else:
        raise ValueError(f"variant: {variant!r} is not one of {', '.join(VARIANTS)}")
    acts = np.stack([case.actions for cases in src for case in cases]).astype(np.float32)
    return np.zeros_like(acts) if variant == "zeroed" else acts


def run_variant(model: WorldModel, clips: list, clip_cases: list[list[Case]], cfg: ActionTestConfig,
                variant: str) -> dict:
    """Roll the model out under every counterfactual of every clip with the variant's actions and
    score it: {'position_error_px', 'objects_lost', 'response', 'response_pusher', 'per_rotation',
    'clips'}."""
    s, tc, h = cfg.start, cfg.context, cfg.horizon
    flat = [case for cases in clip_cases for case in cases]
    ctx = np.stack([clip.frames[s:s + tc] for clip, cases in zip(clips, clip_cases, strict=True) for _ in cases])
    cond = Condition(text=[(clip.captions[0] if clip.captions else "") for clip, cases
                           in zip(clips, clip_cases, strict=True) for _ in cases],
                     actions=variant_actions(clip_cases, variant),
                     layouts=[Layout.from_meta(case.meta, s) for case in flat])
    pred = model.rollout(ctx, h, cond)
    if pred.shape != (len(flat), h) + ctx.shape[2:] or pred.dtype != np.uint8:
        raise ValueError(f"model: rollout returned {pred.dtype} {list(pred.shape)}, expected uint8 "
                         f"{[len(flat), h, *ctx.shape[2:]]}")
    errors = {k: [] for k in range(len(cfg.rotations))}
    lost = []
    sums = {"pushed": [0.0, 0.0], "pusher": [0.0, 0.0]}
    i = 0
    for cases in clip_cases:
        for case in cases:
            rows = score_clip(case.meta, ctx[i], pred[i], case.truth, s)
            errors[case.k].append(_mean([r["value"] for r in rows if r["metric"] == "position_error_px"]))
            lost.append(_mean([r["value"] for r in rows if r["metric"] == "objects_lost"]))
            i += 1
        terms = response_terms(pred[i - len(cases):i], cases, s + tc)
        for name, (p, t) in terms.items():
            sums[name][0] += p
            sums[name][1] += t
    per_rot = {f"{deg:g}": _mean(errors[k]) for k, deg in enumerate(cfg.rotations)}
    return {"position_error_px": _mean([e for v in errors.values() for e in v]), "objects_lost": _mean(lost),
            "response": _ratio(*sums["pushed"]), "response_pusher": _ratio(*sums["pusher"]),
            "true_spread_px": sums["pushed"][1], "per_rotation": per_rot, "clips": len(clips)}


def _mean(xs) -> float:
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return float(np.mean(xs)) if xs else float("nan")


def _ratio(p: float, t: float) -> float:
    return p / t if t > 0 else float("nan")


def evaluate_actions(model: WorldModel | str, data_dir, split: str, out, cfg: ActionTestConfig | None = None,
                     variants: tuple[str, ...] = VARIANTS) -> dict:
    """The counterfactual action test of `model` (a WorldModel; `simulator` = the simulator driven
    by the given actions; `baseline:NAME`; or a run folder) on the push clips of one split. Writes
    out/summary.json and returns it."""
    import json
    from pathlib import Path

    from ..data.atomic import write_text
    from ..data.dataset import ClipStore
    from ..models.baselines import ActionReplay
    from .loading import resolve_model
    from .summary import json_safe

    cfg = cfg or ActionTestConfig()
    for v in variants:
        if v not in VARIANTS:
            raise ValueError(f"variant: {v!r} is not one of {', '.join(VARIANTS)}")
    store = ClipStore(data_dir, split, scenarios=["push"])
    n = min(cfg.limit, len(store)) if cfg.limit else len(store)
    clips, clip_cases, skipped = [], [], []
    for i in range(n):
        clip = store.clip(i)
        try:
            clip_cases.append(cases_of(clip.meta, cfg))
            clips.append(clip)
        except ValueError as e:
            skipped.append({"key": clip.key, "reason": str(e)})
    if not clips:
        raise ValueError(f"{data_dir}: no push clip of split {split!r} can be tested"
                         + (f" ({skipped[0]['reason']})" if skipped else ""))
    if isinstance(model, str) and model == "simulator":
        wm: WorldModel = ActionReplay({c.key: c.meta for c in clips})
    elif isinstance(model, str):
        wm = resolve_model(model, {c.key: c.meta.get("states") for c in clips})
    else:
        wm = model
    name = model if isinstance(model, str) else getattr(wm, "name", type(wm).__name__)
    results = {v: run_variant(wm, clips, clip_cases, cfg, v) for v in variants if v != "shuffled" or len(clips) > 1}
    summary = {"model": name, "data": str(Path(data_dir).resolve()), "split": split, **cfg.model_dump(),
               "rotations": list(cfg.rotations), "variants": results, "skipped": skipped}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "summary.json", json.dumps(json_safe(summary), indent=1, allow_nan=False))
    return summary
