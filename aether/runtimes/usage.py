"""What a runtime reports a worker used on one model: tokens and cost, whichever runtime ran it
(``claude.usage`` reads Claude Code's transcripts and results, ``codex.usage`` Codex's events
and rollouts)."""

from __future__ import annotations

from typing import Any

from aether.records import record


@record
class ModelUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    cost_usd: float | None = None
    messages: int = 0

    @property
    def tokens_in(self) -> int:
        """Every input token the model processed, cached or not."""
        return self.input_tokens + self.cache_read_tokens + self.cache_creation_tokens

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tokens_in": self.tokens_in,
            "tokens_out": self.output_tokens,
            "input_tokens": self.input_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_creation_tokens": self.cache_creation_tokens,
        }
        if self.messages:
            out["messages"] = self.messages
        if self.cost_usd is not None:
            out["cost_usd"] = round(self.cost_usd, 6)
        return out
