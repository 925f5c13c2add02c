"""What Claude Code says a worker ran on and used: subagent transcripts, headless results.

* A subagent's transcript (``agent_transcript_path`` of ``SubagentStop``) is JSON lines; each
  assistant message carries ``message.model`` (the model the API answered as) and
  ``message.usage``. A message streamed in several blocks is written as several lines with the
  same ``message.id`` and the same usage, so usage is taken once per message id.
* ``claude -p --output-format json`` ends with one result object whose ``modelUsage`` maps each
  model the run used (subagents included) to its tokens and cost.

Both are read defensively: a line that is not JSON, a field of the wrong type, a missing file —
each is skipped or reported as unknown, never an exception for the caller's hook to die of.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aether.records import field, record

#: a transcript larger than this is read up to here (usage stays a lower bound)
MAX_TRANSCRIPT_BYTES = 256 * 1024 * 1024


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
class TranscriptUsage:
    by_model: dict[str, ModelUsage] = field(default_factory=dict)
    lines: int = 0
    skipped_lines: int = 0
    truncated: bool = False


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def read_transcript(path: Path) -> TranscriptUsage:
    """Tokens per model over the assistant messages of one transcript (raises OSError when the
    file cannot be opened)."""
    result = TranscriptUsage()
    per_message: dict[str, tuple[str, dict[str, Any]]] = {}
    anonymous: list[tuple[str, dict[str, Any]]] = []
    read = 0
    with path.open("rb") as fh:
        for raw in fh:
            read += len(raw)
            if read > MAX_TRANSCRIPT_BYTES:
                result.truncated = True
                break
            result.lines += 1
            try:
                entry = json.loads(raw)
            except ValueError:
                result.skipped_lines += 1
                continue
            message = entry.get("message") if isinstance(entry, dict) else None
            if not isinstance(message, dict) or message.get("role") != "assistant":
                continue
            model, usage = message.get("model"), message.get("usage")
            if not isinstance(model, str) or not isinstance(usage, dict):
                continue
            ident = message.get("id")
            if isinstance(ident, str) and ident:
                per_message[ident] = (model, usage)  # the last line of a message wins
            else:
                anonymous.append((model, usage))
    for model, usage in [*per_message.values(), *anonymous]:
        bucket = result.by_model.setdefault(model, ModelUsage())
        bucket.input_tokens += _count(usage.get("input_tokens"))
        bucket.output_tokens += _count(usage.get("output_tokens"))
        bucket.cache_read_tokens += _count(usage.get("cache_read_input_tokens"))
        bucket.cache_creation_tokens += _count(usage.get("cache_creation_input_tokens"))
        bucket.messages += 1
    return result


@record
class HeadlessResult:
    """The final line of ``claude -p --output-format json``."""

    by_model: dict[str, ModelUsage]
    total_cost_usd: float | None
    session_id: str | None
    is_error: bool


def parse_headless_result(text: str) -> HeadlessResult | None:
    """The last JSON object line of ``text`` if it is a Claude Code result with ``modelUsage``."""
    for line in reversed(text.strip().splitlines()[-5:]):
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("modelUsage"), dict):
            continue
        by_model: dict[str, ModelUsage] = {}
        for model, raw in doc["modelUsage"].items():
            if not isinstance(model, str) or not isinstance(raw, dict):
                continue
            cost = raw.get("costUSD")
            by_model[model] = ModelUsage(
                input_tokens=_count(raw.get("inputTokens")),
                output_tokens=_count(raw.get("outputTokens")),
                cache_read_tokens=_count(raw.get("cacheReadInputTokens")),
                cache_creation_tokens=_count(raw.get("cacheCreationInputTokens")),
                cost_usd=float(cost) if isinstance(cost, int | float) and cost >= 0 else None,
            )
        total = doc.get("total_cost_usd")
        session = doc.get("session_id")
        return HeadlessResult(
            by_model=by_model,
            total_cost_usd=float(total) if isinstance(total, int | float) else None,
            session_id=session if isinstance(session, str) else None,
            is_error=doc.get("is_error") is True,
        )
    return None


#: how much of the end of a session transcript is read for its last message
TAIL_BYTES = 512 * 1024


def last_assistant_text(path: Path) -> str | None:
    """The text of the last assistant message in a session transcript (its end only is read;
    raises OSError when the file cannot be opened)."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - TAIL_BYTES))
        lines = fh.read().splitlines()
    for raw in reversed(lines):
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        message = entry.get("message") if isinstance(entry, dict) else None
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        content = message.get("content")
        texts = (
            [content]
            if isinstance(content, str)
            else [
                b.get("text", "")
                for b in content or []
                if isinstance(b, dict) and b.get("type") == "text"
            ]
        )
        text = " ".join(t for t in texts if isinstance(t, str) and t.strip())
        if text:
            return text
    return None
