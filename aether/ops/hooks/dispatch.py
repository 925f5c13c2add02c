"""``aether hook EVENT``: one use case per agent-runtime hook event (docs/claude-code.md,
docs/codex.md).

The event names are ``aether.runtimes.claude.settings.HOOKS``' ``name`` fields; a test keeps
this table and that one equal. Each use case takes the colony, the parsed hook input and a lock
timeout, and returns a ``HookOutcome``; the CLI prints it and never fails the session.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from aether.records import field, record
from aether.runtimes.hookio import HookInput
from aether.workspace import Workspace

#: hook name -> (module, function)
HANDLERS = {
    "pre-agent": ("aether.ops.hooks.pre_agent", "pre_agent"),
    "subagent-start": ("aether.ops.hooks.agent", "subagent_start"),
    "agent-result": ("aether.ops.hooks.agent", "agent_result"),
    "subagent-stop": ("aether.ops.hooks.agent", "subagent_stop"),
    "session-start": ("aether.ops.hooks.session", "session_start"),
    "pre-compact": ("aether.ops.hooks.session", "pre_compact"),
    "session-end": ("aether.ops.hooks.session", "session_end"),
    "turn-end": ("aether.ops.hooks.session", "turn_end"),
}
#: a hook waits this long for the colony lock unless told otherwise: an agent session must
#: never stall behind a stuck aether command
HOOK_LOCK_TIMEOUT_S = 3.0


@record
class HookOutcome:
    """What a hook prints: a JSON answer or plain text for Claude Code, and notes for stderr.
    ``worker_id`` is the worker record the hook wrote, if any. ``later`` is work whose result
    the answer does not depend on (a routed spawn's record): the caller may do it once the
    answer is out; it returns its notes (and may set ``worker_id``). ``ahead`` is work that
    only readies what a later hook would otherwise do while the session waits (the session's
    proxy checks, before its first spawn): done after the answer when the caller can do that
    (a server), else not at all — the later hook then does it as it always would."""

    event: str
    answer: dict[str, Any] | None = None
    text: str | None = None
    notes: list[str] = field(default_factory=list)
    worker_id: str | None = None
    later: Callable[[], list[str]] | None = None
    ahead: Callable[[], None] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "event": self.event,
            "answer": self.answer,
            "text": self.text,
            "notes": self.notes,
            "worker_id": self.worker_id,
        }


def run_hook(
    ws: Workspace, name: str, hook: HookInput, *, lock_timeout: float | None
) -> HookOutcome:
    """Run one hook. Its lock wait: ``--lock-timeout``, else ``AETHER_LOCK_TIMEOUT``, else
    ``HOOK_LOCK_TIMEOUT_S`` (shorter than a command's default: a session is waiting)."""
    import os

    module, function = HANDLERS[name]
    handler = getattr(import_module(module), function)
    if lock_timeout is None and not os.environ.get("AETHER_LOCK_TIMEOUT"):
        lock_timeout = HOOK_LOCK_TIMEOUT_S
    outcome: HookOutcome = handler(ws, hook, lock_timeout=lock_timeout)
    outcome.notes[:0] = list(hook.dropped)
    return outcome
