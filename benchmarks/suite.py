"""The physics-v1 suite's leaderboard: export the suite (or use an exported one), score the
baselines on both splits through `orrery bench score` (as any outside model), and write
leaderboard.json / leaderboard.csv with slots for orrery's own models and their commands.

    .venv/bin/python benchmarks/suite.py --suite-dir runs/physics-v1 [--export] [--limit N]

--export makes the suite first (`orrery bench export --suite physics-v1 --out DIR`). Baselines
read each item's static layout (camera, scenery, shapes; never states) from the answer key, as
`orrery evaluate` hands it to them; linear-flow and copy-last need only the context.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from orrery.data.video import decode_mp4, encode_mp4  # noqa: E402
from orrery.eval.bench import bench_score  # noqa: E402
from orrery.eval.suite import entry, export_suite, get_suite, write_leaderboard  # noqa: E402
from orrery.models.base import Condition, Layout  # noqa: E402
from orrery.models.baselines import make_baseline  # noqa: E402

BASELINES = ("copy-last", "constant-velocity", "linear-flow")
ORRERY = {  # slots: the lead trains and scores these
    "orrery pixel (hybrid, small)": "orrery train world --data DATA --out runs/pixel --model pixel --preset small; "
                                    "python benchmarks/suite.py --suite-dir SUITE --runs runs/pixel",
    "orrery latent (small)": "orrery train world --data DATA --out runs/latent --model latent --tokenizer TOK "
                             "--preset small; python benchmarks/suite.py --suite-dir SUITE --runs runs/latent",
    "orrery pixel + guided sampling (N=8)": "python benchmarks/suite.py --suite-dir SUITE --runs runs/pixel "
                                            "--set guide_candidates=8 --set guide_chunk=4",
}


def predict(model, bench: Path, out: Path, limit: int) -> int:
    info = json.loads((bench / "bench.json").read_text())
    keys = info["keys"][:limit or None]
    for key in keys:
        ctx, _ = decode_mp4(str(bench / "context" / f"{key}.mp4"))
        meta = json.loads((bench / "answers" / f"{key}.json").read_text())
        layout = Layout.from_meta({k: v for k, v in meta.items() if k != "states"})
        text = next((json.loads(x)["caption"] for x in (bench / "prompts.jsonl").read_text().splitlines()
                     if json.loads(x)["key"] == key), "")
        acts = meta.get("actions")
        cond = Condition(text=[text], layouts=[layout],
                         actions=None if acts is None else np.asarray(acts, np.float32)[None, :info["context"] + info["horizon"]])
        pred = model.rollout(ctx[None, -info["context"]:], int(info["horizon"]), cond)[0]
        (out / f"{key}.mp4").write_bytes(encode_mp4(pred, float(info["fps"])))
    return len(keys)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite-dir", required=True)
    ap.add_argument("--suite", default="physics-v1")
    ap.add_argument("--export", action="store_true", help="export the suite into --suite-dir first")
    ap.add_argument("--runs", nargs="*", default=[], help="trained run folders to add as measured orrery entries")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="inference settings for --runs")
    ap.add_argument("--limit", type=int, default=0, help="items per split (0 = all)")
    args = ap.parse_args(argv)
    suite, root = get_suite(args.suite), Path(args.suite_dir)
    if args.export:
        t0 = time.time()
        export_suite(args.suite, root)
        print(f"exported {args.suite} to {root} in {time.time() - t0:.0f} s")
    models = {b: (make_baseline(b), "baseline", f"python benchmarks/suite.py --suite-dir {root}") for b in BASELINES}
    if args.runs:
        from orrery.models.registry import load_world_model

        for r in args.runs:
            models[f"{r} {' '.join(args.sets)}".strip()] = (load_world_model(r, overrides=args.sets), "orrery",
                                                            f"python benchmarks/suite.py --suite-dir {root} --runs {r} "
                                                            + " ".join(f"--set {s}" for s in args.sets))
    entries = []
    for name, (model, kind, command) in models.items():
        scores = {}
        for split in suite.splits:
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.time()
                n = predict(model, root / split, Path(tmp), args.limit)
                res = bench_score(root / split, tmp, Path(tmp) / "score", progress=False)
                scores[split] = res["summary"]
                s = res["summary"]["overall"]["submission"]
                print(f"{name:22s} {split:9s} {n:4d} items  position {s['position_error_px']:.3f} px  "
                      f"floor {res['summary']['overall']['floor']['position_error_px']:.3f} px  ({time.time() - t0:.0f} s)")
        entries.append(entry(name, kind, command, scores))
    entries += [entry(n, "orrery", c) for n, c in ORRERY.items() if n not in models]
    write_leaderboard(root, args.suite, entries)
    print(f"wrote {root / 'leaderboard.json'} and leaderboard.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
