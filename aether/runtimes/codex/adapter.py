"""The Codex CLI as the runtime-neutral use cases see it (the protocol:
aether/runtimes/adapter.py).

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


class Codex:
    kind = "codex"
    display_name = "Codex"
    agents_dir = ".codex/agents"
    definition_suffix = ".toml"
    install_command = "aether codex install"
    #: Codex's hooks are told the session's ``cwd``; no variable names it
    project_variable = ""
    #: the names of hooks.HOOKS (kept equal by tests/test_hooks.py; listed here so checking a
    #: hook's event does not import that module): no PostToolUse for a spawn (its SubagentStart
    #: names the model) and no PreCompact; its ``Stop`` (a turn ended) rewrites the handoff
    hook_events: tuple[str, ...] = (
        "pre-agent",
        "subagent-start",
        "subagent-stop",
        "session-start",
        "turn-end",
        "session-end",
    )
    start_names_child_model = True
    mismatch_check = "the agent file's model under .codex/agents (`aether codex check`)"
    spawn_tool = "the spawn_agent tool"
    agent_parameter = "agent_type"
    task_parameter = "message"
    #: run with the project as its directory only (docs/codex.md, "Known limits")
    starts_anywhere_in_project = False

    def session_facts(self, hook: HookInput) -> tuple[str, str | None, str | None]:
        """Codex names no process to its hooks (its process is the hook's first non-shell
        ancestor); a session event's ``model`` is the main agent's (a subagent's events name
        the child's)."""
        main = hook.model if hook.event in ("SessionStart", "Stop", "SessionEnd") else ""
        return hook.cwd, None, main or None

    def definition_model(self, text: str) -> str | None:
        from aether.runtimes.codex.agents import file_model

        return file_model(text)

    def task_text(self, tool_input: dict[str, Any]) -> str:
        """``spawn_agent``'s message."""
        message = tool_input.get("message")
        return message if isinstance(message, str) and message.strip() else ""

    def redirected_input(
        self, tool_input: dict[str, Any], target: str, preface: str | None
    ) -> dict[str, Any]:
        from aether.runtimes.codex.hookio import redirected_input

        return redirected_input(tool_input, target, preface)

    def off_proxy(self, table: RoutingTable) -> str | None:
        """The provider of ``$CODEX_HOME/config.toml`` must name the proxy's ``base_url``."""
        from aether.proxy_http import same_endpoint
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
            "would be the one the subagent runs on. Tell the user to add the block `aether "
            "codex install` prints to config.toml and start Codex again."
        )

    def subagent_usage(self, path: Path, last_message: str) -> dict[str, ModelUsage]:
        """The child's rollout (Codex's transcript), read for ``ROLLOUT_WAIT_S`` at most."""
        return self.session_usage(path)

    def last_message(self, path: Path) -> str | None:
        """A rollout is not read for it: the main agent's last message is taken at each
        ``Stop``."""
        return None

    def session_usage(self, path: Path) -> dict[str, ModelUsage]:
        import time

        from aether.runtimes.codex.usage import ROLLOUT_WAIT_S, read_rollout

        return read_rollout(path, time.monotonic() + ROLLOUT_WAIT_S).by_model

    def headless_reader(self, argv: list[str], env: dict[str, str]) -> HeadlessReader | None:
        """``codex exec --json`` prints JSONL events (tokens) and each thread's rollout under
        ``CODEX_HOME`` names its model."""
        from aether.runtimes.codex.usage import codex_home, is_codex_exec_json

        if not is_codex_exec_json(argv):
            return None
        home = codex_home(env)
        return lambda text: _read_run(text, home)

    def doctor_checks(self, ws: Workspace, *, check_proxy: bool) -> list[Check]:
        from aether.runtimes.codex.doctor import codex_checks

        return codex_checks(ws)


def _read_run(text: str, home: Path | None) -> HeadlessRun | None:
    """What a ``codex exec --json`` run used: tokens from its events, the model of each thread
    from its rollout under ``home``. The main thread's model must be the assigned one; its
    subagents may use others."""
    from aether.runtimes.codex.usage import run_usage
    from aether.runtimes.usage import HeadlessRun

    result = run_usage(text, home)
    if result is None:
        return None
    runtime: dict[str, Any] = {
        "kind": "codex-headless",
        "session_id": result.thread_id,
        "model_source": "rollout" if result.main_models else "unknown",
    }
    if result.truncated:
        runtime["usage_truncated"] = True
    return HeadlessRun(
        runtime=runtime,
        by_model=result.by_model,
        unattributed=result.unattributed,
        main_models=result.main_models,
        source="codex",
    )


RUNTIME = Codex()
