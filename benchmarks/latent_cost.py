"""Cost side by side: pixel world models against latent ones (DiT over a continuous tokenizer, GPT
over an FSQ one), per frame size, on one CPU core, in one process (so the ratios compare even when
the machine is shared and the absolute rates do not).

For every size and model, with the presets' own numbers (`--preset`, default tiny) and untrained
weights (cost does not depend on what the weights hold):

- training samples/s: the real training step (the family's loss on a batch collated from its
  training windows -- frames, or latents/tokens made by the tokenizer through the same recipe
  code as `orrery train world` --, backward, AdamW), the median over `--repeats` of `--steps`
  timed steps after a warm-up step. A sample is one training window, i.e. one predicted state:
  one frame for pixel models and 1x tokenizers, a chunk of s_t frames over a tokenizer that
  compresses time; `train_frames_s` counts predicted frames;
- the one-off cost of encoding training clips with the tokenizer (frames/s), which latent
  training pays once per clip (per window for chunked tokenizers) and pixel training never;
- rollout frames/s: `WorldModel.rollout` of `--clips` clips, `--context` frames -> `--horizon`
  frames, tokenizer encode and decode included, the median over `--repeats`;
- parameters of the world model and of its tokenizer.

Ratios are against the first model of each size (the pixel default). A GPT whose window
(tokens per frame x frames) exceeds `--max-tokens` is skipped, and said so: attention over it does
not fit a CPU benchmark (at 128 px a 1x4x4 tokenizer gives 1024 tokens per frame).

    python benchmarks/latent_cost.py [--sizes 32 64 128] [--repeats 3] [--steps 3] [--out cost.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch

from orrery.models.base import Condition
from orrery.models.chunks import chunks_for, latent_context, padded_context
from orrery.models.registry import get_family
from orrery.recipes.chunks import chunk_sequences
from orrery.recipes.windows import Windows, collate
from orrery.recipes.world import build_net, resolve_world_config

# model name -> (family, tokenizer kind or None, compression or None)
MODELS = {
    "pixel": ("pixel", None, None),
    "deterministic": ("deterministic", None, None),
    "latent 1x4x4": ("latent", "continuous", "1x4x4"),
    "latent 4x4x4": ("latent", "continuous", "4x4x4"),
    "latent 4x8x8": ("latent", "continuous", "4x8x8"),
    "latent-mean 1x4x4": ("latent", "continuous", "1x4x4"),
    "gpt 1x4x4": ("autoregressive", "fsq", "1x4x4"),
    "gpt 4x4x4": ("autoregressive", "fsq", "4x4x4"),
    "gpt 4x8x8": ("autoregressive", "fsq", "4x8x8"),
}
DEFAULT = ("pixel", "latent 1x4x4", "latent 4x4x4", "latent 4x8x8", "gpt 4x4x4", "gpt 4x8x8")
# models that are another preset of their family (the latent mean: `tiny-mean` instead of `--preset`)
PRESET_OF = {"latent-mean 1x4x4": "tiny-mean"}


def n_params(module: torch.nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def make_tokenizer(kind: str, compression: str, preset: str):
    from orrery.recipes.tokenizer import build_model, resolve_config

    cfg = resolve_config(preset, sets=[f"model.kind={kind}", f"model.compression={compression}"])
    return build_model(cfg.model, 0).eval()


def encoder(tok):
    """frames uint8 [N, T, H, W, 3] -> the family's sequences [N, L, ...] (as `recipes.world`)."""
    from orrery.tokenizer.model import to_video

    @torch.no_grad()
    def encode(frames):
        video = to_video(frames)
        if tok.fsq is not None:
            return tok.encode_indices(video).to(torch.int32)
        return tok.normalize(tok.encode(video)).permute(0, 2, 1, 3, 4)

    return encode


def build(name: str, size: int, args) -> dict:
    """The model's net, rollout adapter, tokenizer and training windows on random clips."""
    family, kind, compression = MODELS[name]
    fam = get_family(family)
    cfg = resolve_world_config(family, PRESET_OF.get(name, args.preset), sets=[f"model.context={args.context}"])
    rng = np.random.default_rng(0)
    n_frames = args.context + args.horizon
    clips = [(rng.integers(0, 256, (n_frames, size, size, 3), dtype=np.uint8), None, ["a ball"])
             for _ in range(args.batch)]
    tok, encode_s = None, 0.0
    if kind is None:
        windows = Windows(clips, args.context, getattr(cfg.model, "unroll", 1))
        cfg.model.action_dim = 0
    else:
        tok = make_tokenizer(kind, compression, args.tok_preset)
        s_t = tok.cfg.time_factor
        t0 = time.perf_counter()
        seqs = chunk_sequences(clips, encoder(tok), s_t, args.context, args.horizon, stride=args.horizon)
        encode_s = time.perf_counter() - t0
        lc = latent_context(args.context, s_t)
        # the training windows of `recipes.world`: unrolled targets only where latents do not compress time
        future = getattr(cfg.model, "unroll", 1) if s_t == 1 else 1
        windows = Windows(seqs, lc, future, 1, "latents" if kind == "continuous" else "tokens", torch.as_tensor)
        if family == "latent":
            c, h, w = windows.item_shape
            cfg.model.latent_channels, cfg.model.grid, cfg.model.time_factor = c, (h, w), s_t
        else:
            h, w = windows.item_shape
            if h * w * (lc + 1) > args.max_tokens:
                return {"skipped": f"{h * w} tokens per frame x {lc + 1} frames > --max-tokens {args.max_tokens}"}
            cfg.model.time_factor = s_t
            cfg.model.gpt = cfg.model.gpt.model_copy(update={"vocab": tok.fsq.codebook_size, "tokens_per_frame": h * w,
                                                             "max_frames": lc + 1, "action_dim": 0})
        # frames the tokenizer read for these windows (each padded context + its chunks), per second
        window = padded_context(args.context, s_t) + chunks_for(args.horizon, s_t) * s_t
        encode_s = len(seqs) * window / max(encode_s, 1e-9)
    net = build_net(fam, cfg)
    items = [windows[i % len(windows)] for i in range(args.batch)]
    return {"net": net, "tok": tok, "batch": collate(items), "adapter": fam.adapter(net, tok, 0, "cpu"),
            "encode_fps": encode_s, "s_t": 1 if tok is None else tok.cfg.time_factor,
            "lr": cfg.train.lr, "clips": np.stack([c[0] for c in clips[:args.clips]])}


