"""Model-predictive control with the cross-entropy method, inside a world model.

A plan is H velocity commands for the pusher, held constant over `hold` frames each (H / hold
"knots" of two numbers: a smooth, low-dimensional search). Each CEM iteration draws a population
of plans around the current mean (the mean itself is one of them), rolls all of them out in one
batched call of the model (`WorldModel.rollout`, the shared action convention), reads the target
object and the pusher back from the *predicted frames* with the parser, and keeps the elites.
The cost never sees a simulator state:

    cost = |object - goal| at the last predicted frame + its mean over the H frames
           + approach_weight x min over frames |pusher - point behind the object, seen from the goal|

(the approach term steers the pusher to the object's far side before the object moves; a frame
where the parser cannot find the object costs as much as the view is wide)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from ..config import Config
from ..data.objects import ObjectSpec
from ..models.base import Condition, Layout
from ..sim.parse import background_image, parse_objects
from .episodes import Episode, TrueWorld


class PlannerConfig(Config):
    horizon: int = Field(8, ge=1, description="frames each plan looks ahead")
    population: int = Field(32, ge=2, description="plans rolled out per CEM iteration (one batched rollout)")
    elites: int = Field(6, ge=1, description="best plans the next iteration's distribution is fitted to")
    iterations: int = Field(3, ge=1, description="CEM iterations per re-plan")
    hold: int = Field(2, ge=1, description="frames each command of a plan is held")
    execute: int = Field(2, ge=1, description="commands of each plan executed before re-planning")
    init_std: float = Field(0.6, gt=0, description="initial spread of the commands, as a share of max speed")
    min_std: float = Field(0.05, ge=0, description="floor of the spread, as a share of max speed")
    approach_weight: float = Field(0.3, ge=0, description="weight of the pusher's distance to the push point")


# imagine(context frames uint8 [Tc, S, S, 3], context rows [Tc - 1, A], plans [N, H, A]) -> uint8 [N, H, S, S, 3]
Imagine = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Plan:
    commands: np.ndarray  # [H, A] the best plan found
    frames: np.ndarray  # uint8 [H, S, S, 3] what the model imagined under it
    cost: float
    mean: np.ndarray  # [knots, A] the final CEM mean (warm start of the next re-plan)


def model_imagine(model, ep: Episode, world: TrueWorld, n_context: int) -> Imagine:
    """The rollout of `model` (a WorldModel) from the world's last `n_context` observed frames."""

    def imagine(context: np.ndarray, rows: np.ndarray, plans: np.ndarray) -> np.ndarray:
        n, h, a = plans.shape
        tc = context.shape[0]
        acts = np.zeros((n, tc + h, a), np.float32)
        acts[:, :tc - 1] = rows
        acts[:, tc - 1:tc - 1 + h] = plans
        start = world.frame - tc + 1
        lay = Layout.from_meta(ep.meta, start)
        cond = Condition(actions=acts, layouts=[lay] * n)
        return model.rollout(np.repeat(context[None], n, axis=0), h, cond)

    return imagine


def observed(world: TrueWorld, n_context: int) -> tuple[np.ndarray, np.ndarray]:
    """The last n observed frames [n, S, S, 3] (fewer at the very start) and the commands between
    them [n - 1, A]."""
    t = world.frame
    lo = max(0, t - n_context + 1)
    return world.frames[lo:t + 1], world.commands[lo:t].astype(np.float32)


