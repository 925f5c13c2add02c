"""The hook use cases' questions whose answer depends on the runtime that sent the hook.

The use cases (``pre_agent``, ``agent_hooks``, ``session_hooks``) are the same for Claude Code
and Codex — route a spawn, record a worker, pause, brief. What differs — where a runtime's agent
definitions are and which model one names, what a spawn's task text is, how a redirected
spawn's input reads, whether the session's own requests go through the colony's proxy, how a
subagent's transcript says what it used — each runtime's adapter answers
(aether/runtimes/adapter.py); this module finds the hook's runtime in the registry when a
question is asked, not when it is imported (every served hook imports it), and asks it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aether.bounded_read import read_regular
from aether.runtimes import definitions as agents
from aether.runtimes.hookio import HookInput
from aether.runtimes.marker import ownership
from aether.workspace import Workspace

if TYPE_CHECKING:
    from aether.runtimes.adapter import Runtime
    from aether.runtimes.usage import ModelUsage


def runtime_of(hook: HookInput) -> Runtime:
    """The runtime that sent ``hook`` (Claude Code's for a hook that names none)."""
    from aether.runtimes.registry import runtime

    return runtime(hook.runtime)


def definition_path(rt: Runtime, name: str) -> str:
    """Where the runtime reads definition ``name``, relative to a project."""
    return f"{rt.agents_dir}/{name}{rt.definition_suffix}"


def _definition_text(
    ws: Workspace | None, name: str, rt: Runtime, *, start: str = ""
) -> str | None:
    """The agent definition ``name`` as the runtime sees it: in its agents directory of the
    directory the session started in or the nearest parent directory that has one (measured
    with Claude Code 2.1.328), else the colony's."""
    begin = (os.environ.get(rt.project_variable) if rt.project_variable else "") or start
    places = [Path(begin), *Path(begin).parents] if begin else []
    if ws is not None:
        places.append(ws.project)
    for directory in places:
        path = directory / definition_path(rt, name)
        try:
            return read_regular(path).decode("utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError):
            return None
    return None


def definition_text(
    ws: Workspace | None,
    name: str,
    *,
    start: str = "",
    hook: HookInput | None = None,
    rt: Runtime | None = None,
) -> str | None:
    """The definition ``name`` as the hook's runtime (or ``rt``; else Claude Code) sees it
    ."""
    if rt is None:
        from aether.runtimes.registry import DEFAULT

        rt = runtime_of(hook) if hook is not None else DEFAULT
    return _definition_text(ws, name, rt, start=start)


def is_aether_type(ws: Workspace, name: str, hook: HookInput | None = None) -> bool:
    """Is ``name`` one of aether's subagent types: in aether's naming scheme, and defined by a
    file aether wrote (or, with no file, naming a caste of the profile)?"""
    if agents.parse_agent_name(name) is None:
        return False
    text = definition_text(ws, name, hook=hook)
    if text is not None:
        return ownership(text).owner != "user"
    from aether.errors import ProfileProblem
    from aether.ops.workers.usage import routing_table

    try:
        parsed = agents.parse_agent_name(name)
        return parsed is not None and parsed[0] in routing_table(ws).castes
    except ProfileProblem:
        return False


def routed_text(hook: HookInput) -> str:
    """The spawn's task as aether routes it: Claude Code's description and prompt, Codex's
    message."""
    return runtime_of(hook).task_text(hook.tool_input or {})


def redirected_input(hook: HookInput, target: str, preface: str | None) -> dict[str, Any]:
    """The spawn's input sent to ``target`` (``preface``, a carrier's caste brief, before the
    task); the tool's own ``model`` dropped."""
    return runtime_of(hook).redirected_input(dict(hook.tool_input or {}), target, preface)


def subagent_usage(hook: HookInput) -> dict[str, ModelUsage]:
    """The subagent's tokens per model from its transcript — Claude Code's, or Codex's
    rollout; raises OSError when it cannot be read."""
    path = Path(hook.agent_transcript_path)
    return runtime_of(hook).subagent_usage(path, hook.last_assistant_message)
