"""Does the code train the quickstart model as well as the tree before the architecture change?

Issue 9's must-show: `make quickstart` gives the same figures before and after the change. A fair
comparison holds everything equal but the code:

- data: each tree simulates the embedded quickstart spec (videos and masks come out byte-identical);
  the new tree's clip records carry the stated-quantity captions issue 13 added, so the new tree
  trains on a copy of its data whose captions are the old tree's (`--captions new` keeps them);
- initialisation: the old tree did not seed it, so both are seeded here the same way
  (`torch.manual_seed(seed)` right before the model is built, and `train.seed=seed`);
- training: the same 1,200 steps of the tiny preset, no time cap, one thread per job;
- scoring: both checkpoints by this tree's `orrery evaluate` on the same data.

    python benchmarks/architecture_parity.py --out runs/parity [--old 5f6321d] [--seeds 0,1,2] [--jobs 2]

Needs the git history: a worktree of `--old` is made under OUT (`git worktree remove OUT/tree-OLD`
when done). ~25 min per run on one core of
the 2-core reference machine; `--jobs 2` runs two single-thread jobs at once. Prints a table of
position error at h1/4/8/12 on test and test_ood per seed and the paired difference; writes
OUT/parity.json. Rerunning skips what is done."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

SIMULATE = """
import sys
from orrery.engine.quickstart import embedded_spec
from orrery.sim.simulate import simulate
simulate(embedded_spec(), sys.argv[1], workers=1)
"""

TRAIN = """
import sys, torch
code, data, out, seed, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
torch.manual_seed(seed)
sets = [f"train.steps={steps}", f"train.seed={seed}", "train.time_limit_min=0", "train.val_every=200",
        "train.ckpt_every=200"]
if code == "old":
    from orrery.models.world import train_world
    train_world(data, out, "tiny", sets, progress=False)
else:
    from orrery.recipes.world import train_world
    train_world(data, out, "pixel", "tiny", None, sets, progress=False)
"""


def run(cmd: list[str], src: Path, log: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    with open(log, "w") as f:
        subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, check=True)


def old_captions(old_data: Path, new_data: Path, out: Path) -> None:
    """A copy of new_data whose clip records hold old_data's captions (everything else as is)."""
    if (out / "manifest.parquet").exists():
        return
    caps = {}
    for p in (old_data / "shards").glob("*.tar"):
        with tarfile.open(p) as t:
            for m in t.getmembers():
                if m.name.endswith(".json"):
                    caps[m.name] = json.loads(t.extractfile(m).read())["captions"]
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(new_data, tmp)
    for p in sorted((tmp / "shards").glob("*.tar")):
        with tarfile.open(p) as t:
            items = [(m, t.extractfile(m).read()) for m in t.getmembers() if m.isfile()]
        with tarfile.open(p.with_suffix(".part"), "w") as w:
            for m, data in items:
                if m.name.endswith(".json"):
                    rec = json.loads(data)
                    rec["captions"] = caps[m.name]
                    data = json.dumps(rec).encode()
                m.size = len(data)
                w.addfile(m, io.BytesIO(data))
        p.with_suffix(".part").replace(p)
    tmp.replace(out)


def figures(ev: Path) -> dict:
    s = json.loads((ev / "summary.json").read_text())
    model = next(m for m in s["models"] if not m.startswith(("baseline:", "floor")))
    pos = s["per_step"][model]["position_error_px"]
    return {f"h{h}": pos[h - 1] for h in (1, 4, 8, 12)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--old", default="5f6321d", help="the tree before the change (a commit)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--jobs", type=int, default=2, help="single-thread jobs at once")
    ap.add_argument("--captions", choices=("old", "new"), default="old",
                    help="the new tree trains with the old tree's captions (default) or its own")
    args = ap.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    wt = out / f"tree-{args.old}"
    if not wt.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(wt), args.old], check=True)
    srcs = {"old": wt / "src", "new": ROOT / "src"}
    for code in ("old", "new"):
        if not (out / f"data-{code}" / "manifest.parquet").exists():
            print(f"simulate with the {code} tree", flush=True)
            run([PY, "-c", SIMULATE, str(out / f"data-{code}")], srcs[code], out / f"simulate-{code}.log")
    train_data = {"old": out / "data-old", "new": out / "data-new"}
    if args.captions == "old":
        old_captions(out / "data-old", out / "data-new", out / "data-new-oldcaptions")
        train_data["new"] = out / "data-new-oldcaptions"

    def job(code_seed):
        code, seed = code_seed
        name = out / f"{code}-s{seed}"
        if not (name / "eval-test_ood" / "summary.json").exists():
            print(f"train {code} seed {seed}", flush=True)
            run([PY, "-c", TRAIN, code, str(train_data[code]), str(name / "run"), str(seed), str(args.steps)],
                srcs[code], out / f"{code}-s{seed}.train.log")
            for split in ("test", "test_ood"):
                run([PY, "-m", "orrery", "evaluate", "--model", str(name / "run"), "--data", str(train_data["new"]),
                     "--split", split, "--out", str(name / f"eval-{split}"), "--no-progress"], srcs["new"],
                    out / f"{code}-s{seed}.eval-{split}.log")
        return code, seed, {s: figures(name / f"eval-{s}") for s in ("test", "test_ood")}

    with ThreadPoolExecutor(args.jobs) as ex:
        res = list(ex.map(job, [(c, s) for s in seeds for c in ("old", "new")]))
    table = {(c, s): r for c, s, r in res}
    print(f"\nposition error px, h1 / h4 / h8 / h12 (old = {args.old}, new = this tree, {args.captions} captions)")
    for split in ("test", "test_ood"):
        diffs = []
        for s in seeds:
            o, n = table["old", s][split], table["new", s][split]
            diffs.append(n["h12"] - o["h12"])
            print(f"{split:9s} seed {s}: old " + " / ".join(f"{o[h]:.2f}" for h in o)
                  + "   new " + " / ".join(f"{n[h]:.2f}" for h in n) + f"   h12 new - old {diffs[-1]:+.3f}")
        sd = statistics.stdev(diffs) if len(diffs) > 1 else float("nan")
        print(f"{split:9s} paired h12 difference {statistics.mean(diffs):+.3f} +- {sd:.3f} over {len(seeds)} seeds")
    (out / "parity.json").write_text(json.dumps(
        {"old": args.old, "captions": args.captions, "steps": args.steps,
         "runs": [{"code": c, "seed": s, **r} for c, s, r in res]}, indent=1))


if __name__ == "__main__":
    main()
