"""``aether hook EVENT``: what Claude Code's hooks run (through .claude/hooks/aether-hook), and
Codex's with ``--runtime codex`` (through .codex/hooks/aether-hook).

A hook runs inside the user's agent session, so this command never breaks it: whatever happens
— no colony, input that is not JSON, a held lock, a read-only disk, a bug — it exits 0 with one
line on stderr (and a line in the activity log when there is a colony). The one exception to
"let the session go on" is the ``pre-agent`` answer that denies a spawn aether cannot route;
that is a JSON answer on stdout, still with exit 0.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, globals_of, lock_timeout, print_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from aether.ops.hooks.dispatch import HookOutcome
    from aether.runtimes.hookio import HookInput
    from aether.workspace import Workspace


def hook(
    ctx: typer.Context,
    event: str = typer.Argument(
        ...,
        metavar="EVENT",
        help="pre-agent, subagent-start, agent-result, subagent-stop, session-start, "
        "pre-compact or session-end.",
    ),
    runtime: str = typer.Option(
        "claude-code",
        "--runtime",
        metavar="RUNTIME",
        help="Who runs the hook: claude-code, or codex (pre-agent, subagent-start, "
        "subagent-stop, session-start, turn-end, session-end).",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Run one agent-runtime hook: read its JSON on stdin, answer on stdout. Always exits 0.

    Installed by `aether claude install` (docs/claude-code.md) and `aether codex install`
    (--runtime codex; docs/codex.md), which say what each event does.
    """
    outcome, problem, ws = _run(ctx, event, runtime)
    if outcome is not None and outcome.later is not None:
        _do_later(ws, event, outcome, after_answer=not json_out)
    if outcome is not None and outcome.ahead is not None and not json_out:
        _leave_ahead(ws, event, outcome.ahead)
    notes = [*(outcome.notes if outcome else []), *([problem] if problem else [])]
    if json_out:
        payload = outcome.to_json() if outcome else {"ok": False, "event": event}
        print_json({**payload, "notes": [_redacted(n) for n in notes]})
    elif outcome is not None and outcome.answer is not None:
        print_json(outcome.answer)
    elif outcome is not None and outcome.text and runtime == "codex":
        from aether.runtimes.codex.hookio import session_context

        print_json(session_context(outcome.text))
    elif outcome is not None and outcome.text:
        sys.stdout.write(outcome.text)
        sys.stdout.flush()
    if notes:
        line = " ".join("; ".join(notes).split())
        sys.stderr.write(f"aether hook {event}: {_shown(line)}\n")
    if ws is not None and event != "session-end":
        _start_server(ws)
    raise typer.Exit(0)


def _do_later(
    ws: Workspace | None, event: str, outcome: HookOutcome, *, after_answer: bool
) -> None:
    """The work the hook's answer does not wait for: after the answer when a server runs this
    hook (its client is answered first); else now, its notes among the hook's (``--json``
    shows what it recorded). It never fails the hook: a problem is a line in the activity log
    (when it was left for later) or on stderr."""
    later = outcome.later
    assert later is not None
    outcome.later = None

    def work() -> list[str]:
        try:
            return later()
        except Exception as exc:  # a bug must not break the session, nor the server
            return [f"internal error ({type(exc).__name__}: {exc}); this is a bug in aether"]

    def logged() -> None:
        for note in work():
            _log_problem(ws, event, note)

    from aether.cli.inprocess import after_answer as leave_for_later

    if not (after_answer and leave_for_later(logged)):
        outcome.notes.extend(work())


def _leave_ahead(ws: Workspace | None, event: str, ahead: Callable[[], None]) -> None:
    """Work that readies a later hook, left for after the answer when a server runs this hook;
    in a process of its own it is not done (the later hook does it, as it always did). It
    never fails the hook: a problem is a line in the activity log."""

    def logged() -> None:
        try:
            ahead()
        except Exception as exc:  # a bug must not break the session, nor the server
            note = f"internal error ({type(exc).__name__}: {exc}); this is a bug in aether"
            _log_problem(ws, event, note)

    from aether.cli.inprocess import after_answer as leave_for_later

    leave_for_later(logged)


