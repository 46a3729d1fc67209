"""Stated physics, measured: does a text-conditioned world model do what its prompt says?

For every clip with a quantity a caption can state (`sim.stated`: restitution, gravity, initial
speed, which ball is heavier), the model is prompted with a sentence stating it (the clip's true
value) and rolled out from the clip's context; the ruler measures the quantity in the predicted
frames from pixels (`verify.quantities`) and compares it with the stated value. The same is done

- at each classifier-free guidance scale of `guidances` (an inference setting of the pixel and
  latent families: `guidance`);
- with the prompt dropped (the control: what the model does from the context alone);
- on the clip's true frames (the ruler's own floor).

Errors are relative, |measured - stated| / stated, for restitution, gravity and speed, and 0/1 for
`heavier` (1 = the other ball behaved as the heavier one). NaN where the frames do not show the
quantity (no bounce or collision within the horizon)."""

from __future__ import annotations

import warnings

import numpy as np

from ..models.base import Condition, Layout, WorldModel
from ..sim.stated import stated_facts
from ..verify.quantities import measure
from ..verify.scene import SceneLayout


def set_guidance(model: WorldModel, scale: float) -> None:
    """Set the classifier-free guidance scale of a loaded model (its `net.cfg.guidance`)."""
    cfg = getattr(getattr(model, "net", None), "cfg", None)
    if cfg is None or not hasattr(cfg, "guidance"):
        raise ValueError(f"model {getattr(model, 'name', type(model).__name__)}: no classifier-free guidance "
                         "setting (the pixel and latent families have one)")
    cfg.guidance = float(scale)


def error(quantity: str, stated: float, measured: float) -> float:
    if not np.isfinite(measured):
        return float("nan")
    if quantity == "heavier":
        return float(measured != stated)
    return float(abs(measured - stated) / max(abs(stated), 1e-9))


def stated_vs_measured(model: WorldModel, clips, guidances=(1.0, 2.0, 3.0, 4.0), context: int = 4,
                       horizon: int = 12) -> dict:
    """Rows {key, scenario, quantity, stated, run, measured, error} (run = 'truth', 'control' or
    'guidance=G') and a summary {quantity: {run: (mean error, clips measured)}} over `clips`
    (Clip records with states). A model without a guidance setting accepts only guidances (1,)."""
    if context < 1 or horizon < 3:
        raise ValueError(f"context >= 1 and horizon >= 3 required, got {context}, {horizon}")
    guided = any(float(g) != 1.0 for g in guidances)
    if guided:
        set_guidance(model, guidances[0])  # fails early, with its reason, for a model without guidance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rows = _rows(model, clips, guidances, guided, context, horizon)
    summary: dict[str, dict] = {}
    for r in rows:
        summary.setdefault(r["quantity"], {}).setdefault(r["run"], [])
        summary[r["quantity"]][r["run"]].append(r["error"])
    for runs in summary.values():
        for name, errs in runs.items():
            e = np.asarray(errs, float)
            ok = np.isfinite(e)
            runs[name] = (float(e[ok].mean()) if ok.any() else float("nan"), int(ok.sum()))
    return {"rows": rows, "summary": summary, "guidances": [float(g) for g in guidances], "context": context,
            "horizon": horizon}


def _rows(model: WorldModel, clips, guidances, guided: bool, context: int, horizon: int) -> list[dict]:
    rows = []
    for clip in clips:
        facts = stated_facts(clip.meta)
        if not facts or clip.frames.shape[0] < context + horizon:
            continue
        ctx = clip.frames[:context]
        lay, slay = Layout.from_meta(clip.meta), SceneLayout.from_meta(clip.meta)
        acts = None if clip.actions is None else clip.actions[None, :context + horizon].astype(np.float32)
        for f in facts:
            prompt = f["texts"][0]
            videos = {"truth": clip.frames[:context + horizon],
                      "control": _predict(model, ctx, horizon, "", acts, lay)}
            for g in guidances:
                if guided:
                    set_guidance(model, g)
                videos[f"guidance={g:g}"] = _predict(model, ctx, horizon, prompt, acts, lay)
            for name, frames in videos.items():
                m = measure(frames, clip.fps, slay, f["subject"], f["other"], start=context)[f["quantity"]]
                rows.append({"key": clip.key, "scenario": clip.scenario, "quantity": f["quantity"],
                             "stated": f["value"], "prompt": prompt, "run": name, "measured": m,
                             "error": error(f["quantity"], f["value"], m)})
    return rows


def _predict(model: WorldModel, ctx: np.ndarray, horizon: int, prompt: str, acts, lay: Layout) -> np.ndarray:
    """Context followed by the model's prediction under `prompt`."""
    pred = model.rollout(ctx[None], horizon, Condition(text=[prompt], actions=acts, layouts=[lay]))[0]
    return np.concatenate([ctx, pred])
