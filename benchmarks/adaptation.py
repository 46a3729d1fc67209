"""Adaptation to a held-out law from few clips: does pretraining on the other laws help?

For each held-out law L (default: bounce and push):
1. pretrain one world model on the ten other laws of the foundation spec (`--pretrain-preset`,
   default `foundation`);
2. post-train it (`--init`) on n clips of L, n in `--ns` (default 8, 32, 128), and train the same
   network from scratch on the same clips for the same steps (`--steps`, default 1,200 = tiny's),
   both with the tiny recipe (lr 1e-3, warmup 3%, cosine) unless `--post-set` changes the
   post-trained runs' own (e.g. `--post-set train.lr=3e-4`);
3. train from scratch on more clips too (`--scratch-ns`, default 256, 512), so the from-scratch
   curve reaches further;
4. measure every model's position error (px, mean over 12 predicted frames, the parser reading the
   objects) on L's test clips, the pretrained model's zero-shot error (n = 0), and on the same clips
   constant velocity, copy-last and the floor (the clip's own frames re-parsed).

Reported: error vs n for both arms (mean and spread over `--seeds`; a seed draws the n clips — the
8 are inside the 32, inside the 128 — and seeds both trainings), and how many clips from scratch
needs to match the post-trained model at n = 8 and 32 (the from-scratch curve interpolated in
log n; "> N" when it never gets there). The table and `results.json` hold every run evaluated
under `--out`, earlier invocations' too (a later call with fewer `--ns` or `--seeds` adds to the
table, it does not shrink it). All runs share `model.action_dim=2`, so a model
pretrained without push has the action input that post-training on push needs.

Everything is resumable: datasets, runs and evaluations already on disk are not made again.

    python benchmarks/adaptation.py --out runs/adaptation            # the full experiment (hours)
    python benchmarks/adaptation.py --out /tmp/adapt --smoke         # seconds; tests/test_benchmarks_adaptation.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import yaml

from orrery.checkpoint import latest_checkpoint
from orrery.data.manifest import read_manifest, write_manifest
from orrery.data.progress import configure_logging
from orrery.eval.evaluate import evaluate
from orrery.recipes.world import train_world
from orrery.sim.simulate import simulate

SPEC = Path(__file__).resolve().parents[1] / "src" / "orrery" / "specs" / "foundation.yaml"
ALWAYS = ["model.action_dim=2", "data.val_split="]
SMOKE = {
    "spec": {"name": "smoke", "seed": 0, "video": {"size": 32, "fps": 15, "frames": 8, "physics_hz": 240},
             "shard_size": 16,
             "scenarios": [{"scenario": s, "clips": {"train": 3, "val": 1, "test": 2}}
                           for s in ("bounce", "projectile", "push")]},
    "held": ["bounce", "push"], "ns": [2], "scratch_ns": [4], "seeds": [0], "steps": 2, "pretrain_steps": 2,
    "test": 2, "context": 2, "horizon": 2,
    "sets": ["model.channels=[8,8]", "model.cond_dim=8", "model.text_dim=8", "model.context=2", "train.batch_size=4",
             "train.val_every=0", "train.ckpt_every=0", "train.log_every=1"],
}


def held_out_specs(spec: dict, law: str, n_max: int, n_test: int) -> tuple[dict, dict]:
    """(the spec without `law`, a spec of `law` alone with n_max train and n_test test clips)."""
    entries = [e for e in spec["scenarios"] if e["scenario"] == law]
    if not entries:
        raise SystemExit(f"error: --held: {law!r} is not a scenario of the spec "
                         f"({', '.join(e['scenario'] for e in spec['scenarios'])})")
    pre = dict(spec, name=f"{spec['name']}-without-{law}", scenarios=[e for e in spec["scenarios"]
                                                                       if e["scenario"] != law])
    held = dict(entries[0], clips={"train": n_max, "val": 0, "test": n_test, "test_ood": 0})
    return pre, dict(spec, name=f"{spec['name']}-{law}", seed=spec.get("seed", 0) + 1, scenarios=[held])


def make_data(spec: dict, out: Path, workers: int, progress: bool = False) -> Path:
    if not (out / "manifest.parquet").exists():
        simulate(spec, out, workers=workers, progress=progress)
    return out


def subset(src: Path, dst: Path, keys: list[str]) -> Path:
    """A dataset folder holding the train clips `keys` and every test clip of `src` (shards linked)."""
    if (dst / "manifest.parquet").exists():
        return dst
    rows = [r for r in read_manifest(src).to_pylist() if r["split"] == "test" or r["key"] in set(keys)]
    (dst / "shards").mkdir(parents=True, exist_ok=True)
    for shard in sorted({r["shard"] for r in rows}):
        target = dst / "shards" / shard
        if not target.exists():
            try:
                os.link(src / "shards" / shard, target)
            except OSError:
                shutil.copyfile(src / "shards" / shard, target)
    shutil.copyfile(src / "spec.yaml", dst / "spec.yaml")
    write_manifest(dst / "manifest.parquet", rows)
    return dst


def train(data: Path, run: Path, steps: int, seed: int, family: str, preset: str, sets: list[str],
          init: Path | None = None, progress: bool = False) -> Path:
    if latest_checkpoint(run) != steps:
        if progress:
            print(f"adaptation: training {run.name} ({steps} steps"
                  + (f", from {init.name})" if init else ", from scratch)"), file=sys.stderr, flush=True)
        train_world(data, run, family, preset, sets=[*ALWAYS, *sets, f"train.steps={steps}", f"train.seed={seed}"],
                    init=init, progress=progress)
    return run


def error(run: Path, data: Path, out: Path, context: int, horizon: int, progress: bool = False) -> float:
    """Position error (px, mean over the horizon and the test clips) of a run on `data`'s test split."""
    if not (out / "summary.json").exists():
        evaluate(str(run), data, "test", out, progress=progress, report=False, baselines=(), context=context,
                 horizon=horizon)
    return _px(out / "summary.json")


