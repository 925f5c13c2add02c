"""The Claude Code hooks at session boundaries: nobody has to type pause or resume.

* ``session_start``: a paused colony is resumed (``aether resume``: the same handoff, drift and
  orphan checks), an active one is joined; either way the main model gets a bounded briefing
  (``aether.briefing``) as its context.
* ``pre_compact``: a checkpoint — ``HANDOFF.md`` rendered from the state as committed, without
  pausing — so a session whose context is compacted (or that dies later) leaves a handoff.
* ``session_end``: ``aether pause``, with the session's last message as the note. Claude Code
  gives SessionEnd hooks ~1.5 s, so this one waits at most ``SESSION_END_LOCK_S`` for the lock.
"""

from __future__ import annotations

import os
from pathlib import Path

from aether import activity
from aether.briefing import Opening, render_briefing
from aether.errors import AetherError, MemoryFileError, ProfileProblem
from aether.ops.hooks import HookOutcome
from aether.runtimes.claude.hookio import HookInput
from aether.state.store import Store
from aether.workspace import Workspace

SESSION_END_LOCK_S = 0.8
NOTE_CHARS = 600


def _status(ws: Workspace) -> str | None:
    """The colony's status without building the whole state (an old format: fully loaded)."""
    from aether.state.reading import peek

    data = peek(ws)
    status = data.get("status") if data is not None else Store(ws).load().state.status
    return status if isinstance(status, str) else None


def _inside_worker() -> bool:
    """A headless Claude Code worker started by ``aether spawn --exec`` has sessions of its
    own; they are not the colony's, so its session hooks leave the colony alone."""
    from aether.ops.worker_env import WORKER_ID_VARIABLE

    return bool(os.environ.get(WORKER_ID_VARIABLE))


def session_start(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    from aether.memory import load_all
    from aether.ops.profile_snapshot import profile_snapshot
    from aether.ops.resume import resume

    outcome = HookOutcome(hook.event)
    if _inside_worker():
        return outcome
    opening = Opening(resumed=False)
    if _status(ws) == "paused":
        try:
            result = resume(ws, lock_timeout=lock_timeout)
        except AetherError as exc:
            state = Store(ws).load().state  # another session may have resumed it meanwhile
            if state.status == "paused":
                outcome.notes.append(f"the colony was not resumed: {exc.one_line()}")
                opening.findings.append(f"the colony is still paused: {exc.one_line()}")
        else:
            state = result.state
            opening = Opening(
                resumed=True,
                paused_at=result.previous_session.paused_at,
                note=result.previous_session.note,
                findings=[c["message"] for c in result.checks if c["level"] == "warning"],
            )
    else:
        state = Store(ws).load().state
    try:
        memory = load_all(ws.memory_dir)
    except MemoryFileError as exc:
        memory = {}
        outcome.notes.append(f"memory not in the briefing: {exc.one_line()}")
    outcome.text = render_briefing(
        state,
        memory=memory,
        caste_models=profile_snapshot(ws).caste_models,
        opening=opening,
    )
    activity.log(
        ws,
        "hook_session_start",
        claude_session=hook.session_id,
        source=hook.source,
        resumed=opening.resumed,
        colony_session=state.session.id,
    )
    return outcome


def pre_compact(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    """HANDOFF.md now, without pausing: the state gets a checkpoint event and the handoff is
    written from it under the same lock."""
    from aether.gitinfo import read_git
    from aether.ops.handoff_file import write_handoff_file

    outcome = HookOutcome(hook.event)
    if _inside_worker():
        return outcome
    git = read_git(ws.project)
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        if tx.state.status == "paused":
            tx.abort = True  # a paused colony's handoff already describes it
        else:
            tx.state.add_event(
                "session.checkpoint",
                f"context compaction ({hook.reason or 'Claude Code'})",
                source="pre-compact",
                claude_session=hook.session_id,
            )
            tx.then(lambda state: write_handoff_file(ws, state, git, outcome.notes))
    activity.log(ws, "hook_pre_compact", claude_session=hook.session_id)
    return outcome


def _last_words(ws: Workspace, hook: HookInput) -> str | None:
    from aether.runtimes.claude.usage import last_assistant_text

    if not hook.transcript_path:
        return None
    try:
        text = last_assistant_text(Path(hook.transcript_path))
    except OSError:
        return None
    if not text:
        return None
    flat = _scrubbed(ws, " ".join(text.split()))
    return flat if len(flat) <= NOTE_CHARS else flat[: NOTE_CHARS - 1] + "…"


def _scrubbed(ws: Workspace, text: str) -> str:
    """The note goes into the state, HANDOFF.md and the next briefing: anything that looks like
    a credential, and the proxy key's value whatever its variable is called, is taken out."""
    from aether.activity import redact
    from aether.routing.loader import load_profile_file

    try:
        key_env = load_profile_file(ws.profile_file, ws.cache_dir).table.proxy.key_env
        key = os.environ.get(key_env, "")
    except ProfileProblem:
        key = os.environ.get("LITELLM_MASTER_KEY", "")
    text = redact(text)
    return text.replace(key, "[redacted]") if len(key) >= 4 else text


def session_end(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    from aether.ops.pause import pause

    outcome = HookOutcome(hook.event)
    if _inside_worker():
        return outcome
    paused = _status(ws) == "paused"
    note = None
    if not paused:
        note = f"Claude Code session {hook.session_id} ended ({hook.reason or 'no reason given'})."
        last = _last_words(ws, hook)
        if last:
            note += f" Its last message: {last}"
    from aether.state.lock import lock_timeout_from_env

    configured = lock_timeout if lock_timeout is not None else lock_timeout_from_env()
    limit = min(configured, SESSION_END_LOCK_S)
    result = pause(ws, note=note, lock_timeout=limit)
    outcome.notes += result.warnings
    activity.log(ws, "hook_session_end", claude_session=hook.session_id, reason=hook.reason)
    return outcome
