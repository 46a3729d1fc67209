"""Text encoders behind one interface: `encoder(texts: list[str]) -> [B, dim]`.

The default is small and trained with the world model: words and word pairs are hashed (crc32,
stable across processes) into a fixed vocabulary, averaged (EmbeddingBag) and passed through an
MLP. The empty string is the "no text" input, mapped to a learned null vector; classifier-free
guidance trains it by dropping captions. (A pretrained sentence encoder shipped in a wheel is the
issue's second option; it is not built.)"""

from __future__ import annotations

import re
import zlib

import torch
from torch import nn

_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


def hash_tokens(text: str, vocab: int) -> list[int]:
    """Unigram and bigram ids in [1, vocab) for one text (0 is reserved for padding)."""
    words = _WORD.findall(text.lower())
    grams = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    return [1 + zlib.crc32(g.encode()) % (vocab - 1) for g in grams]


class HashedTextEncoder(nn.Module):
    def __init__(self, dim: int = 64, vocab: int = 4096):
        super().__init__()
        self.vocab = vocab
        self.dim = dim
        self.bag = nn.EmbeddingBag(vocab, dim, mode="mean", padding_idx=0)
        self.null = nn.Parameter(torch.zeros(dim))
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, texts: list[str]) -> torch.Tensor:
        """texts (B strings; '' = no text) -> [B, dim]."""
        device = self.null.device
        ids = [hash_tokens(t, self.vocab) for t in texts]
        flat = torch.tensor([i for row in ids for i in row] or [0], dtype=torch.long, device=device)
        offsets = torch.tensor([0] + [len(r) for r in ids[:-1]], dtype=torch.long, device=device).cumsum(0)
        emb = self.mlp(self.bag(flat, offsets))
        empty = torch.tensor([len(r) == 0 for r in ids], device=device)[:, None]
        return torch.where(empty, self.null.expand_as(emb), emb)
