"""Claude Code as the runtime-neutral use cases see it (the protocol: aether/runtimes/adapter.py).

Imports nothing of this package until a method is called: the hooks look their runtime up on
every spawn.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aether.health import Check
    from aether.routing.table import RoutingTable
    from aether.runtimes.adapter import HeadlessReader
    from aether.runtimes.hookio import HookInput
    from aether.runtimes.usage import HeadlessRun, ModelUsage
    from aether.workspace import Workspace


class ClaudeCode:
    kind = "claude-code"
    display_name = "Claude Code"
    agents_dir = ".claude/agents"
    definition_suffix = ".md"
    install_command = "aether claude install"
    project_variable = "CLAUDE_PROJECT_DIR"
    #: the names of settings.HOOKS, listed here so checking a hook's event does not import the
    #: settings module (~15 ms); tests/test_hooks.py keeps the two equal
    hook_events: tuple[str, ...] = (
        "pre-agent",
        "subagent-start",
        "agent-result",
        "subagent-stop",
        "session-start",
        "pre-compact",
        "session-end",
    )
    #: its SubagentStart names no model; PostToolUse's ``resolvedModel`` does (agent-result)
    start_names_child_model = False
    mismatch_check = (
        "CLAUDE_CODE_SUBAGENT_MODEL(_FORCE), availableModels and the Agent tool's model "
        "parameter (`aether doctor`)"
    )
    spawn_tool = "the Agent tool"
    agent_parameter = "subagent_type"
    task_parameter = "description"
    #: the user-level relay (runtimes/claude/relay.py) finds the colony from a subdirectory or
    #: a linked worktree
    starts_anywhere_in_project = True

    def session_facts(self, hook: HookInput) -> tuple[str, str | None, str | None]:
        """Claude Code names its own process (``CLAUDE_PID``; a served hook's client sends it
        along) and its main model (``ANTHROPIC_MODEL``) in the hook's environment."""
        cwd = hook.cwd or os.environ.get(self.project_variable, "")
        return cwd, os.environ.get("CLAUDE_PID"), os.environ.get("ANTHROPIC_MODEL") or None

    def definition_model(self, text: str) -> str | None:
        from aether.runtimes.claude.agents import front_matter_model

        return front_matter_model(text)

    def task_text(self, tool_input: dict[str, Any]) -> str:
        """The Agent tool's description and prompt."""
        parts = [tool_input.get(k) for k in ("description", "prompt")]
        return "\n\n".join(p for p in parts if isinstance(p, str) and p.strip())

    def redirected_input(
        self, tool_input: dict[str, Any], target: str, preface: str | None
    ) -> dict[str, Any]:
        """The Agent tool's input with ``subagent_type`` ``target``. Its own ``model`` is
        dropped: it would override the definition's (measured), and the profile decides."""
        updated = {k: v for k, v in tool_input.items() if k != "model"}
        updated["subagent_type"] = target
        if preface is not None:
            updated["prompt"] = f"{preface}\nYour task:\n{tool_input.get('prompt', '')}"
        return updated

    def off_proxy(self, table: RoutingTable) -> str | None:
        """Claude Code reads ``ANTHROPIC_BASE_URL`` from the environment or from the ``env``
        block of ``.claude/settings.json`` — a file it reads only in the directory it started
        in. A subagent proven through the proxy but sent elsewhere would run unrouted."""
        from aether.proxy_http import same_endpoint

        if table.proxy.standalone:
            return None
        used = os.environ.get("ANTHROPIC_BASE_URL", "")
        if same_endpoint(used, table.proxy.endpoint):
            return None
        where = f"to {used}" if used else "to Anthropic's API (ANTHROPIC_BASE_URL is not set)"
        return (
            f"this Claude Code session sends its requests {where}, not through the colony's "
            f"proxy at {table.proxy.endpoint}, so no model aether proves would be the one the "
            "subagent runs on. Claude Code reads the project's .claude/settings.json (which "
            "sets ANTHROPIC_BASE_URL) only when started in the project's top directory, and "
            "that file names the endpoint the profile had at `aether claude install`. Tell the "
            "user to start Claude Code there, or to export "
            f"ANTHROPIC_BASE_URL={table.proxy.endpoint} before starting it, or to run `aether "
            "claude install` again if the profile's endpoint changed."
        )

    def subagent_usage(self, path: Path, last_message: str) -> dict[str, ModelUsage]:
        """Read once the transcript holds the subagent's last message (Claude Code may still be
        writing it when ``SubagentStop`` fires)."""
        from aether.runtimes.claude.usage import read_settled_transcript

        return read_settled_transcript(path, last_message).by_model

    def last_message(self, path: Path) -> str | None:
        from aether.runtimes.claude.usage import last_assistant_text

        return last_assistant_text(path)

    def session_usage(self, path: Path) -> dict[str, ModelUsage]:
        from aether.runtimes.claude.usage import read_transcript

        return read_transcript(path).by_model

    def headless_reader(self, argv: list[str], env: dict[str, str]) -> HeadlessReader | None:
        """``claude -p --output-format json|stream-json`` ends with a result line naming each
        model the run used (its subagents' included) and its cost."""
        from aether.runtimes.claude.usage import asks_for_json_result

        return _read_headless_result if asks_for_json_result(argv) else None

    def doctor_checks(self, ws: Workspace, *, check_proxy: bool) -> list[Check]:
        from aether.runtimes.claude.doctor import claude_checks

        return claude_checks(ws, check_proxy=check_proxy)


def _read_headless_result(text: str) -> HeadlessRun | None:
    """The run's final result line; None without one, or one that names no model. The model
    that wrote the most output is taken for the main agent's."""
    from aether.runtimes.claude.usage import parse_headless_result
    from aether.runtimes.usage import HeadlessRun

    result = parse_headless_result(text)
    if result is None or not result.by_model:
        return None
    return HeadlessRun(
        runtime={"kind": "claude-code-headless", "session_id": result.session_id},
        by_model=result.by_model,
        cost_usd=result.total_cost_usd,
        mismatch_how="ran mostly on",
        source="claude-code",
    )


RUNTIME = ClaudeCode()
