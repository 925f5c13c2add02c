"""Hook I/O as Claude Code defined it and Codex follows it: the JSON a hook reads on stdin, and
the JSON it may answer with. The neutral hook input every runtime's adapter produces and the
hook use cases (``aether.ops.hooks``) read; ``codex.hookio`` adds what differs for Codex.

Inputs (measured with Claude Code 2.1.328; docs/claude-code.md): every event has
``session_id``, ``transcript_path``, ``cwd`` and ``hook_event_name``. ``PreToolUse`` and
``PostToolUse`` add ``tool_name``, ``tool_input`` and ``tool_use_id`` (``PostToolUse`` also
``tool_response``, with ``agentId`` and ``resolvedModel`` for the Agent tool); ``SubagentStart``
adds ``agent_id`` and ``agent_type``; ``SubagentStop`` adds those,
``agent_transcript_path`` and ``last_assistant_message``; ``SessionStart`` has ``source``,
``SessionEnd`` ``reason``, ``PreCompact`` ``trigger``. A hook that fires inside a subagent
(a nested ``PreToolUse``/``PostToolUse``) carries that subagent's — the caller's — ``agent_id``
and ``agent_type``. Unknown fields are ignored; a missing one reads as empty.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aether.errors import InvalidInput
from aether.records import record


@record(frozen=True)
class HookSpec:
    """One hook a runtime runs for aether: its event, the ``aether hook NAME`` it runs, which
    tool it matches, how long it may take."""

    event: str  # the runtime's event name
    name: str  # the `aether hook NAME` it runs
    matcher: str | None
    timeout_s: int
    #: the runtime starts the hook and goes on without waiting for it (Claude Code's
    #: ``"async": true``); only for a hook whose answer the runtime does not need
    runs_in_background: bool = False


@record(frozen=True)
class HookInput:
    event: str
    session_id: str
    cwd: str
    transcript_path: str = ""
    tool_name: str = ""
    tool_input: dict[str, Any] | None = None
    tool_use_id: str = ""
    tool_response: dict[str, Any] | None = None
    agent_id: str = ""
    agent_type: str = ""
    agent_transcript_path: str = ""
    source: str = ""
    reason: str = ""
    last_assistant_message: str = ""
    #: which runtime sent the hook: ``claude-code``, or ``codex`` (aether.runtimes.codex.hookio)
    runtime: str = "claude-code"
    #: the model of the agent the event belongs to (Codex's ``model``; Claude Code sends none)
    model: str = ""
    #: fields left out because no file could be named by them (a NUL byte in a path): the hook
    #: says so in a line and does the rest of its work
    dropped: tuple[str, ...] = ()

    @property
    def subagent_type(self) -> str:
        """The agent a spawn asks for: the Agent tool's ``subagent_type``, Codex's
        ``spawn_agent`` ``agent_type``."""
        key = "agent_type" if self.runtime == "codex" else "subagent_type"
        value = (self.tool_input or {}).get(key)
        return value if isinstance(value, str) else ""


def _text(doc: dict[str, Any], key: str) -> str:
    value = doc.get(key)
    return value if isinstance(value, str) else ""


def _object(doc: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = doc.get(key)
    return value if isinstance(value, dict) else None


def parse_hook_input(data: bytes) -> HookInput:
    return hook_input_of(load_hook_json(data))


def load_hook_json(data: bytes) -> dict[str, Any]:
    """The hook's JSON object (a one-line error otherwise)."""
    try:
        doc = json.loads(data)
    except ValueError:
        raise InvalidInput(
            "the hook input on stdin is not JSON",
            fix="`aether hook` is run by Claude Code or Codex, which write the event's JSON "
            "to stdin",
        ) from None
    except RecursionError:
        raise InvalidInput(
            "the hook input on stdin nests arrays or objects deeper than any hook input does"
        ) from None
    if not isinstance(doc, dict):
        raise InvalidInput("the hook input on stdin is not a JSON object")
    return doc


def hook_input_of(doc: dict[str, Any], runtime: str = "claude-code") -> HookInput:
    dropped = tuple(key for key in _PATH_FIELDS if "\0" in _text(doc, key))
    for key in dropped:
        doc[key] = ""
    return HookInput(
        event=_text(doc, "hook_event_name"),
        session_id=_text(doc, "session_id"),
        cwd=_text(doc, "cwd"),
        transcript_path=_text(doc, "transcript_path"),
        tool_name=_text(doc, "tool_name"),
        tool_input=_object(doc, "tool_input"),
        tool_use_id=_text(doc, "tool_use_id"),
        tool_response=_object(doc, "tool_response"),
        agent_id=_text(doc, "agent_id"),
        agent_type=_text(doc, "agent_type"),
        agent_transcript_path=_text(doc, "agent_transcript_path"),
        source=_text(doc, "source"),
        reason=_text(doc, "reason"),
        last_assistant_message=_text(doc, "last_assistant_message"),
        runtime=runtime,
        model=_text(doc, "model"),
        dropped=tuple(
            f"{key} left out: it holds a NUL byte, no file has that name" for key in dropped
        ),
    )


#: the fields that name files aether may read
_PATH_FIELDS = ("transcript_path", "agent_transcript_path", "cwd")


def allow(reason: str, updated_input: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "hookEventName": "PreToolUse",
        "permissionDecision": "allow",
        "permissionDecisionReason": reason,
    }
    if updated_input is not None:
        out["updatedInput"] = updated_input
    return {"hookSpecificOutput": out}


def deny(reason: str) -> dict[str, Any]:
    """No subagent starts; Claude Code shows ``reason`` to the main model as the tool result."""
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    }


def context_for_model(event: str, text: str) -> dict[str, Any]:
    """Text added to the main model's context after a ``PostToolUse`` or ``SessionStart``."""
    return {"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}}


def without_hooks(data: dict[str, Any], is_mine: Callable[[Any], bool]) -> dict[str, Any]:
    """A hooks file's ``data`` (Claude Code's settings and Codex's hooks.json share the shape:
    ``{"hooks": {event: [{"matcher": …, "hooks": [handler, …]}]}}``) minus every handler
    ``is_mine``; a group or event left empty by that goes too, nothing else changes."""
    out = dict(data)
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return out
    kept_events: dict[str, Any] = {}
    for event, groups in hooks.items():
        kept_groups = []
        for group in groups:
            own = [h for h in group.get("hooks", []) if not is_mine(h)]
            if len(own) == len(group.get("hooks", [])):
                kept_groups.append(group)
            elif own:
                kept_groups.append({**group, "hooks": own})
        if kept_groups or not groups:
            kept_events[event] = kept_groups
    if kept_events or not hooks:
        out["hooks"] = kept_events
    else:
        del out["hooks"]
    return out
