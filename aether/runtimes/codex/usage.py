"""What the Codex CLI says a headless worker ran on and used (docs/codex.md).

``codex exec --json`` prints JSONL events on stdout. Measured with Codex 0.171.0:

* ``{"type": "thread.started", "thread_id": …}`` first; ``turn.completed`` ends each turn with
  ``usage`` (``input_tokens`` — cached ones included —, ``cached_input_tokens``,
  ``cache_write_input_tokens``, ``output_tokens``, ``reasoning_output_tokens``), the sum over
  the turn's requests of the main thread only; ``turn.failed`` ends a failed one;
* a subagent spawn is an ``item.completed`` of type ``collab_tool_call`` (``tool:
  "spawn_agent"``) whose ``receiver_thread_ids`` are the children's threads;
* no event names a model. The model is in the thread's rollout,
  ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl``: a ``turn_context`` line
  per turn carries ``payload.model`` (the model Codex sent that turn's requests for) and a
  ``token_usage_record`` line per request carries that request's ``payload.usage``.

So tokens come from the events (the main thread) and the rollouts (each child), the model of
each from its rollout. Everything is read defensively: a line that is not JSON, a field of the
wrong type, a missing rollout — each is skipped or reported as unknown, never an exception.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aether.bounded_read import open_regular
from aether.records import field, record
from aether.runtimes.usage import ModelUsage

#: a rollout larger than this is read up to here (its usage stays a lower bound)
MAX_ROLLOUT_BYTES = 64 * 1024 * 1024
#: how long all the rollouts of one run may take to read
ROLLOUT_WAIT_S = 5.0
#: how many child threads' rollouts are read at most
MAX_CHILDREN = 64
CHUNK_BYTES = 1 << 20
#: a thread id as Codex writes it (a UUID); anything else is never put in a file pattern
_THREAD_ID = re.compile(r"^[0-9a-fA-F][0-9a-fA-F-]{7,63}$")
_WANTED = (b'"type":"turn_context"', b'"type":"token_usage_record"', b'"type":"session_meta"')


def _json(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def model_usage(raw: Any) -> ModelUsage:
    """A Codex usage object as aether counts it: ``input_tokens`` includes the cached ones."""
    if not isinstance(raw, dict):
        return ModelUsage()
    total_in = _count(raw.get("input_tokens"))
    cached = min(_count(raw.get("cached_input_tokens")), total_in)
    return ModelUsage(
        input_tokens=total_in - cached,
        cache_read_tokens=cached,
        output_tokens=_count(raw.get("output_tokens")),
    )


def _add(into: ModelUsage, more: ModelUsage, messages: int = 1) -> None:
    into.input_tokens += more.input_tokens
    into.cache_read_tokens += more.cache_read_tokens
    into.output_tokens += more.output_tokens
    into.messages += messages


def is_codex_exec_json(argv: list[str]) -> bool:
    """Is this a ``codex exec --json`` command line (its stdout then is JSONL events)?"""
    for i, arg in enumerate(argv):
        if os.path.basename(arg) in ("codex", "codex.js"):
            rest = argv[i + 1 :]
            return "exec" in rest and ("--json" in rest or "--experimental-json" in rest)
    return False


@record
class ExecEvents:
    """What the JSONL events of one ``codex exec --json`` run say."""

    thread_id: str | None = None
    #: the main thread's tokens, summed over its ``turn.completed`` events
    usage: ModelUsage = field(default_factory=ModelUsage)
    turns: int = 0
    failed_turns: int = 0
    children: list[str] = field(default_factory=list)


def parse_exec_events(text: str) -> ExecEvents | None:
    """The events of ``text`` (stdout, or its end), or None when none is Codex's."""
    found = ExecEvents()
    recognised = False
    for line in text.splitlines():
        event = _json(line) if line.startswith("{") else None
        kind = event.get("type") if isinstance(event, dict) else None
        if not isinstance(event, dict) or not isinstance(kind, str):
            continue
        if kind == "thread.started" and isinstance(event.get("thread_id"), str):
            found.thread_id, recognised = event["thread_id"], True
        elif kind == "turn.completed":
            _add(found.usage, model_usage(event.get("usage")), messages=0)
            found.turns, recognised = found.turns + 1, True
        elif kind == "turn.failed":
            found.failed_turns, recognised = found.failed_turns + 1, True
        elif kind == "item.completed":
            found.children += _spawned(event.get("item"))
    return found if recognised else None


def _spawned(item: Any) -> list[str]:
    if not isinstance(item, dict) or item.get("type") != "collab_tool_call":
        return []
    if item.get("tool") != "spawn_agent":
        return []
    ids = item.get("receiver_thread_ids")
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def codex_home(env: Mapping[str, str]) -> Path | None:
    """Where Codex keeps its sessions for a process with ``env``: ``$CODEX_HOME``, else
    ``$HOME/.codex``."""
    if env.get("CODEX_HOME"):
        return Path(env["CODEX_HOME"])
    return Path(env["HOME"]) / ".codex" if env.get("HOME") else None