def plan_cost(frames: np.ndarray, ep: Episode, approach_weight: float) -> np.ndarray:
    """frames uint8 [N, H, S, S, 3] -> cost [N], from the target and the pusher parsed from them."""
    n, h, size = frames.shape[0], frames.shape[1], frames.shape[2]
    camera = ep.camera(size)
    bg = background_image(camera)
    tracks = parse_objects(frames.reshape(n * h, size, size, 3), camera, bg,
                           colour_ids=[ep.colour_id, ep.pusher_colour_id])
    pos = tracks.centroid.reshape(n, h, 2, 2)
    vis = tracks.visible.reshape(n, h, 2)
    obj, push = pos[:, :, 0], pos[:, :, 1]
    far = camera.extent
    d_goal = np.where(vis[:, :, 0], np.linalg.norm(np.nan_to_num(obj) - ep.goal, axis=-1), far)
    objects = ep.meta["objects"]
    pusher = next(o for o in objects if o.get("role") == "pusher")
    r = ObjectSpec.from_dict(objects[ep.target]).size + float(pusher.get("radius", 0.6))
    to_goal = ep.goal - np.nan_to_num(obj)
    u = to_goal / np.maximum(np.linalg.norm(to_goal, axis=-1, keepdims=True), 1e-6)
    behind = np.nan_to_num(obj) - u * r
    both = vis[:, :, 0] & vis[:, :, 1]
    d_app = np.where(both, np.linalg.norm(np.nan_to_num(push) - behind, axis=-1), far).min(axis=1)
    return d_goal[:, -1] + d_goal.mean(axis=1) + approach_weight * d_app


def expand(knots: np.ndarray, hold: int, horizon: int) -> np.ndarray:
    """[..., K, A] knots -> [..., horizon, A] commands (each knot held `hold` frames)."""
    return np.repeat(knots, hold, axis=-2)[..., :horizon, :]


def limit_speed(knots: np.ndarray, max_speed: float) -> np.ndarray:
    speed = np.linalg.norm(knots, axis=-1, keepdims=True)
    return knots * np.minimum(1.0, max_speed / np.maximum(speed, 1e-9))


def cem(imagine: Imagine, context: np.ndarray, rows: np.ndarray, ep: Episode, cfg: PlannerConfig,
        rng: np.random.Generator, mean: np.ndarray | None = None) -> Plan:
    """The best plan CEM finds in `cfg.iterations` batched rollouts of `imagine`."""
    knots = math.ceil(cfg.horizon / cfg.hold)
    a = rows.shape[1] if rows.ndim == 2 and rows.shape[1] else 2
    mean = np.zeros((knots, a)) if mean is None else np.asarray(mean, dtype=np.float64)
    std = np.full((knots, a), cfg.init_std * ep.max_speed)
    best: Plan | None = None
    for _ in range(cfg.iterations):
        samples = mean + std * rng.standard_normal((cfg.population, knots, a))
        samples[0] = mean
        samples = limit_speed(samples, ep.max_speed)
        plans = expand(samples, cfg.hold, cfg.horizon)
        frames = imagine(context, rows, plans.astype(np.float32))
        costs = plan_cost(frames, ep, cfg.approach_weight)
        order = np.argsort(costs, kind="stable")
        if best is None or costs[order[0]] < best.cost:
            best = Plan(plans[order[0]], frames[order[0]], float(costs[order[0]]), mean)
        elite = samples[order[:min(cfg.elites, cfg.population)]]
        mean = elite.mean(axis=0)
        std = np.maximum(elite.std(axis=0), cfg.min_std * ep.max_speed)
    best.mean = mean
    return best


def random_plan(ep: Episode, cfg: PlannerConfig, rng: np.random.Generator, a: int = 2) -> np.ndarray:
    """The floor: one plan drawn from CEM's initial distribution, executed without looking ahead."""
    knots = math.ceil(cfg.horizon / cfg.hold)
    samples = cfg.init_std * ep.max_speed * rng.standard_normal((knots, a))
    return expand(limit_speed(samples, ep.max_speed), cfg.hold, cfg.horizon)


def shift(mean: np.ndarray, executed: int, hold: int) -> np.ndarray:
    """Warm start: the plan's mean moved on by the executed frames (whole knots), the last repeated."""
    k = executed // hold
    if k <= 0:
        return mean
    return np.concatenate([mean[k:], np.repeat(mean[-1:], min(k, len(mean)), axis=0)], axis=0)[:len(mean)]
