"""`evaluate`: roll a world model out on a dataset split and measure it against the simulator.

Every clip's frames [start, start + context) are the context; the model predicts the next
`horizon` frames. Beside the model, the same clips are scored for the comparison rows of the
report: the baselines (copy-last, constant-velocity by default) and the *floor*, the clip's own
encoded frames scored as if they were a prediction (the parser's error on ground truth after the
dataset's encoding: no model can be told apart from the truth below it). A model that predicts in
a tokenizer's latent space gets a second floor, `floor:tokenizer`: its tokenizer's reconstruction
of the true frames (context and future encoded together, padded as its rollout pads), what the
model could reach at best.

Writes into `out`: metrics.parquet (one row per model, clip, metric and step), summary.json and
report.html. Per-clip results are kept under out/parts/ as they are made, so a killed run resumes.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import Field, field_validator

from ..config import Config, validate
from ..data.atomic import clean_temporaries, replace_set
from ..data.lock import folder_lock
from ..models.base import Condition, Layout, WorldModel
from .scoring import METRICS, score_clip

FLOOR = "floor"
TOKENIZER_FLOOR = "floor:tokenizer"  # a latent model's tokenizer reconstructing the true frames
DEFAULT_BASELINES = ("copy-last", "constant-velocity")
MAX_EXAMPLES = 32  # clips whose frames are kept for the report's animations


class EvalConfig(Config):
    """What an evaluation measures: which frames are context and which are predicted."""

    context: int = Field(4, ge=1, description="context frames given to the model")
    horizon: int = Field(12, ge=1, description="future frames predicted and scored")
    start: int = Field(0, ge=0, description="clip frame where the context begins")
    batch_size: int = Field(8, ge=1, description="clips rolled out together (scores do not depend on it)")
    baselines: tuple[str, ...] = Field(DEFAULT_BASELINES, description="scored beside the model")
    limit: int = Field(0, ge=0, description="evaluate at most this many clips (0 = all)")
    seed: int = Field(0, ge=0, description="sampling seed of a run-folder model (each clip's noise derives "
                                           "from it and the clip's key)")
    model_settings: tuple[str, ...] = Field((), description="inference settings of a run-folder model, "
                                                            "e.g. ['steps=2']")

    @field_validator("baselines")
    @classmethod
    def _known(cls, names):
        from ..models.baselines import BASELINES

        for b in names:
            if b not in BASELINES:
                raise ValueError(f"unknown baseline {b!r}; choose from {', '.join(BASELINES)}")
        return names


@dataclass
class Examples:
    """Frames of some clips for the report: key -> (context, truth, prediction), uint8 [T, S, S, 3]."""

    frames: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def evaluate(model: WorldModel | str, data_dir: str | Path, split: str, out: str | Path,
             cfg: EvalConfig | None = None, *, progress: bool = True, report: bool = True, **settings) -> dict:
    """Evaluate `model` (a WorldModel, `baseline:NAME` or a run folder) on one split; returns the
    summary. `settings` (context=, horizon=, start=, baselines=, batch_size=, limit=, seed=,
    model_settings=) change `cfg`. One evaluation at a time writes `out` (`folder_lock`)."""
    base = (cfg or EvalConfig()).model_dump()
    cfg = validate(EvalConfig, {**base, **{k: (tuple(v) if k in ("baselines", "model_settings") else v)
                                           for k, v in settings.items() if v is not None}})
    out = Path(out)
    with folder_lock(out, "evaluation"):
        return _evaluate(model, Path(data_dir), split, out, cfg, progress, report)


def _evaluate(model: WorldModel | str, data_dir: Path, split: str, out: Path, cfg: EvalConfig, progress: bool,
              report: bool) -> dict:
    from ..data.dataset import ClipStore
    from ..models.baselines import make_baseline
    from .loading import resolve_model
    from .record import Parts, check_record, make_record
    from .truth import truth_problem

    context, horizon, start, batch_size = cfg.context, cfg.horizon, cfg.start, cfg.batch_size
    limit = cfg.limit or None
    truth: dict[str, dict] = {}  # clip key -> states, for the oracle alone; filled batch by batch
    wm = resolve_model(model, truth, cfg.seed, cfg.model_settings) if isinstance(model, str) else model
    model_name = model if isinstance(model, str) else getattr(wm, "name", type(wm).__name__)
    comparisons: dict[str, Callable] = {}
    for b in cfg.baselines:
        if f"baseline:{b}" != model_name:
            comparisons[f"baseline:{b}"] = make_baseline(b, truth).rollout
    clean_temporaries(out)
    parts = out / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    store = ClipStore(data_dir, split)
    scored = {"context": context, "horizon": horizon, "start": start, "baselines": list(cfg.baselines),
              "seed": cfg.seed, "model_settings": list(cfg.model_settings)}
    check_record(parts, make_record(model_name, wm, split, data_dir, scored), _slug(model_name), out,
                 say=lambda line: print(line, file=sys.stderr))
    stamp = {"model": model_name, "data": str(data_dir.resolve()), "split": split, "context": context,
             "horizon": horizon, "start": start}

    n = len(store) if limit is None else min(limit, len(store))
    models: dict[str, Callable] = {model_name: wm.rollout, **comparisons}
    floors: dict[str, Callable] = {}
    if getattr(getattr(wm, "tokenizer", None), "cfg", None) is not None:
        from .tokenizer import reconstruction_floor

        floors[TOKENIZER_FLOOR] = reconstruction_floor(wm.tokenizer, context)
    rows: list[dict] = []
    skipped: list[dict] = []
    examples = Examples()
    need = start + context + horizon
    action_dim = int(getattr(wm, "action_dim", 0) or 0)

    done = Parts(parts)
    digests: dict[str, str] = {}  # clip key -> sha256 of its stored bytes

    from rich.progress import Progress

    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"evaluating {model_name} on {split}", total=n)
        batch: list = []
        for i in range(n):
            clip = store.clip(i)
            digests[clip.key] = store.digest(i)
            problem = truth_problem(clip.meta, start, need)
            if clip.frames.shape[0] < need:
                skipped.append({"key": clip.key, "reason": f"{clip.frames.shape[0]} frames < start + context + "
                                                           f"horizon = {need}", "scored": "no"})
            elif problem is not None and problem[1] == "clip":
                skipped.append({"key": clip.key, "reason": problem[0], "scored": "no"})
            else:
                if problem is not None:  # no states: scored on images, said so
                    skipped.append({"key": clip.key, "reason": problem[0], "scored": "image metrics only"})
                batch.append(clip)
            if len(batch) == batch_size or (i == n - 1 and batch):
                truth.clear()
                truth.update({c.key: c.meta.get("states") for c in batch})
                rows += _run_batch(batch, models, cfg, done, digests, examples, action_dim, floors)
                batch = []
            bar.advance(task)

    if not rows:
        raise ValueError(f"{data_dir}: no clip of split {split!r} could be evaluated"
                         + (f" ({skipped[0]['key']}: {skipped[0]['reason']})" if skipped else ""))
    from .summary import json_safe, summarise, write_metrics

    summary = summarise(rows, stamp, skipped, main=model_name)
    files: dict = {"metrics.parquet": lambda tmp: write_metrics(tmp, rows),
                   "summary.json": json.dumps(json_safe(summary), indent=1, allow_nan=False),
                   "report.html": None, "model_card.md": None}
    if report:
        from ..report.html import report_files

        files.update(report_files(summary, examples.frames, model=wm))
    replace_set(out, files, marker="summary.json")  # the set is replaced whole: summary.json last
    return summary


def _run_batch(clips: list, models: dict[str, Callable], cfg: EvalConfig, done, digests: dict[str, str],
               examples: Examples, action_dim: int = 0, floors: dict[str, Callable] | None = None) -> list[dict]:
    """Score a batch of clips for the floors and every model; per-clip results already on disk for
    the same clip bytes (a resumed run) are read back instead of recomputed. `floors`: name ->
    fn(context [B, Tc, ...], true futures [[H, ...]]) -> frames [B, H, ...]."""
    floors = floors or {}
    s, tc, h = cfg.start, cfg.context, cfg.horizon
    main = next(iter(models))
    by_size: dict[tuple, list] = {}
    for c in clips:
        by_size.setdefault(c.frames.shape[1:], []).append(c)
    rows: list[dict] = []
    for group in by_size.values():
        ctx = np.stack([c.frames[s:s + tc] for c in group])  # [B, Tc, S, S, 3]
        truth = [c.frames[s + tc:s + tc + h] for c in group]  # [H, S, S, 3] each
        cond = Condition(text=[(c.captions[0] if c.captions else "") for c in group],
                         actions=_actions(group, s, tc, h, action_dim), layouts=[Layout.from_meta(c.meta, s) for c in group])
        for name, rollout in [(FLOOR, None), *floors.items(), *models.items()]:
            kept = {c.key: done.load(_slug(name), c.key, digests[c.key]) for c in group}
            todo = [j for j, c in enumerate(group) if kept[c.key] is None]
            made: dict[int, np.ndarray] = {}
            if todo:
                if rollout is None:
                    pred = np.stack([truth[j] for j in todo])
                elif name in floors:
                    pred = rollout(ctx[todo], np.stack([truth[j] for j in todo]))
                else:
                    pred = rollout(ctx[todo], h, cond.subset(todo))
                    _check_prediction(name, pred, ctx[todo], h)
                made = dict(zip(todo, pred, strict=True))
            for j, p in made.items():
                c = group[j]
                clip_rows = score_clip(c.meta, ctx[j], p, truth[j], s, c.masks)
                for r in clip_rows:
                    r.update(model=name, key=c.key, split=c.split, scenario=c.scenario, ood=ood_kind(c.meta))
                done.save(_slug(name), c.key, digests[c.key], clip_rows)
                kept[c.key] = clip_rows
            for c in group:
                rows += kept[c.key]
            if name == main:
                # the report animates some clips of the model: re-roll those a resumed run skipped
                want = [j for j, c in enumerate(group) if c.key not in examples.frames]
                want = want[:max(0, MAX_EXAMPLES - len(examples.frames))]
                again = [j for j in want if j not in made]
                if again:
                    made.update(zip(again, rollout(ctx[again], h, cond.subset(again)), strict=True))
                for j in want:
                    examples.frames[group[j].key] = (ctx[j], truth[j], made[j])
    for c in clips:
        rows += truth_rows(c)
    return rows


def truth_rows(clip) -> list[dict]:
    """The true value of each `target` metric that has one (gravity, energy gain), as rows of the
    pseudo-model TRUTH: reports show it beside the models, per scenario."""
    from .summary import TRUTH

    if not clip.meta.get("states"):
        return []
    return [{"model": TRUTH, "key": clip.key, "split": clip.split, "scenario": clip.scenario, "metric": m.name,
             "step": None, "value": float(m.truth(clip.meta)), "ood": ood_kind(clip.meta)}
            for m in METRICS if m.truth is not None]


OOD_KINDS = {"count": "count", "template": "template", "combos": "combo"}


def ood_kind(meta: dict) -> str | None:
    """How a test_ood clip leaves the training distribution: gap, range, count, template, combo (or
    the parameter's name for data written before simulate recorded `ood_kind`); None in distribution."""
    axis = meta.get("ood_axis")
    if not axis:
        return None
    return meta.get("ood_kind") or OOD_KINDS.get(axis, axis)


def _actions(group: list, s: int, tc: int, h: int, action_dim: int = 0) -> np.ndarray | None:
    """The clips' action rows [B, Tc + H, A]; a clip without actions (no actuator) gets zero
    commands, as in training (`recipes.windows`); None when no clip has actions and the model
    takes none."""
    acts = [c.actions for c in group]
    dim = max([action_dim] + [a.shape[-1] for a in acts if a is not None])
    if dim == 0:
        return None
    rows = [np.zeros((tc + h, dim), np.float32) if a is None or a.shape[-1] == 0 else a[s:s + tc + h] for a in acts]
    return np.stack(rows).astype(np.float32)


def _check_prediction(name: str, pred: np.ndarray, ctx: np.ndarray, h: int) -> None:
    want = (ctx.shape[0], h) + ctx.shape[2:]
    if not isinstance(pred, np.ndarray) or pred.dtype != np.uint8 or pred.shape != want:
        got = f"{getattr(pred, 'dtype', type(pred).__name__)} {list(getattr(pred, 'shape', []))}"
        raise ValueError(f"model {name}: rollout returned {got}, expected uint8 {list(want)}")