def _start_server(ws: Workspace) -> None:
    """The next hooks of this session (and of the next ones) are handed to a server: start one
    in the background when none runs (aether/cli/server_start.py); this hook's
    answer is already written. Not after session-end: that is when sessions stop."""
    sys.stdout.flush()
    sys.stderr.flush()
    from aether.cli.server_start import start_in_background

    if ws.exists() and ws.cache_dir.is_dir():
        start_in_background(str(ws.root), str(ws.project), str(ws.cache_dir / "server.log"))


def _redacted(text: str) -> str:
    from aether.redaction import redact

    return redact(text)


def _shown(text: str) -> str:
    """A note as it may reach a terminal: no secret, and control characters (a model name
    from a transcript or ``resolvedModel`` is Claude Code's text, not aether's) as escapes."""
    from aether.text import visible

    return visible(_redacted(text))


def _run(
    ctx: typer.Context, event: str, runtime: str
) -> tuple[HookOutcome | None, str | None, Workspace | None]:
    from aether.errors import AetherError, InvalidInput
    from aether.runtimes.registry import RUNTIMES

    known = {rt.kind: rt.hook_events for rt in RUNTIMES}
    if runtime not in known:
        return None, f"unknown runtime {runtime!r} (known: {', '.join(known)})", None
    if event not in known[runtime]:
        names = ", ".join(known[runtime])
        return None, f"unknown hook event {event!r} for {runtime} (known: {names})", None
    ws: Workspace | None = None
    parsed: HookInput | None = None
    try:
        from aether.cli.stdin import slurp_stdin
        from aether.ops.hooks.dispatch import run_hook
        from aether.runtimes.codex import hookio as codex_hookio
        from aether.runtimes.hookio import parse_hook_input

        data, problem = slurp_stdin()
        missing: AetherError | None = None
        try:
            ws = _workspace(ctx, runtime)
        except AetherError as exc:
            missing = exc  # said after the input is read: a spawn may need refusing
        if problem:
            raise InvalidInput(problem)
        parsed = (
            codex_hookio.parse_hook_input(data) if runtime == "codex" else parse_hook_input(data)
        )
        if missing is not None:
            raise missing
        assert ws is not None
        return run_hook(ws, event, parsed, lock_timeout=lock_timeout(ctx)), None, ws
    except AetherError as exc:
        line = exc.one_line()
        if event == "pre-agent" and parsed is not None:
            # an aether subagent that cannot be routed (no colony found from where the session
            # runs, a colony state that cannot be read) must not start unrouted: deny it
            from aether.ops.hooks.pre_agent import refuse_unroutable

            refusal = refuse_unroutable(parsed, line)
            if refusal is not None:
                _log_problem(ws, event, line)
                return refusal, None, ws
    except Exception as exc:  # a bug must not break the user's session either
        line = f"internal error ({type(exc).__name__}: {exc}); this is a bug in aether"
    _log_problem(ws, event, line)
    return None, line, ws


def _workspace(ctx: typer.Context, runtime: str) -> Workspace:
    """The colony of the session: --dir / AETHER_ROOT, else found from Claude Code's project
    directory (``CLAUDE_PROJECT_DIR``: where the session started, perhaps a subdirectory or a
    linked git worktree of the project), else from the working directory (Codex's launcher
    runs aether in the project its hooks.json belongs to)."""
    from pathlib import Path

    from aether.workspace import discover

    explicit = globals_of(ctx).dir
    if explicit or os.environ.get("AETHER_ROOT"):
        return discover(explicit)
    start = os.environ.get("CLAUDE_PROJECT_DIR") if runtime != "codex" else None
    return discover(None, start=Path(start) if start else None)


def _log_problem(ws: Workspace | None, event: str, line: str) -> None:
    if ws is None:
        return
    try:
        from aether import activity

        activity.log(ws, "hook_problem", hook=event, problem=line)
    except Exception:  # a log that cannot be written must not break the session
        pass


def register(app: typer.Typer) -> None:
    app.command()(hook)