def train_rate(m: dict, args) -> float:
    """Median samples/s of the training step over the repeats (after one warm-up step)."""
    net, batch = m["net"].train(), m["batch"]
    opt = torch.optim.AdamW(net.parameters(), lr=m["lr"])
    g = torch.Generator().manual_seed(0)

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss, _ = net.loss(batch, g)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    rates = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        rates.append(args.steps * args.batch / (time.perf_counter() - t0))
    return statistics.median(rates)


def rollout_rate(m: dict, args) -> float:
    """Median predicted frames/s of a rollout over the repeats (tokenizer included)."""
    wm = m["adapter"]
    wm.net.eval()
    ctx = m["clips"][:, :args.context]
    cond = Condition(text=["a ball"] * len(ctx))
    wm.rollout(ctx[:1], 1, Condition(text=["a ball"]))  # warm-up
    rates = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            wm.rollout(ctx, args.horizon, cond)
        rates.append(len(ctx) * args.horizon / (time.perf_counter() - t0))
    return statistics.median(rates)


def measure(names: list[str], sizes: list[int], args) -> list[dict]:
    rows = []
    for size in sizes:
        ref = None
        for name in names:
            row = {"size": size, "model": name}
            m = build(name, size, args)
            if "skipped" in m:
                rows.append({**row, **m})
                print(f"{size:4d} px  {name:15s} skipped: {m['skipped']}", file=sys.stderr)
                continue
            row.update(params=n_params(m["net"]), tokenizer_params=n_params(m["tok"]), frames_per_sample=m["s_t"],
                       train_samples_s=train_rate(m, args), rollout_frames_s=rollout_rate(m, args),
                       encode_frames_s=m["encode_fps"] or None)
            row["train_frames_s"] = row["train_samples_s"] * m["s_t"]
            ref = ref or row
            for k in ("train_samples_s", "train_frames_s", "rollout_frames_s"):
                row[f"{k}_x"] = row[k] / ref[k]
            rows.append(row)
            print(f"{size:4d} px  {name:15s} train {row['train_samples_s']:8.1f} samples/s ({row['train_samples_s_x']:5.2f}x)"
                  f"  rollout {row['rollout_frames_s']:8.1f} frames/s ({row['rollout_frames_s_x']:5.2f}x)"
                  f"  params {row['params']:,}", file=sys.stderr)
    return rows


def table(rows: list[dict]) -> str:
    head = ("| px | model | params (world + tokenizer) | frames/sample | train samples/s | x | train frames/s | x "
            "| rollout frames/s | x | tokenizer encode frames/s |")
    lines = [head, "|" + " --- |" * 11]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['size']} | {r['model']} | skipped: {r['skipped']} |" + " |" * 8)
            continue
        enc = f"{r['encode_frames_s']:.0f}" if r.get("encode_frames_s") else "-"
        lines.append(f"| {r['size']} | {r['model']} | {r['params']:,} + {r['tokenizer_params']:,} | "
                     f"{r['frames_per_sample']} | {r['train_samples_s']:.1f} | {r['train_samples_s_x']:.2f} | "
                     f"{r['train_frames_s']:.1f} | {r['train_frames_s_x']:.2f} | {r['rollout_frames_s']:.1f} | "
                     f"{r['rollout_frames_s_x']:.2f} | {enc} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--models", nargs="+", default=list(DEFAULT), choices=list(MODELS),
                    help="the first is the reference of the ratios")
    ap.add_argument("--preset", default="tiny", help="world-model preset of every family")
    ap.add_argument("--tok-preset", default="tiny", help="tokenizer preset")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3, help="timed training steps per repeat")
    ap.add_argument("--batch", type=int, default=8, help="training batch (and clips encoded)")
    ap.add_argument("--clips", type=int, default=2, help="clips rolled out together")
    ap.add_argument("--context", type=int, default=4)
    ap.add_argument("--horizon", type=int, default=12)
    ap.add_argument("--max-tokens", type=int, default=2048, help="largest GPT window (tokens) to run")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bf16", action="store_true", help="CPU bf16 autocast")
    ap.add_argument("--out", help="write the rows as JSON here")
    args = ap.parse_args(argv)
    if args.clips > args.batch:
        ap.error("--clips must not exceed --batch")
    torch.set_num_threads(args.threads)
    rows = measure(args.models, args.sizes, args)
    print(table(rows))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
