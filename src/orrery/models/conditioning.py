"""Conditioning and rollout plumbing shared by every learned world-model family, written once:

- the **action-window convention** (`action_rows`): to predict frame t from context frames
  t - Tc .. t - 1, a model is given action rows t - Tc .. t - 1, where row j is the command applied
  from frame j to frame j + 1 (so the last row is the one that moves frame t - 1 into frame t).
  Rows before the first frame of a rollout (a context shorter than Tc, padded) are zeros. Training
  windows use the same function, so training and rollout can never disagree;
- text: encoding, caption dropout for classifier-free guidance, and guidance itself;
- context-noise augmentation (a rollout feeds back imperfect frames; training sees noisy context);
- per-item random streams (`ItemNoise`): each batch item draws from a generator seeded by its own
  seed, so a clip's prediction does not depend on the batch it was rolled out in;
- `FrameRollout`: the autoregressive loop (validation, context padding, batching, seeding,
  action windows) around a family's `encode` / `step` / `decode`, frame by frame or, over a
  tokenizer that compresses time, latent chunk by latent chunk (`models.chunks`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .base import Condition, WorldModel, check_context, check_trained_size
from .chunks import chunks_for, latent_actions, latent_context, padded_context
from .nets.text import HashedTextEncoder

# ---- actions ---------------------------------------------------------------------------------


def action_rows(actions: torch.Tensor, t: int, tc: int) -> torch.Tensor:
    """The Tc action rows that lead into frame t: rows t - Tc .. t - 1 of actions [B, T, A]
    (zeros where the index is below 0) -> [B, Tc, A]."""
    lo = t - tc
    if lo >= 0:
        rows = actions[:, lo:t]
    else:
        pad = actions.new_zeros(actions.shape[0], -lo, actions.shape[2])
        rows = torch.cat([pad, actions[:, :max(t, 0)]], dim=1)
    if rows.shape[1] != tc:
        raise ValueError(f"actions: frame {t} needs rows {lo}..{t - 1}, but only {actions.shape[1]} rows were given")
    return rows


def check_actions(cond: Condition, b: int, n_in: int, horizon: int, action_dim: int) -> torch.Tensor | None:
    """Validated rollout actions as float32 [B, n_in + horizon - 1 (at least), A], or None for a
    model trained without actions."""
    if not action_dim:
        return None
    if cond.actions is None:
        raise ValueError(f"condition.actions: this model needs {action_dim} action values per step "
                         f"[B, Tc + horizon, {action_dim}]")
    a = np.asarray(cond.actions, np.float32)
    need = n_in + horizon - 1  # the last predicted frame needs rows up to n_in + horizon - 2
    if a.ndim != 3 or a.shape[0] != b or a.shape[1] < need or a.shape[2] != action_dim:
        raise ValueError(f"condition.actions: expected [{b}, {n_in + horizon}, {action_dim}] "
                         f"(context + horizon rows), got {list(a.shape)}")
    if not np.isfinite(a).all():
        raise ValueError("condition.actions: contains NaN or inf")
    return torch.from_numpy(np.ascontiguousarray(a))


# ---- text ------------------------------------------------------------------------------------


def encode_text(encoder: HashedTextEncoder | None, texts: list[str] | None, b: int) -> torch.Tensor | None:
    """texts (B strings, '' = no text; None = no text for any item) -> [B, dim], or None for a
    family trained without text."""
    if encoder is None:
        return None
    return encoder(list(texts) if texts is not None else [""] * b)


def drop_captions(texts: list[str] | None, b: int, p: float, generator: torch.Generator, device) -> list[str]:
    """Training: captions with a random share `p` replaced by '' (trains the unconditional branch
    that classifier-free guidance needs)."""
    texts = list(texts or [""] * b)
    if p <= 0:
        return texts
    drop = (torch.rand(b, generator=generator, device=device) < p).tolist()
    return ["" if d else t for d, t in zip(drop, texts, strict=True)]


def guided(fn: Callable[[torch.Tensor | None], torch.Tensor], encoder: HashedTextEncoder | None,
           texts: list[str] | None, b: int, scale: float) -> torch.Tensor:
    """fn(text embedding) under classifier-free guidance: u + scale (c - u), with u = fn(no text).
    Without a text encoder, without prompts or at scale 1 it is one plain call."""
    text = encode_text(encoder, texts, b)
    if encoder is None or texts is None or scale == 1.0:
        return fn(text)
    cond, uncond = fn(text), fn(encode_text(encoder, None, b))
    return uncond + scale * (cond - uncond)


# ---- context noise ---------------------------------------------------------------------------


def noise_context(ctx: torch.Tensor, max_sigma: float, prob: float,
                  generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Training augmentation: a share `prob` of items get Gaussian noise of std ~ U(0, max_sigma)
    on their context [B, Tc, ...]; returns (noisy context, the std per item [B])."""
    b, dev = ctx.shape[0], ctx.device
    sigma = max_sigma * torch.rand(b, generator=generator, device=dev)
    sigma = sigma * (torch.rand(b, generator=generator, device=dev) < prob)
    shape = (b,) + (1,) * (ctx.ndim - 1)
    return ctx + sigma.view(shape) * torch.randn(ctx.shape, generator=generator, device=dev), sigma


