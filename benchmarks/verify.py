"""The physics verifier, measured: impossible edits, false alarms, and how its score ranks rollouts.

    .venv/bin/python benchmarks/verify.py --data DIR [DIR ...] [--runs RUN ...] [--no-layout]

For each dataset folder (its test split; clips of 32 frames are best):

1. Impossible-edit suite: every true clip and its edits (`orrery.verify.edits`: time-reversed
   damped bounces, flipped gravity, a teleport, a vanishing object, an object that grows), verified
   with the scene's layout (and, unless --no-layout, without it). Prints the share flagged: false
   alarms on the truth, detection per edit, and pooled.
2. Ranking: rollouts of context 4 + horizon 12 from frame 0 by the baselines (copy-last,
   constant-velocity, linear-flow), perturbed truths (each object's position jittered by a Gaussian
   of 0.5, 1 and 2 px per frame) and the truth itself, plus any trained `--runs`; the verifier scores
   context + prediction (no ground truth), the ruler scores the ground-truth position error; prints
   the Spearman rank correlation over all (clip, model) pairs and the mean of both per model.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from orrery.data.camera import Camera  # noqa: E402
from orrery.data.dataset import ClipStore  # noqa: E402
from orrery.data.objects import ObjectSpec, StaticSpec  # noqa: E402
from orrery.eval import metrics_motion as mo  # noqa: E402
from orrery.eval.scoring import parse_prediction  # noqa: E402
from orrery.eval.truth import true_tracks  # noqa: E402
from orrery.models.base import Condition, Layout  # noqa: E402
from orrery.models.baselines import make_baseline  # noqa: E402
from orrery.sim.parse import background_image  # noqa: E402
from orrery.sim.render import Renderer  # noqa: E402
from orrery.verify import verify_video  # noqa: E402
from orrery.verify.edits import EDITS, edit  # noqa: E402
from orrery.verify.scene import SceneLayout  # noqa: E402

TC, H = 4, 12
JITTER_PX = (0.5, 1.0, 2.0)


def spearman(x, y) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    def rank(a):
        a = np.asarray(a, float)
        order = a.argsort(kind="stable")
        r = np.empty(len(a))
        r[order] = np.arange(len(a))
        for v in np.unique(a):  # ties share their mean rank
            r[a == v] = r[a == v].mean()
        return r
    rx, ry = rank(x), rank(y)
    return float(np.corrcoef(rx, ry)[0, 1])


def edit_suite(path: str, layouts: tuple[bool, ...]) -> None:
    rows = []
    for clip in ClipStore(path, "test"):
        lay = SceneLayout.from_meta(clip.meta)
        for name in ("true",) + EDITS:
            frames = clip.frames if name == "true" else edit(name, clip.meta, clip.frames)
            if frames is None:
                continue
            for use in layouts:
                v = verify_video(frames, clip.fps, lay if use else None)
                rows.append((name, use, clip.scenario, v.flagged))
    for use in layouts:
        print(f"\n  impossible edits, {'with' if use else 'without'} the layout (share flagged)")
        pooled = []
        for name in ("true",) + EDITS:
            got = [f for n, u, _, f in rows if n == name and u == use]
            if name != "true":
                pooled += got
            missed = sorted({s for n, u, s, f in rows if n == name and u == use and (f if name == "true" else not f)})
            print(f"  {name:16s} n {len(got):4d}  {np.mean(got):.3f}  {'false alarms' if name == 'true' else 'missed'}"
                  f" in: {', '.join(missed) or '-'}")
        print(f"  {'edits pooled':16s} n {len(pooled):4d}  {np.mean(pooled):.3f}")


def jittered(meta: dict, size: int, sigma: float, seed: int) -> np.ndarray:
    cam = Camera.from_dict(meta["camera"]).resized(size)
    pos = np.asarray(meta["states"]["position"], float)[:TC + H].copy()
    rng = np.random.default_rng(seed)
    pos[TC:] += rng.normal(0.0, sigma / cam.scale, pos[TC:].shape)
    objs = [ObjectSpec.from_dict(o) for o in meta["objects"]]
    statics = [StaticSpec.from_dict(s) for s in meta.get("statics", [])]
    ang = np.asarray(meta["states"]["angle"], float)[:TC + H]
    return Renderer(cam, statics).render_clip(objs, pos, ang)[0][TC:]


def ranking(path: str, runs: list[str]) -> None:
    models = {b: make_baseline(b) for b in ("copy-last", "constant-velocity", "linear-flow")}
    if runs:
        from orrery.models.registry import load_world_model

        models.update({r: load_world_model(r) for r in runs})
    pairs = []
    for i, clip in enumerate(ClipStore(path, "test")):
        ctx, fut = clip.frames[:TC], clip.frames[TC:TC + H]
        size = ctx.shape[1]
        cond = Condition(text=[clip.captions[0] if clip.captions else ""], layouts=[Layout.from_meta(clip.meta)],
                         actions=None if clip.actions is None else clip.actions[None, :TC + H].astype(np.float32))
        preds = {"truth": fut}
        preds.update({f"jitter{s:g}px": jittered(clip.meta, size, s, i) for s in JITTER_PX})
        for name, m in models.items():
            preds[name] = m.rollout(ctx[None], H, cond)[0]
        cam = Camera.from_dict(clip.meta["camera"]).resized(size)
        bg = background_image(cam, [StaticSpec.from_dict(s) for s in clip.meta.get("statics", [])])
        t = true_tracks(clip.meta, 0, TC + H, size, clip.masks, future=TC)
        lay = SceneLayout.from_meta(clip.meta)
        for name, pred in preds.items():
            p = parse_prediction(clip.meta, ctx, pred, cam, bg, 0)
            err = float(np.nanmean(mo.position_error_px(p, t, clip.meta)))
            v = verify_video(np.concatenate([ctx, pred]), clip.fps, lay)
            if np.isfinite(err):
                pairs.append((name, clip.scenario, v.score, err, v.flagged))
    print(f"\n  ranking: {len(pairs)} (clip, model) pairs; Spearman(verifier score, position error) = "
          f"{spearman([p[2] for p in pairs], [p[3] for p in pairs]):.3f}")
    print(f"  {'model':20s}{'verifier score':>16s}{'position error px':>20s}{'flagged':>10s}")
    for name in dict.fromkeys(p[0] for p in pairs):
        sc = [p[2] for p in pairs if p[0] == name]
        er = [p[3] for p in pairs if p[0] == name]
        fl = [p[4] for p in pairs if p[0] == name]
        print(f"  {name:20s}{np.mean(sc):16.2f}{np.mean(er):20.2f}{np.mean(fl):10.2f}")
    for s in sorted({p[1] for p in pairs}):
        sub = [p for p in pairs if p[1] == s]
        print(f"  {s:16s} Spearman {spearman([p[2] for p in sub], [p[3] for p in sub]):.3f} (n {len(sub)})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="+", required=True, help="dataset folders (their test split)")
    ap.add_argument("--runs", nargs="*", default=[], help="trained run folders to rank beside the baselines")
    ap.add_argument("--no-layout", action="store_true", help="skip the verification without the layout")
    ap.add_argument("--skip-edits", action="store_true")
    ap.add_argument("--skip-ranking", action="store_true")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)
    for d in args.data:
        t0 = time.time()
        clip = ClipStore(d, "test").clip(0)
        print(f"\n{d}: {clip.frames.shape[1]} px, {clip.frames.shape[0]} frames, {len(ClipStore(d, 'test'))} test clips")
        if not args.skip_edits:
            edit_suite(d, (True,) if args.no_layout else (True, False))
        if not args.skip_ranking:
            ranking(d, args.runs)
        print(f"  ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
