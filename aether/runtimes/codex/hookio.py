"""Codex hook I/O: the JSON a hook reads on stdin, and the JSON it may answer with.

Inputs (measured with Codex 0.171.0; docs/codex.md): every event has ``session_id`` (the main
thread's id, also inside a subagent), ``transcript_path`` (the main rollout), ``cwd``,
``hook_event_name``, ``model`` (the model of the agent the event belongs to) and
``permission_mode``. ``PreToolUse`` adds ``tool_name`` (``spawn_agent`` for a spawn),
``tool_input`` (``{"agent_type", "message"}``) and ``tool_use_id``; ``SubagentStart`` adds
``agent_id`` (the child's thread id) and ``agent_type``, and its ``model`` is the **child's**;
``SubagentStop`` adds ``agent_transcript_path`` (the child's rollout) and
``last_assistant_message``; ``SessionStart`` has ``source``, ``SessionEnd`` ``reason``.

The fields are Claude Code's names, so the input becomes the same ``HookInput`` the runtime-
neutral use cases take (``runtime="codex"``). The answers are Claude Code's shape too: a
``PreToolUse`` ``permissionDecision`` (``deny`` stops the child before it reaches a model,
measured; ``allow`` with ``updatedInput`` redirects it: tests/proxy/test_codex_hooks.py), and
``additionalContext`` for ``SessionStart``.
"""

from __future__ import annotations

from typing import Any

from aether.runtimes import hookio
from aether.runtimes.hookio import HookInput

RUNTIME = "codex"
#: the tool a spawn is, in Codex's PreToolUse input (its namespace is not glued to this one)
SPAWN_TOOL = "spawn_agent"
#: the same spawn with ``[features] multi_agent_v2 = true``: Codex 0.171.0 offers it as
#: ``collaboration.spawn_agent`` and names it to hooks with the namespace glued on (measured)
SPAWN_TOOL_V2 = "collaborationspawn_agent"
#: the PreToolUse matcher that catches both (Codex matches the whole name: ``spawn_agent``
#: alone let v2 spawns by, unrouted — tests/proxy/test_codex_hooks.py)
SPAWN_MATCHER = f"{SPAWN_TOOL}|{SPAWN_TOOL_V2}"


def parse_hook_input(data: bytes) -> HookInput:
    return hookio.hook_input_of(hookio.load_hook_json(data), RUNTIME)


def redirected_input(
    tool_input: dict[str, Any], target: str, preface: str | None
) -> dict[str, Any]:
    """``spawn_agent``'s arguments, sent to agent file ``target`` instead; ``preface`` (a
    carrier's caste brief) comes before the task. Its own ``model`` is dropped: Codex accepts
    only its built-in catalog there (measured), and the profile decides."""
    updated = {k: v for k, v in tool_input.items() if k != "model"}
    updated["agent_type"] = target
    if preface is not None:
        updated["message"] = f"{preface}\nYour task:\n{tool_input.get('message', '')}"
    return updated


def session_context(text: str) -> dict[str, Any]:
    """The briefing, added to the main model's context at ``SessionStart``."""
    return hookio.context_for_model("SessionStart", text)
