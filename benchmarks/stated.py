"""Stated physics, measured: a text-conditioned world model prompted with a quantity (restitution,
gravity, initial speed, which ball is heavier); the ruler measures it in the predicted frames.

    .venv/bin/python benchmarks/stated.py --run RUN --data DIR [--guidance 1 2 3 4]
                                          [--context 4 --horizon 20 --limit 200 --device cpu]

RUN: a run folder of the pixel or latent family (or baseline:NAME, without guidance: the truth row
is then the ruler's own floor) trained with captions (`text: true`, the default)
on a dataset simulated after issue 13 (its captions carry the quantity sentences of `sim.stated`);
DIR: a dataset folder (test split) of bounce, projectile, uniform_motion, collision_1d or
collisions_2d clips, long enough for a bounce or a collision to fall inside the horizon. Prints,
per quantity, the mean stated-vs-measured error on the truth (the ruler's floor), with the prompt
dropped (the control) and at each guidance scale, and how many clips showed the quantity.

To make the model (the lead's command; minutes to hours on a GPU, not run here):

    orrery simulate specs/standard.yaml --out runs/std --set video.size=64
    orrery train world --data runs/std --out runs/stated --model pixel --preset small
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

from orrery.data.dataset import ClipStore  # noqa: E402
from orrery.eval.stated import stated_vs_measured  # noqa: E402
from orrery.models.registry import load_world_model  # noqa: E402
from orrery.sim.stated import stated_facts  # noqa: E402


def table(res: dict) -> None:
    runs = ["truth", "control"] + [f"guidance={g:g}" for g in res["guidances"]]
    print(f"{'quantity':14s}" + "".join(f"{r:>16s}" for r in runs) + "   (mean error; relative, or 0/1 for heavier; n)")
    for q, by in sorted(res["summary"].items()):
        print(f"{q:14s}" + "".join(f"{by[r][0]:>10.3f} ({by[r][1]:3d})" if r in by else f"{'-':>16s}" for r in runs))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--guidance", type=float, nargs="+", default=[1.0, 2.0, 3.0, 4.0])
    ap.add_argument("--context", type=int, default=4)
    ap.add_argument("--horizon", type=int, default=20)
    ap.add_argument("--limit", type=int, default=200, help="clips with a stated quantity (0 = all)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    if args.run.startswith("baseline:"):  # the ruler's floor and a baseline, no guidance
        from orrery.models.baselines import make_baseline

        model, args.guidance = make_baseline(args.run.split(":", 1)[1]), [1.0]
    else:
        model = load_world_model(args.run, device=args.device)
    clips = [c for c in ClipStore(args.data, "test") if stated_facts(c.meta)]
    clips = clips[:args.limit or None]
    print(f"{args.run} on {args.data}: {len(clips)} clips with a stated quantity, context {args.context}, "
          f"horizon {args.horizon}")
    table(stated_vs_measured(model, clips, args.guidance, args.context, args.horizon))
    return 0


if __name__ == "__main__":
    sys.exit(main())