def find_rollout(home: Path, thread_id: str) -> Path | None:
    """The rollout file of ``thread_id`` under ``home/sessions`` (None when there is none)."""
    if not _THREAD_ID.match(thread_id):
        return None
    matches = sorted((home / "sessions").glob(f"*/*/*/rollout-*-{thread_id}.jsonl"))
    return matches[-1] if matches else None


@record
class Rollout:
    """What one thread's rollout says: its models and, per model, its requests' tokens."""

    models: list[str] = field(default_factory=list)
    by_model: dict[str, ModelUsage] = field(default_factory=dict)
    #: the subagent's role (``.codex/agents/<name>.toml``), for a child thread
    agent_role: str | None = None
    truncated: bool = False


def read_rollout(path: Path, deadline: float) -> Rollout:
    """The models and tokens of one rollout (raises OSError when it cannot be opened)."""
    result = Rollout()
    turn_models: dict[str, str] = {}
    for line in _wanted_lines(path, result, deadline):
        entry = _json(line)
        payload = entry.get("payload") if isinstance(entry, dict) else None
        if not isinstance(payload, dict):
            continue
        kind = entry.get("type")
        if kind == "session_meta" and isinstance(payload.get("agent_role"), str):
            result.agent_role = payload["agent_role"]
        elif kind == "turn_context" and isinstance(payload.get("model"), str):
            model = payload["model"]
            turn_models[str(payload.get("turn_id"))] = model
            if model not in result.models:
                result.models.append(model)
        elif kind == "token_usage_record":
            model = turn_models.get(str(payload.get("turn_id")))
            if model is None and result.models:
                model = result.models[-1]
            if model is not None:
                bucket = result.by_model.setdefault(model, ModelUsage())
                _add(bucket, model_usage(payload.get("usage")))
    return result


def _wanted_lines(path: Path, result: Rollout, deadline: float) -> Iterable[bytes]:
    """The lines of a rollout that may be one of the ``_WANTED`` kinds; the others (prompts,
    tool output) are never parsed. Stops at ``MAX_ROLLOUT_BYTES`` or ``deadline``."""
    carry = b""
    size = 0
    with open_regular(path) as fh:
        while chunk := fh.read(CHUNK_BYTES):
            size += len(chunk)
            if size > MAX_ROLLOUT_BYTES or time.monotonic() > deadline:
                result.truncated = True
                return
            lines = (carry + chunk).split(b"\n")
            carry = lines.pop()
            yield from (line for line in lines if any(w in line[:200] for w in _WANTED))
    if any(w in carry[:200] for w in _WANTED):
        yield carry


@record
class CodexRunUsage:
    """A headless Codex run: tokens per model (main thread and children)."""

    thread_id: str | None
    by_model: dict[str, ModelUsage]
    #: the model(s) of the main thread, from its rollout ([] when it was not found)
    main_models: list[str]
    #: tokens whose model could not be found (the main thread's rollout is missing)
    unattributed: ModelUsage | None
    children: int
    failed_turns: int
    truncated: bool = False


def run_usage(
    tail: str, home: Path | None, *, wait_s: float = ROLLOUT_WAIT_S
) -> CodexRunUsage | None:
    """What a ``codex exec --json`` run used, from its stdout (or its end) and its rollouts
    under ``home``; None when ``tail`` holds no Codex event."""
    events = parse_exec_events(tail)
    if events is None:
        return None
    deadline = time.monotonic() + wait_s
    main = _rollout_of(home, events.thread_id, deadline)
    result = CodexRunUsage(
        events.thread_id, {}, main.models if main else [], None, 0, events.failed_turns
    )
    if main is not None and len(main.models) == 1:
        result.by_model[main.models[0]] = events.usage  # the events' own count, one model
    elif main is not None and main.by_model:
        result.by_model.update(main.by_model)  # several models: split as the rollout does
    elif events.usage.tokens_in or events.usage.output_tokens:
        result.unattributed = events.usage
    result.truncated = bool(main and main.truncated)
    for child_id in dict.fromkeys(events.children[:MAX_CHILDREN]):
        child = _rollout_of(home, child_id, deadline)
        if child is None:
            continue
        result.children += 1
        result.truncated = result.truncated or child.truncated
        for model, usage in child.by_model.items():
            _add(result.by_model.setdefault(model, ModelUsage()), usage, usage.messages)
    return result


def _rollout_of(home: Path | None, thread_id: str | None, deadline: float) -> Rollout | None:
    if home is None or thread_id is None:
        return None
    path = find_rollout(home, thread_id)
    if path is None:
        return None
    try:
        return read_rollout(path, deadline)
    except OSError:
        return None
