"""Config of the autoregressive family (a GPT over a frozen FSQ tokenizer's tokens). The defaults
are the `tiny` preset."""

from __future__ import annotations

from pydantic import Field

from ..guide import GuideSettings
from ..nets.gpt import GPTConfig


class ARModelConfig(GuideSettings):
    context: int = Field(4, ge=1, description="Tc token frames in")
    gpt: GPTConfig = Field(default_factory=GPTConfig)
    text: bool = True
    text_dropout: float = Field(0.1, ge=0, le=1)
    temperature: float = Field(1.0, ge=0, description="0 = greedy")
    top_p: float = Field(0.9, gt=0, le=1)
