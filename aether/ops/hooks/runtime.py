"""What differs between the agent runtimes whose hooks aether serves: Claude Code and Codex.

The use cases (``pre_agent``, ``agent_hooks``, ``session_hooks``) are the same for both — route
a spawn, record a worker, pause, brief; this module answers the few questions whose answer
depends on the runtime that sent the hook: where its agent definitions are and which model one
names, what a spawn's task text is, how a redirected spawn's input reads, and whether the
session's own requests go through the colony's proxy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aether.bounded_read import read_regular
from aether.records import record
from aether.routing.table import RoutingTable
from aether.runtimes import definitions as agents
from aether.runtimes.hookio import HookInput
from aether.runtimes.marker import ownership
from aether.workspace import Workspace

CLAUDE = "claude-code"
CODEX = "codex"


@record(frozen=True)
class AgentRuntime:
    kind: str
    label: str
    agents_dir: str
    suffix: str
    install_command: str
    #: the variable naming the directory the session started in (none for Codex: its hooks
    #: get ``cwd``)
    project_variable: str

    def definition_path(self, name: str) -> str:
        return f"{self.agents_dir}/{name}{self.suffix}"

    def definition_model(self, text: str) -> str | None:
        if self.kind == CODEX:
            from aether.runtimes.codex.agents import file_model

            return file_model(text)
        from aether.runtimes.claude.agents import front_matter_model

        return front_matter_model(text)


RUNTIMES = {
    CLAUDE: AgentRuntime(
        CLAUDE,
        "Claude Code",
        ".claude/agents",
        ".md",
        "aether claude install",
        "CLAUDE_PROJECT_DIR",
    ),
    CODEX: AgentRuntime(CODEX, "Codex", ".codex/agents", ".toml", "aether codex install", ""),
}


def runtime_of(hook: HookInput) -> AgentRuntime:
    return RUNTIMES.get(hook.runtime, RUNTIMES[CLAUDE])


def _definition_text(
    ws: Workspace | None, name: str, rt: AgentRuntime, *, start: str = ""
) -> str | None:
    """The agent definition ``name`` as the runtime sees it: in its agents directory of the
    directory the session started in or the nearest parent directory that has one (measured
    with Claude Code 2.1.328), else the colony's."""
    begin = (os.environ.get(rt.project_variable) if rt.project_variable else "") or start
    places = [Path(begin), *Path(begin).parents] if begin else []
    if ws is not None:
        places.append(ws.project)
    for directory in places:
        path = directory / rt.definition_path(name)
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
    rt: AgentRuntime | None = None,
) -> str | None:
    """The definition ``name`` as the hook's runtime (or ``rt``; else Claude Code) sees it
    ."""
    if rt is None:
        rt = runtime_of(hook) if hook is not None else RUNTIMES[CLAUDE]
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
    tool_input = hook.tool_input or {}
    keys = ("message",) if hook.runtime == CODEX else ("description", "prompt")
    parts = [tool_input.get(k) for k in keys]
    return "\n\n".join(p for p in parts if isinstance(p, str) and p.strip())


def redirected_input(hook: HookInput, target: str, preface: str | None) -> dict[str, Any]:
    """The spawn's input sent to ``target`` (``preface``, a carrier's caste brief, before the
    task); the tool's own ``model`` dropped."""
    tool_input = dict(hook.tool_input or {})
    if hook.runtime == CODEX:
        from aether.runtimes.codex.hookio import redirected_input as codex_input

        return codex_input(tool_input, target, preface)
    updated = {k: v for k, v in tool_input.items() if k != "model"}
    updated["subagent_type"] = target
    if preface is not None:
        updated["prompt"] = f"{preface}\nYour task:\n{tool_input.get('prompt', '')}"
    return updated


def codex_off_proxy(table: RoutingTable) -> str | None:
    """Why this Codex session's requests would not go through the colony's proxy (its
    ``$CODEX_HOME/config.toml`` names another provider's ``base_url``), or None."""
    from aether.runtimes.codex.config import base_url, codex_home, read_config

    if table.proxy.standalone:
        return None
    path = codex_home(os.environ) / "config.toml"
    data, problem = read_config(path)
    wanted = base_url(table.proxy.endpoint)
    if data is None:
        used = problem or f"{path} does not exist"
    else:
        name = data.get("model_provider")
        providers = data.get("model_providers")
        provider = providers.get(name) if isinstance(providers, dict) and name else None
        url = provider.get("base_url") if isinstance(provider, dict) else None
        if isinstance(url, str) and same_endpoint(url, wanted):
            return None
        used = (
            f"sends this session's requests to provider {name!r}"
            if isinstance(name, str)
            else "names no model_provider (Codex's default: OpenAI's API)"
        )
        used = f"{path} {used}"
    return (
        f"{used}, not to the colony's proxy at {wanted}, so no model aether proves "
        "would be the one the subagent runs on. Tell the user to add the block `aether codex "
        "install` prints to config.toml and start Codex again."
    )


def same_endpoint(a: str, b: str) -> bool:
    """Do two URLs name one proxy (``localhost`` and ``127.0.0.1``, a trailing slash, an
    explicit default port alike)? A URL that names no proxy at all never matches."""
    from aether.errors import InvalidInput
    from aether.proxy_http import parse_endpoint

    def key(url: str) -> tuple[str, str, int, str]:
        e = parse_endpoint(url)
        host = e.host.lower()
        return e.scheme, "127.0.0.1" if host == "localhost" else host, e.port, e.base_path

    try:
        return key(a) == key(b)
    except InvalidInput:
        return False


def subagent_usage(hook: HookInput) -> Any:
    """The subagent's tokens per model (``by_model``) from its transcript — Claude Code's, or
    Codex's rollout; raises OSError when it cannot be read."""
    path = Path(hook.agent_transcript_path)
    if hook.runtime == CODEX:
        import time

        from aether.runtimes.codex.usage import ROLLOUT_WAIT_S, read_rollout

        return read_rollout(path, time.monotonic() + ROLLOUT_WAIT_S)
    from aether.runtimes.claude.usage import read_settled_transcript

    return read_settled_transcript(path, hook.last_assistant_message)
