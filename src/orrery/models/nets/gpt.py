"""A GPT over discrete video tokens (FSQ indices), with a KV cache and temperature / top-p sampling.

Layout of one sequence: slot 0 is the prefix (the text embedding, or a learned start vector when
there is no text); slot i >= 1 holds token i - 1. Slot i predicts token i, so a frame's tokens
(raster order) come after all tokens of earlier frames: causal over time, spatial within a frame.
Every slot also receives the embeddings of the position of the token it predicts (frame index and
place in the frame) and of the action leading into that frame (Cosmos-style: actions enter as an
added embedding)."""

from __future__ import annotations

import torch
from pydantic import Field, model_validator
from torch import nn
from torch.nn import functional as F

from ...config import Config, ConfigError


class GPTConfig(Config):
    vocab: int = Field(1000, ge=1, description="codebook size of the FSQ tokenizer; set from it")
    tokens_per_frame: int = Field(64, ge=1, description="h * w latent tokens; set from the tokenizer")
    max_frames: int = Field(8, ge=1, description="frames in one window (context + predicted)")
    d_model: int = Field(128, ge=1)
    n_layer: int = Field(4, ge=1)
    n_head: int = Field(4, ge=1)
    action_dim: int = Field(0, ge=0)
    text_dim: int = Field(64, ge=0, description="0: no text prefix")

    @model_validator(mode="after")
    def _check(self):
        if self.d_model % self.n_head:
            raise ConfigError("n_head", f"{self.n_head} does not divide d_model {self.d_model}")
        return self

    @property
    def max_len(self) -> int:
        return self.tokens_per_frame * self.max_frames


class KVCache:
    """Keys and values of the slots seen so far, per layer: [B, heads, L, d_head]."""

    def __init__(self, n_layer: int):
        self.k: list[torch.Tensor | None] = [None] * n_layer
        self.v: list[torch.Tensor | None] = [None] * n_layer

    def length(self, layer: int = 0) -> int:
        """Slots cached in `layer` (layers fill one after another during a forward pass)."""
        return 0 if self.k[layer] is None else int(self.k[layer].shape[2])

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.k[layer] is not None:
            k = torch.cat([self.k[layer], k], dim=2)
            v = torch.cat([self.v[layer], v], dim=2)
        self.k[layer], self.v[layer] = k, v
        return k, v


class Block(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor, layer: int, cache: KVCache | None) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        past = 0
        if cache is not None:
            past = cache.length(layer)
            k, v = cache.append(layer, k, v)
        # Slot past + i sees slots 0 .. past + i (causal), whatever is cached.
        total = k.shape[2]
        mask = torch.ones(n, total, dtype=torch.bool, device=x.device).tril(diagonal=past)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + self.proj(att.transpose(1, 2).reshape(b, n, d))
        return x + self.mlp(self.ln2(x))


class TokenGPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.tok = nn.Embedding(cfg.vocab, d)
        self.time = nn.Embedding(cfg.max_frames, d)
        self.space = nn.Embedding(cfg.tokens_per_frame, d)
        self.start = nn.Parameter(torch.zeros(d))
        self.text = nn.Linear(cfg.text_dim, d) if cfg.text_dim else None
        self.action = nn.Linear(cfg.action_dim, d) if cfg.action_dim else None
        self.blocks = nn.ModuleList(Block(d, cfg.n_head) for _ in range(cfg.n_layer))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, cfg.vocab, bias=False)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def embed(self, tokens: torch.Tensor, start: int, text: torch.Tensor | None,
              actions: torch.Tensor | None) -> torch.Tensor:
        """Input vectors of slots start .. start + n - 1. tokens [B, n] are the tokens *held* by those
        slots (token i - 1 for slot i; slot 0's entry is ignored: it is the prefix)."""
        cfg = self.cfg
        b, n = tokens.shape
        slots = torch.arange(start, start + n, device=tokens.device)
        if int(slots[-1]) >= cfg.max_len:
            raise ValueError(f"sequence of {int(slots[-1]) + 1} slots exceeds the window of {cfg.max_len} "
                             f"({cfg.max_frames} frames x {cfg.tokens_per_frame} tokens)")
        x = self.tok(tokens.clamp(min=0))
        if start == 0:
            prefix = self.start.expand(b, -1) if self.text is None or text is None else self.text(text)
            x = torch.cat([prefix[:, None], x[:, 1:]], dim=1)
        frame = torch.div(slots, cfg.tokens_per_frame, rounding_mode="floor")
        x = x + self.time(frame)[None] + self.space(slots % cfg.tokens_per_frame)[None]
        if self.action is not None and actions is not None:
            # the action leading into frame f is row f - 1; frame 0 has none
            rows = actions[:, (frame - 1).clamp(min=0)] * (frame > 0)[None, :, None]
            x = x + self.action(rows.float())
        return x

    def forward(self, tokens: torch.Tensor, start: int = 0, cache: KVCache | None = None,
                text: torch.Tensor | None = None, actions: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [B, n, vocab] of slots start .. start + n - 1 (slot i predicts token i)."""
        x = self.embed(tokens, start, text, actions)
        for i, blk in enumerate(self.blocks):
            x = blk(x, i, cache)
        return self.head(self.ln(x))

    def loss_on(self, seq: torch.Tensor, text: torch.Tensor | None = None, actions: torch.Tensor | None = None,
                first_target: int = 0) -> torch.Tensor:
        """Next-token cross-entropy of a token sequence [B, N] (frames flattened in raster order),
        counted from token `first_target` on (e.g. only the predicted frames)."""
        held = torch.cat([seq.new_zeros(seq.shape[0], 1), seq[:, :-1]], dim=1)  # slot i holds token i - 1
        logits = self(held, 0, None, text, actions)
        return F.cross_entropy(logits[:, first_target:].flatten(0, 1).float(), seq[:, first_target:].flatten())

    @torch.no_grad()
    def generate(self, prompt: torch.Tensor, n_new: int, generator, temperature: float = 1.0,
                 top_p: float = 1.0, text: torch.Tensor | None = None, actions: torch.Tensor | None = None,
                 use_cache: bool = True) -> torch.Tensor:
        """Continue token sequences prompt [B, P] by n_new tokens -> [B, P + n_new]. `generator` is a
        torch.Generator, or an `ItemNoise` (one stream per sequence).

        With use_cache=False every step recomputes the whole sequence (the reference the cache is
        tested against)."""
        seq = prompt
        cache = KVCache(self.cfg.n_layer) if use_cache else None
        held = torch.cat([seq.new_zeros(seq.shape[0], 1), seq], dim=1)  # slots 0 .. P
        logits = self(held, 0, cache, text, actions)[:, -1]
        for i in range(n_new):
            nxt = sample_token(logits, generator, temperature, top_p)
            seq = torch.cat([seq, nxt[:, None]], dim=1)
            if i == n_new - 1:
                break
            if use_cache:
                logits = self(nxt[:, None], seq.shape[1], cache, text, actions)[:, -1]
            else:
                held = torch.cat([seq.new_zeros(seq.shape[0], 1), seq], dim=1)
                logits = self(held, 0, None, text, actions)[:, -1]
        return seq


def sample_token(logits: torch.Tensor, generator, temperature: float, top_p: float) -> torch.Tensor:
    """logits [B, V] -> ids [B]. temperature 0 is greedy; top_p < 1 keeps the smallest set of most
    likely tokens whose probability reaches top_p (nucleus sampling)."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = F.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        keep = sorted_p.cumsum(-1) - sorted_p < top_p  # always keeps the most likely token
        sorted_p = sorted_p * keep
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
        probs = probs / probs.sum(-1, keepdim=True)
    if isinstance(generator, torch.Generator):
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return generator.multinomial(probs)  # an ItemNoise: each sequence from its own stream


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
