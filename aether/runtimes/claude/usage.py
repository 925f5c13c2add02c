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
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aether.bounded_read import open_regular
from aether.records import field, record
from aether.runtimes.usage import ModelUsage

#: a transcript larger than this is read up to here (usage stays a lower bound)
MAX_TRANSCRIPT_BYTES = 256 * 1024 * 1024
#: a longer line is skipped, never held whole
MAX_LINE_BYTES = 16 * 1024 * 1024
#: how long a transcript is read: Claude Code gives the hook 30 s (usage stays a lower bound)
TRANSCRIPT_WAIT_S = 10.0
CHUNK_BYTES = 1 << 20


def _json_line(raw: bytes) -> Any:
    """One JSON line, or None (not JSON, or nested deeper than the parser goes)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


@record
class TranscriptUsage:
    by_model: dict[str, ModelUsage] = field(default_factory=dict)
    lines: int = 0
    #: lines that mention an assistant message but are not JSON
    skipped_lines: int = 0
    #: read only in part (too large, or too slow to read): the usage is a lower bound
    truncated: bool = False


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def read_transcript(path: Path, *, wait_s: float = TRANSCRIPT_WAIT_S) -> TranscriptUsage:
    """Tokens per model over the assistant messages of one transcript (raises OSError when the
    file cannot be opened). Read for at most ``wait_s`` and ``MAX_TRANSCRIPT_BYTES``: what is
    found by then is the result, marked ``truncated``."""
    result = TranscriptUsage()
    per_message: dict[str, tuple[str, dict[str, Any]]] = {}
    anonymous: list[tuple[str, dict[str, Any]]] = []
    deadline = time.monotonic() + wait_s
    for line in _assistant_lines(path, result, deadline):
        entry = _json_line(line)
        if entry is None:
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


def _assistant_lines(path: Path, result: TranscriptUsage, deadline: float) -> Iterator[bytes]:
    """The lines of a transcript that mention ``"assistant"`` (only those can be assistant
    messages), found in whole chunks without splitting the others: a transcript of millions of
    tiny lines costs one scan, not a Python step per line. Counts every line in ``result``."""
    carry = b""
    size = 0
    skipping = False  # inside a line too long to be a message: skipped, never held whole
    with open_regular(path) as fh:
        while chunk := fh.read(CHUNK_BYTES):
            size += len(chunk)
            if size > MAX_TRANSCRIPT_BYTES or time.monotonic() > deadline:
                result.truncated = True
                return
            block = carry + chunk
            end = block.rfind(b"\n") + 1
            if end == 0:
                skipping = skipping or len(block) > MAX_LINE_BYTES
                carry = b"" if skipping else block
                continue
            start = block.find(b"\n") + 1 if skipping else 0
            skipping = False
            result.lines += block.count(b"\n", 0, end)
            yield from _mentioning(block, start, end, b'"assistant"')
            carry = block[end:]
    if carry.strip() and not skipping:
        result.lines += 1
        yield from _mentioning(carry, 0, len(carry), b'"assistant"')


def _mentioning(block: bytes, begin: int, end: int, needle: bytes) -> Iterator[bytes]:
    """Each line of ``block[begin:end]`` that contains ``needle``, once."""
    at = block.find(needle, begin, end)
    while at >= 0:
        start = max(begin, block.rfind(b"\n", begin, at) + 1)
        stop = block.find(b"\n", at, end)
        stop = end if stop < 0 else stop
        yield block[start:stop]
        at = block.find(needle, stop, end)


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
        doc = _json_line(line.encode("utf-8", errors="replace"))
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
    with open_regular(path) as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - TAIL_BYTES))
        lines = fh.read().splitlines()
    for raw in reversed(lines):
        entry = _json_line(raw)
        message = entry.get("message") if isinstance(entry, dict) else None
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        texts = [b.get("text") for b in blocks if isinstance(b, dict) and b.get("type") == "text"]
        text = " ".join(t for t in texts if isinstance(t, str) and t.strip())
        if text:
            return text
    return None


#: how long a finished subagent's transcript may take to show its last message
SETTLE_S = 2.0


def read_settled_transcript(path: Path, last_message: str) -> TranscriptUsage:
    """``read_transcript`` of a subagent that just stopped, once its transcript holds its last
    message. Claude Code may still be writing the transcript — or not have created the file
    yet — when ``SubagentStop`` fires: a hook handed to a server reads it within milliseconds,
    and found it missing or without an assistant message. Re-read (every 20 ms, ``SETTLE_S``
    at most) until there is usage and — when the hook said what the last message was — the
    transcript ends with it; then what is there counts."""
    deadline = time.monotonic() + SETTLE_S
    expected = " ".join(last_message.split())
    while True:
        try:
            usage = read_transcript(path)
        except FileNotFoundError:  # not created yet (measured: a hook served in ~20 ms can
            if time.monotonic() > deadline:  # be there before it)
                raise
            time.sleep(0.02)
            continue
        if usage.by_model or time.monotonic() > deadline:
            if not expected or time.monotonic() > deadline:
                return usage
            found = " ".join((last_assistant_text(path) or "").split())
            if found and (expected in found or found in expected):
                return usage
        time.sleep(0.02)


def asks_for_json_result(argv: list[str]) -> bool:
    """Does a ``claude`` command line ask for a final JSON result (``--output-format json``
    or ``stream-json``)? Then its last stdout line is read for what the run used."""
    for i, arg in enumerate(argv):
        if arg == "--output-format" and i + 1 < len(argv):
            return argv[i + 1] in ("json", "stream-json")
        if arg.startswith("--output-format="):
            return arg.split("=", 1)[1] in ("json", "stream-json")
    return False
