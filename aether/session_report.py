"""What each agent session did, in words: shared by HANDOFF.md, the briefing and the CLI.

An agent session is recorded as the worker that stands for its main agent (the queen, with
``runtime.role`` ``main``: aether.ops.session.agent_sessions); the workers it ran hang under it
(aether.worker_tree); a runtime is named as its package names it (aether.runtimes.registry).
Pure: no disk, no clock.
"""

from __future__ import annotations

from aether.state.model import ColonyState, Worker
from aether.text import one_line
from aether.worker_tree import descendants


def sessions_of(state: ColonyState, colony_session: str | None = None) -> list[Worker]:
    """The agent sessions recorded in the state (those of one colony session when given),
    in the order they joined."""
    return [
        w
        for w in state.workers
        if w.is_main_session and (colony_session is None or w.session_id == colony_session)
    ]


def live_sessions(state: ColonyState) -> list[Worker]:
    """The sessions recorded as live (not yet found ended or dead)."""
    return [w for w in state.workers if w.is_main_session and w.status == "running"]


def session_workers(state: ColonyState, session: Worker) -> list[Worker]:
    """The workers a session ran, at every depth, in tree order."""
    return descendants(state.workers, session.id)


def short_id(session_id: object) -> str:
    text = str(session_id or "?")
    return text[:8] if len(text) > 12 else text


def session_label(session: Worker) -> str:
    """``Claude Code session 3f2a1c9e (ended: other)``."""
    rt = session.runtime or {}
    runtime, session_id = runtime_name(rt.get("kind")), short_id(rt.get("session_id"))
    return f"{runtime} session {session_id} ({session_state(session)})"


def runtime_name(kind: object) -> str:
    """The name of the runtime of ``kind`` as its package gives it (``Codex``), else the kind
    as recorded."""
    from aether.runtimes.registry import known

    runtime = known(str(kind))
    return runtime.display_name if runtime is not None else str(kind or "agent")


def session_state(session: Worker) -> str:
    rt = session.runtime or {}
    if session.status == "running":
        return "live"
    if session.status == "lost":
        return "died without ending"
    reason = rt.get("end_reason")
    return f"ended: {reason}" if reason else "ended"


def count(n: int | None) -> str:
    """A token count as people read it: 950, 12.3k, 4.1M."""
    if n is None:
        return "?"
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def tokens_text(w: Worker) -> str:
    if w.tokens_in is None and w.tokens_out is None:
        return "tokens unknown"
    return f"{count(w.tokens_in)} in / {count(w.tokens_out)} out"


def worker_summary(w: Worker, *, result_chars: int = 160) -> str:
    """``builder on cc-builder, completed, 1.2k in / 300 out — "its last line"``."""
    ran = f" (ran on {w.model_used})" if w.model_mismatch and w.model_used else ""
    why = ""
    if w.status in ("lost", "never_started", "failed") and w.fail_reason:
        why = f" ({one_line(w.fail_reason, 120)})"
    said = f' — "{one_line(w.result, result_chars)}"' if w.result else ""
    return f"{w.caste} on {w.model}{ran}, {w.status}{why}, {tokens_text(w)}{said}"