def _px(summary: Path) -> float:
    """The evaluated model's position error (px) in an evaluation's summary.json."""
    s = json.loads(summary.read_text())
    return float(s["overall"][s["main"]]["position_error_px"])


def baselines(data: Path, out: Path, context: int, horizon: int, progress: bool = False) -> dict[str, float]:
    """Constant velocity, copy-last and the floor on `data`'s test split (px), scored once."""
    if not (out / "summary.json").exists():
        evaluate("baseline:constant-velocity", data, "test", out, progress=progress, report=False,
                 baselines=("copy-last",), context=context, horizon=horizon)
    s = json.loads((out / "summary.json").read_text())
    return {name.removeprefix("baseline:"): float(v["position_error_px"]) for name, v in s["overall"].items()
            if name.startswith("baseline:") or name == "floor"}


def gathered(ev: Path, law: str, arm: str) -> dict[str, dict[str, float]]:
    """{n: {seed: error}} of every `arm` run of `law` evaluated under `ev`, whichever invocation ran it."""
    found: dict[str, dict[str, float]] = {}
    for summary in ev.glob(f"{law}-{arm}-n*-seed*/summary.json"):
        n, seed = summary.parent.name.removeprefix(f"{law}-{arm}-n").split("-seed")
        found.setdefault(n, {})[seed] = _px(summary)
    return {n: dict(sorted(found[n].items(), key=lambda kv: int(kv[0])))
            for n in sorted(found, key=int)}


def clips_to_match(ns: list[int], errors: list[float], target: float) -> float:
    """Clips the from-scratch curve (errors at ns, ascending) needs to reach `target`, interpolated
    linearly in log n between measured points; inf if it never does."""
    for i, (n, e) in enumerate(zip(ns, errors, strict=True)):
        if e <= target:
            if i == 0:
                return float(n)
            n0, e0 = ns[i - 1], errors[i - 1]
            frac = (e0 - target) / max(e0 - e, 1e-12)
            return float(math.exp(math.log(n0) + frac * (math.log(n) - math.log(n0))))
    return math.inf


def run_law(law: str, spec: dict, a, out: Path) -> dict:
    ns, scratch_ns = sorted(a.ns), sorted(set(a.ns) | set(a.scratch_ns))
    pre_spec, held_spec = held_out_specs(spec, law, max(scratch_ns), a.test)
    pre_data = make_data(pre_spec, out / "data" / f"without-{law}", a.workers, a.progress)
    held = make_data(held_spec, out / "data" / law, a.workers, a.progress)
    pre = train(pre_data, out / "runs" / f"pretrained-without-{law}", a.pretrain_steps, 0, a.family,
                a.pretrain_preset, a.sets, progress=a.progress)
    ev = out / "eval" / law
    result = {"zero_shot": error(pre, held, ev / "zero-shot", a.context, a.horizon, a.progress),
              "baselines": baselines(held, ev / "baselines", a.context, a.horizon, a.progress)}
    train_keys = sorted(r["key"] for r in read_manifest(held).to_pylist() if r["split"] == "train")
    for seed in a.seeds:
        order = [train_keys[i] for i in np.random.default_rng([seed, 7]).permutation(len(train_keys))]
        for n in scratch_ns:
            data = subset(held, out / "data" / f"{law}-n{n}-seed{seed}", order[:n])
            arms = [("scratch", None)] + ([("post", pre)] if n in ns else [])
            for arm, init in arms:
                name = f"{law}-{arm}-n{n}-seed{seed}"
                sets = a.sets + (a.post_sets if arm == "post" else [])
                run = train(data, out / "runs" / name, a.steps, seed, a.family, "tiny", sets, init, a.progress)
                error(run, data, ev / name, a.context, a.horizon, a.progress)
    # every evaluation under --out, this invocation's and earlier ones' ({n: {seed: px}})
    result["seeds"] = {arm: gathered(ev, law, arm) for arm in ("post", "scratch")}
    for arm in ("post", "scratch"):
        result[arm] = {n: list(by_seed.values()) for n, by_seed in result["seeds"][arm].items()}
    result["match"] = {n: matched(result["seeds"], n) for n in result["post"]}
    return result