# ---- per-item randomness ---------------------------------------------------------------------


class ItemNoise:
    """One random stream per batch item, seeded by that item's own seed: what an item draws does
    not depend on which other items share its batch, or on the batch size."""

    def __init__(self, seeds: list[int], device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.gens = [torch.Generator(device=self.device).manual_seed(int(s) % (2**63 - 1)) for s in seeds]

    def __len__(self) -> int:
        return len(self.gens)

    def subset(self, idx: list[int]) -> ItemNoise:
        out = ItemNoise([], self.device)
        out.gens = [self.gens[i] for i in idx]
        return out

    def randn(self, shape: tuple[int, ...], dtype=torch.float32) -> torch.Tensor:
        """[B, *shape] standard normal, item i from its own stream."""
        return torch.stack([torch.randn(shape, generator=g, device=self.device, dtype=dtype) for g in self.gens])

    def multinomial(self, probs: torch.Tensor) -> torch.Tensor:
        """probs [B, V] -> one index per item [B]."""
        return torch.cat([torch.multinomial(p[None], 1, generator=g)[0] for p, g in zip(probs, self.gens, strict=True)])


def item_seeds(seed: int, cond: Condition, b: int) -> list[int]:
    """Sampling seeds of a rollout's items: from the model seed and each clip's key when the
    condition names clips (evaluation), else from the item's index in the call."""
    import zlib

    if cond.layouts is not None and all(lay.key for lay in cond.layouts):
        return [seed * 1_000_003 + zlib.crc32(f"{lay.key}@{lay.start}".encode()) for lay in cond.layouts]
    return [seed * 1_000_003 + i for i in range(b)]


# ---- the rollout loop ------------------------------------------------------------------------


class FrameRollout(WorldModel):
    """The autoregressive rollout of a learned family, which supplies three pieces:

    encode(frames uint8 [B, Tp, H, W, 3]) -> states [B, Lc, ...] (pixels, latents or tokens);
    step(states [B, Lc, ...], actions [B, Lc, A s_t] | None, texts, noise: ItemNoise) -> next state [B, ...];
    decode(states [B, L, ...]) -> uint8 frames [B, 1 + (L - 1) s_t, H, W, 3].

    It validates the arguments, takes the last Tc frames of the context and pads them at the front
    by repeating the first (to Tp = `padded_context(Tc, s_t)` frames: Tc when `time_factor` s_t is
    1), cuts the batch into pieces of `batch_size`, gives every item its own random stream, and
    hands each step the action rows of the shared convention (`action_rows`, in latent frames)."""

    context_frames: int = 1
    time_factor: int = 1  # video frames per predicted state (a tokenizer's s_t)
    action_dim: int = 0  # action values per video frame
    batch_size: int = 32
    inputs: dict | None = None  # the run's record of its training data (frame_size, fps, ...), if any
    guide_candidates: int = 1  # physics-guided sampling (models.guide): futures drawn per chunk
    guide_chunk: int = 1  # frames per guided chunk
    guide_log: list | None = None  # the last guided rollout's chunks (candidates, scores, choice)

    def __init__(self, seed: int = 0, device: str | torch.device = "cpu", batch_size: int = 32):
        self.seed = seed
        self.device = torch.device(device)
        self.batch_size = batch_size

    @property
    def latent_context(self) -> int:
        """States a step sees: the padded context's latent frames (Tc when s_t = 1)."""
        return latent_context(self.context_frames, self.time_factor)

    def set_guide(self, cfg) -> None:
        """Take the guided-sampling settings (`models.guide.GuideSettings`) of a model config."""
        self.guide_candidates = int(getattr(cfg, "guide_candidates", 1))
        self.guide_chunk = int(getattr(cfg, "guide_chunk", 1))

    # the family's pieces
    def check_frames(self, context: np.ndarray) -> None:
        """Raise ValueError when the frames do not fit the model (size, divisibility)."""

    def encode(self, frames: np.ndarray) -> torch.Tensor:
        raise NotImplementedError

    def step(self, states: torch.Tensor, actions: torch.Tensor | None, texts: list[str] | None,
             noise: ItemNoise) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, states: torch.Tensor) -> np.ndarray:
        raise NotImplementedError

    # the shared loop
    def rollout(self, context: np.ndarray, horizon: int, condition: Condition | None = None) -> np.ndarray:
        """context uint8 [B, Tc', H, W, 3] -> uint8 [B, horizon, H, W, 3]. Uses the last Tc frames of the
        context (repeating the first frame when Tc' < Tc)."""
        check_context(context, horizon)
        check_trained_size(self.inputs, context)
        self.check_frames(context)
        cond = condition or Condition()
        b, n_in = context.shape[:2]
        if cond.text is not None and len(cond.text) != b:
            raise ValueError(f"condition.text: expected {b} prompts, got {len(cond.text)}")
        if cond.layouts is not None and len(cond.layouts) != b:
            raise ValueError(f"condition.layouts: expected {b}, got {len(cond.layouts)}")
        actions = check_actions(cond, b, n_in, horizon, self.action_dim)
        noise = ItemNoise(item_seeds(self.seed, cond, b), self.device)
        out = np.empty((b, horizon, *context.shape[2:]), np.uint8)
        for s in range(0, b, self.batch_size):
            idx = list(range(s, min(b, s + self.batch_size)))
            texts = None if cond.text is None else [cond.text[j] for j in idx]
            acts = None if actions is None else actions[idx].to(self.device)
            lays = None if cond.layouts is None else [cond.layouts[j] for j in idx]
            out[idx] = self._rollout_items(context[idx], horizon, acts, texts, noise.subset(idx), lays)
        return out

    def _padded(self, context: np.ndarray) -> tuple[np.ndarray, int]:
        """The last Tc frames, padded at the front to Tp frames -> (frames, copies added)."""
        ctx = context[:, -self.context_frames:]
        n_pad = padded_context(self.context_frames, self.time_factor) - ctx.shape[1]
        if n_pad > 0:  # repeat the first frame (an object "at rest before")
            ctx = np.concatenate([np.repeat(ctx[:, :1], n_pad, axis=1), ctx], axis=1)
        return ctx, n_pad

    def _rollout_items(self, context: np.ndarray, horizon: int, actions: torch.Tensor | None,
                       texts: list[str] | None, noise: ItemNoise, layouts: list | None = None) -> np.ndarray:
        lc, s_t = self.latent_context, self.time_factor
        ctx, n_pad = self._padded(context)
        need, steps = ctx.shape[1], chunks_for(horizon, s_t)
        guided = self.guide_candidates > 1
        self.guide_log = [] if guided else None
        chunk = max(1, -(-self.guide_chunk // s_t)) if guided else 1  # predicted states per guided chunk
        with torch.no_grad():
            states = self.encode(ctx)
            # padded position p is rollout frame p + n_in - Tp (the rollout's own numbering)
            lat = None if actions is None else latent_actions(actions, context.shape[1] - need, n_pad,
                                                              lc + steps, s_t)
            h = 0
            while h < steps:
                k = min(chunk, steps - h)
                draws = [self._steps(states, h, k, lat, texts, noise)
                         for _ in range(self.guide_candidates if guided else 1)]
                if guided:
                    best = self._choose(states, draws, n_pad, layouts)
                    new = torch.stack([draws[c][b] for b, c in enumerate(best)])
                else:
                    new = draws[0]
                states = torch.cat([states, new], dim=1)
                h += k
            frames = self.decode(states)
        return frames[:, need:need + horizon]

    def teacher_forced(self, frames: np.ndarray, condition: Condition | None = None) -> torch.Tensor:
        """Every state after the context predicted from the true encoded ones before it (teacher
        forcing): frames uint8 [B, Tp + k s_t, H, W, 3] (already padded, Tp = `padded_context`) ->
        predictions [B, k, ...] of states Lc .. Lc + k - 1. What the causality tests read: the
        prediction of state j sees states j - Lc .. j - 1 only, i.e. frames <= (j - 1) s_t."""
        cond = condition or Condition()
        b, t = frames.shape[:2]
        lc, s_t = self.latent_context, self.time_factor
        need = padded_context(self.context_frames, s_t)
        if t <= need or (t - need) % s_t:
            raise ValueError(f"frames: expected {need} + k * {s_t} frames (k >= 1), got {t}")
        acts = check_actions(cond, b, t, 1, self.action_dim)
        noise = ItemNoise(item_seeds(self.seed, cond, b), self.device)
        with torch.no_grad():
            states = self.encode(frames)
            lat = None if acts is None else latent_actions(acts.to(self.device), 0, 0, states.shape[1], s_t)
            out = [self.step(states[:, j - lc:j], None if lat is None else action_rows(lat, j, lc), cond.text,
                             noise) for j in range(lc, states.shape[1])]
        return torch.stack(out, dim=1)

    def _steps(self, states: torch.Tensor, h0: int, k: int, lat: torch.Tensor | None, texts: list[str] | None,
               noise: ItemNoise) -> torch.Tensor:
        """k next states [B, k, ...] after `states`, the first being predicted state h0."""
        lc = self.latent_context
        out = states
        for h in range(h0, h0 + k):
            rows = None if lat is None else action_rows(lat, lc + h, lc)
            out = torch.cat([out, self.step(out[:, -lc:], rows, texts, noise)[:, None]], dim=1)
        return out[:, states.shape[1]:]

    def _choose(self, states: torch.Tensor, draws: list[torch.Tensor], n_pad: int, layouts: list | None) -> list[int]:
        """Per item, the candidate chunk the physics verifier scores lowest (models.guide)."""
        from .guide import choose

        k = draws[0].shape[1] * self.time_factor
        frames = np.stack([self.decode(torch.cat([states, d], dim=1))[:, n_pad:] for d in draws])  # [N, B, T, ...]
        best, scores = choose(frames, layouts, fps=15.0)
        self.guide_log.append({"frames": frames[:, :, -k:], "scores": scores, "chosen": best})
        return best.tolist()
