"""The artefact suite, measured: what an outside generator's codec and colour pipeline do to the
ruler, on every scenario of a dataset (its test split).

    .venv/bin/python benchmarks/artefacts.py --data DIR [DIR ...] [--only NAME ...] [--limit N]

For each clip, frames 4..15 (after a 4-frame context) are scored as a prediction: unchanged (the
floor) and through each artefact of `orrery.eval.artefacts` (codecs at several quality settings,
hue, saturation, brightness, contrast, gamma, blur, noise; shifts and lags of known size). Prints
per artefact: spawned and lost objects per clip (summed over the 12 frames), mean position error
and its excess over the floor (mean over clips; worst scenario), the energy flag rate, and for
geometric artefacts the error they should score. The aims (issue 13): photometric and codec
artefacts of the strength marked `aim` give 0 spawned, 0 lost and an excess within 0.3 px; geometric
ones score their known size.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from orrery.data.dataset import ClipStore  # noqa: E402
from orrery.eval.artefacts import ARTEFACTS, score_artefact  # noqa: E402

TC, H = 4, 12


def run(path: str, names: list[str], limit: int) -> None:
    store = ClipStore(path, "test")
    clips = [store.clip(i) for i in range(len(store) if not limit else min(limit, len(store)))]
    arts = [a for a in ARTEFACTS if not names or a.name in names]
    res: dict[str, list[tuple[str, dict]]] = {"floor": []}
    t0 = time.time()
    for clip in clips:
        ctx, fut = clip.frames[:TC], clip.frames[TC:TC + H]
        res["floor"].append((clip.scenario, score_artefact(clip.meta, ctx, fut, clip.masks, None)))
        for a in arts:
            res.setdefault(a.name, []).append((clip.scenario, score_artefact(clip.meta, ctx, fut, clip.masks, a)))
    size = clips[0].frames.shape[1]
    print(f"\n{path}: {size} px, {len(clips)} test clips, {len({c.scenario for c in clips})} scenarios "
          f"({time.time() - t0:.0f} s)")
    floor = {s: np.nanmean([r['position_error_px'] for sc, r in res["floor"] if sc == s]) for s, _ in res["floor"]}
    print(f"{'artefact':22s}{'aim':>5s}{'spawned':>9s}{'lost':>7s}{'pos px':>9s}{'excess':>8s}{'worst scen.':>26s}"
          f"{'eflag':>7s}{'known px':>10s}")
    for name, rows in res.items():
        a = next((x for x in ARTEFACTS if x.name == name), None)
        pos = np.nanmean([r["position_error_px"] for _, r in rows])
        by = {}
        for s, r in rows:
            by.setdefault(s, []).append(r["position_error_px"])
        excess = {s: np.nanmean(v) - floor[s] for s, v in by.items()}
        worst = max(excess, key=lambda s: excess[s])
        flags = [r["energy_flag"] for _, r in rows if np.isfinite(r["energy_flag"])]
        known = np.nanmean([r["known_px"] for _, r in rows]) if a is not None and a.kind == "geometric" else np.nan
        print(f"{name:22s}{('' if a is None else ('yes' if a.aim else 'no')):>5s}"
              f"{np.mean([r['spawned'] for _, r in rows]):9.3f}{np.mean([r['lost'] for _, r in rows]):7.3f}"
              f"{pos:9.3f}{pos - np.nanmean(list(floor.values())):8.3f}{worst + f' {excess[worst]:+.3f}':>26s}"
              f"{np.mean(flags) if flags else float('nan'):7.3f}{known:10.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--only", nargs="*", default=[], help="artefact names (default: all)")
    ap.add_argument("--limit", type=int, default=0, help="clips per dataset (0 = all)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)
    for d in args.data:
        run(d, args.only, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