def scratch_points(seeds: dict, n: str) -> list[int]:
    """The from-scratch clip counts that have every seed of the post-trained runs at n."""
    want = seeds["post"][n]
    return sorted(int(m) for m, by_seed in seeds["scratch"].items() if all(s in by_seed for s in want))


def matched(seeds: dict, n: str) -> float:
    """Clips from scratch needs to match post-training on n, over the same seeds: those of the
    post-trained runs at n, and the from-scratch points that have all of them."""
    want = list(seeds["post"][n])
    known = scratch_points(seeds, n)
    curve = [float(np.mean([seeds["scratch"][str(m)][s] for s in want])) for m in known]
    return clips_to_match(known, curve, float(np.mean([seeds["post"][n][s] for s in want])))


def _cell(v: list[float] | None) -> str:
    """Mean ± sd over seeds; one seed has no spread to show, so its value stands alone."""
    return "–" if not v else f"{v[0]:.3f}" if len(v) == 1 else f"{np.mean(v):.3f} ± {np.std(v):.3f}"


def _seeds(seeds: dict, n: str) -> str:
    """The seeds behind a row: 'a/b' (post-trained/from scratch) when the arms differ."""
    post, scratch = ",".join(seeds["post"].get(n, {})), ",".join(seeds["scratch"].get(n, {}))
    return scratch if post in ("", scratch) else f"{post}/{scratch}"


def table(results: dict) -> str:
    lines = []
    for law, r in results.items():
        lines.append(f"\nheld-out law: {law}  (pretrained on the others, zero-shot: {r['zero_shot']:.3f} px)")
        lines.append("  on the same test clips: " + ", ".join(f"{k} {v:.3f}" for k, v in r["baselines"].items())
                     + " px")
        lines.append(f"{'n clips':>8}{'post-trained px':>20}{'from scratch px':>20}{'seeds':>12}")
        for n in sorted({int(k) for k in r["scratch"]}):
            lines.append(f"{n:>8}{_cell(r['post'].get(str(n))):>20}{_cell(r['scratch'][str(n)]):>20}"
                         f"{_seeds(r['seeds'], str(n)):>12}")
        for n, m in r["match"].items():
            known = scratch_points(r["seeds"], n)
            said = (f"> {known[-1]}" if math.isinf(m) else f"<= {known[0]}" if m <= known[0]
                    else f"{m:.0f} ({m / int(n):.1f}x)")
            lines.append(f"  from scratch needs {said} clips to match post-training on {n} "
                         f"(seeds {','.join(r['seeds']['post'][n])})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--smoke", action="store_true", help="a seconds-long run of every step (the tests' config)")
    p.add_argument("--spec", type=Path, default=SPEC)
    p.add_argument("--held", default="bounce,push", help="held-out laws, comma-separated (at least two)")
    p.add_argument("--ns", default="8,32,128", help="clips of the held-out law, both arms")
    p.add_argument("--scratch-ns", default="256,512", help="more clips, from scratch only (the curve to match)")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=1200, help="post-training and from-scratch steps (the same)")
    p.add_argument("--pretrain-steps", type=int, default=6000)
    p.add_argument("--pretrain-preset", default="foundation")
    p.add_argument("--family", default="deterministic", choices=["deterministic", "pixel"])
    p.add_argument("--test", type=int, default=32, help="test clips of each held-out law")
    p.add_argument("--context", type=int, default=4)
    p.add_argument("--horizon", type=int, default=12)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--set", dest="sets", action="append", default=[], help="a.b=v for every training run")
    p.add_argument("--post-set", dest="post_sets", action="append", default=[],
                   help="a.b=v for the post-trained runs only (their own learning rate, e.g. train.lr=3e-4, or "
                        "init.freeze=[...]); default: the same recipe as from scratch")
    a = p.parse_args(argv)
    ints = lambda s: [int(x) for x in str(s).split(",") if x.strip()]  # noqa: E731
    a.held, a.ns, a.scratch_ns, a.seeds = str(a.held).split(","), ints(a.ns), ints(a.scratch_ns), ints(a.seeds)
    spec = yaml.safe_load(a.spec.read_text())
    if a.smoke:
        spec = SMOKE["spec"]
        for k in ("held", "ns", "scratch_ns", "seeds", "steps", "pretrain_steps", "test", "context", "horizon"):
            setattr(a, k, SMOKE[k])
        a.sets, a.pretrain_preset = SMOKE["sets"] + a.sets, "tiny"
    a.progress = not a.smoke
    if a.progress:
        configure_logging()  # progress lines on stderr when the output is a log file, as the CLI does
    if len(a.held) < 2:
        print("warning: the issue asks for at least two held-out laws", file=sys.stderr)
    results = {law: run_law(law, spec, a, a.out) for law in a.held}
    a.out.mkdir(parents=True, exist_ok=True)
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()}
    (a.out / "results.json").write_text(json.dumps({"settings": settings, "laws": results}, indent=1,
                                                   default=lambda x: None))
    print(table(results))
    print(f"\nwrote {a.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
