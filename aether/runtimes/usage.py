"""What a runtime reports a worker used on one model: tokens and cost, whichever runtime ran it
(``claude.usage`` reads Claude Code's transcripts and results, ``codex.usage`` Codex's events
and rollouts); and what a headless run reported, as the neutral use case records it."""

from __future__ import annotations

from typing import Any

from aether.records import field, record


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


@record
class HeadlessRun:
    """What a headless worker's output (``spawn --exec claude -p --output-format json``,
    ``codex exec --json``) says it ran on and used: ``aether.ops.workers.usage`` records it on
    the worker and flags a main agent that ran on another model than the assigned one."""

    #: the worker's ``runtime`` record: the run's kind (``claude-code-headless``) and session
    runtime: dict[str, Any]
    by_model: dict[str, ModelUsage] = field(default_factory=dict)
    cost_usd: float | None = None
    #: tokens the runtime counted without saying on which model
    unattributed: ModelUsage | None = None
    #: the main agent's model(s), in order, when the runtime names them; None: the main agent
    #: is taken to be the model that wrote the most output (the worker's own subagents may use
    #: others)
    main_models: list[str] | None = None
    #: how a mismatch reads in its event ("ran on"), and the event's ``source``
    mismatch_how: str = "ran on"
    source: str = ""
