"""What a runtime-neutral use case asks of an agent runtime: the ``Runtime`` protocol.

Routing a spawn, recording a worker, reading what it used and ending a session are the same use
cases whatever runtime runs the worker (``aether.ops``). The few answers that differ between
runtimes each runtime's package gives through one object of this shape — its ``adapter``
module's ``RUNTIME`` (``claude.adapter``, ``codex.adapter``) — which the use cases look up by
kind in ``aether.runtimes.registry``; they never import a runtime's package themselves.

An adapter module imports nothing of its runtime when it is imported: each method imports what
it reads when it is called, because hooks look their runtime up on every spawn and a hook must
not pay for the modules of a runtime it does not use (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aether.health import Check
    from aether.routing.table import RoutingTable
    from aether.runtimes.hookio import HookInput
    from aether.runtimes.usage import HeadlessRun, ModelUsage
    from aether.workspace import Workspace

#: reads a headless worker's stdout (its end) into what the run reported, or None when it holds
#: no result of the runtime's
HeadlessReader = Callable[[str], "HeadlessRun | None"]


class Runtime(Protocol):
    """One agent runtime, as the neutral use cases see it."""

    #: what its hooks say they are (``aether hook --runtime KIND``) and its workers' records
    #: carry as ``runtime.kind``: ``claude-code``, ``codex``
    kind: str
    #: its name in messages and reports: ``Claude Code``
    display_name: str
    #: the project directory it reads agent definitions from, and a definition file's ending
    agents_dir: str
    definition_suffix: str
    #: the command that writes its definitions and hooks for a colony
    install_command: str
    #: the environment variable naming the directory a session started in ("" when its hooks
    #: are told ``cwd`` instead)
    project_variable: str
    #: the ``aether hook`` events its hooks run (aether.ops.hooks.dispatch has their handlers)
    hook_events: tuple[str, ...]
    #: whether its ``SubagentStart`` names the model the child runs on (then recorded as the
    #: runtime's word on it, and flagged when it is not the assigned one)
    start_names_child_model: bool
    #: what a user checks when a subagent ran on another model than aether assigned
    mismatch_check: str
    #: how its main model spawns a worker, in the words the briefing and the handoff use: the
    #: spawn tool, the parameter that names the agent, and the parameter whose text links a
    #: re-run to the worker it replaces (pre-agent looks for the old worker's id in the task)
    spawn_tool: str
    agent_parameter: str
    task_parameter: str
    #: whether a session started in any directory of the project, or in any worktree of its
    #: repository, reaches the colony (what HANDOFF.md tells the user)
    starts_anywhere_in_project: bool

    def session_facts(self, hook: HookInput) -> tuple[str, str | None, str | None]:
        """What a hook tells of the session that runs it: (the directory it runs in, the pid
        the runtime names for its own process — None when it names none and its process is
        found from the hook's ancestors —, the main agent's model if known)."""
        ...

    def definition_model(self, text: str) -> str | None:
        """The model an agent definition's text names, if any."""
        ...

    def task_text(self, tool_input: dict[str, Any]) -> str:
        """A spawn's task as aether routes it, from the spawn tool's input."""
        ...

    def redirected_input(
        self, tool_input: dict[str, Any], target: str, preface: str | None
    ) -> dict[str, Any]:
        """The spawn tool's input sent to definition ``target`` instead (``preface``, a
        carrier's caste brief, before the task); the tool's own ``model`` dropped."""
        ...

    def off_proxy(self, table: RoutingTable) -> str | None:
        """Why this session's requests (so its subagents') would not go through the colony's
        proxy — read from this process's environment and the runtime's configuration — or
        None. Said to the main model; ends with what to tell the user."""
        ...

    def subagent_usage(self, path: Path, last_message: str) -> dict[str, ModelUsage]:
        """A subagent's tokens per model from its transcript at ``path`` (read when the
        runtime says it stopped, ``last_message`` its final words); raises OSError when the
        transcript cannot be read."""
        ...

    def last_message(self, path: Path) -> str | None:
        """A session's last message from its transcript at ``path`` (None when the runtime's
        transcript does not say it); raises OSError when it cannot be read."""
        ...

    def session_usage(self, path: Path) -> dict[str, ModelUsage]:
        """A session's main agent's tokens per model from its transcript at ``path`` (its
        subagents keep theirs apart); raises OSError when it cannot be read."""
        ...

    def headless_reader(self, argv: list[str], env: dict[str, str]) -> HeadlessReader | None:
        """The reader of a worker command's output when ``argv`` (run with ``env``) is a
        headless run of this runtime that ends by saying what it used; else None."""
        ...

    def doctor_checks(self, ws: Workspace, *, check_proxy: bool) -> list[Check]:
        """What ``aether doctor`` checks of this runtime's integration with the colony. Its
        checks are a use case above ``aether.ops`` (they compare the installed files with an
        install plan): the adapter loads them only when called, and only the command line
        calls this."""
        ...
