"""Config of the autoregressive family (a GPT over a frozen FSQ tokenizer's tokens). The defaults
are the `tiny` preset."""

from __future__ import annotations

from pydantic import Field

from ..chunks import latent_context
from ..guide import GuideSettings
from ..nets.gpt import GPTConfig


class ARModelConfig(GuideSettings):
    context: int = Field(4, ge=1, description="Tc video frames in (token frames when time_factor is 1)")
    time_factor: int = Field(1, ge=1, description="video frames per token frame (the tokenizer's s_t); set "
                                                  "from the tokenizer")
    gpt: GPTConfig = Field(default_factory=GPTConfig)
    text: bool = True
    text_dropout: float = Field(0.1, ge=0, le=1)
    temperature: float = Field(1.0, ge=0, description="0 = greedy")
    top_p: float = Field(0.9, gt=0, le=1)

    @property
    def latent_context(self) -> int:
        """Token frames the GPT sees before the one it predicts (Tc when time_factor is 1)."""
        return latent_context(self.context, self.time_factor)
