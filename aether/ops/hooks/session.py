"""The Claude Code hooks at session boundaries: nobody has to type pause or resume.

Several sessions may share one colony (aether.ops.session.agent_sessions keeps the list):

* ``session_start``: a paused colony is resumed (``aether resume``: the same handoff, drift and
  orphan checks), an active one is joined; the session is registered, and any session found
  dead meanwhile is recorded with its workers lost. The main model gets a bounded briefing
  (``aether.briefing``) as its context.
* ``pre_compact``: a checkpoint — ``HANDOFF.md`` rendered from the state as committed, without
  pausing — so a session whose context is compacted (or that dies later) leaves a handoff.
* ``session_end``: the session's record is completed with its last message and its own tokens
  (from its transcript). While another session is still live the colony stays active and
  HANDOFF.md becomes a checkpoint that carries this session's words; the last session out
  pauses the colony (``aether pause``). Claude Code gives SessionEnd hooks ~1.5 s, so this one
  waits at most ``SESSION_END_LOCK_S`` for the lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from aether import activity
from aether.briefing import Opening, render_briefing
from aether.errors import AetherError, MemoryFileError
from aether.ops.hooks.dispatch import HookOutcome
from aether.ops.hooks.runtime import runtime_of
from aether.ops.hooks.subagent_record import sighting_of
from aether.ops.session.agent_sessions import (
    DeadSession,
    apply_transcript_facts,
    end_session,
    last_words,
    observe,
    read_transcript_facts,
)
from aether.redaction import admitted
from aether.runtimes.hookio import HookInput
from aether.state.model import ColonyState, Worker
from aether.state.store import Store
from aether.workspace import Workspace

SESSION_END_LOCK_S = 0.8


def _status(ws: Workspace) -> str | None:
    """The colony's status without building the whole state (an old format: fully loaded)."""
    from aether.state.reading import peek

    data = peek(ws)
    status = data.get("status") if data is not None else Store(ws).load().state.status
    return status if isinstance(status, str) else None


def _inside_worker() -> bool:
    """A headless Claude Code worker started by ``aether spawn --exec`` has sessions of its
    own; they are not the colony's, so its session hooks leave the colony alone."""
    from aether.ops.spawn.worker_env import WORKER_ID_VARIABLE

    return bool(os.environ.get(WORKER_ID_VARIABLE))


def session_start(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    outcome = HookOutcome(hook.event)
    if _inside_worker():
        return outcome
    sighting = sighting_of(hook)
    seen: list[tuple[Worker | None, list[DeadSession]]] = []

    def register(state: ColonyState) -> None:
        seen.append(observe(ws, state, sighting, starting=True))

    # a paused colony is resumed and the session registered in one transaction
    opening, state = _resume_if_paused(ws, outcome, lock_timeout, register)
    if seen and state is not None:
        session, dead = seen[0]
    else:
        with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
            session, dead = observe(ws, tx.state, sighting, starting=True)
        state = tx.state
    opening.dead = [*opening.dead, *_dead_lines(state, dead)]
    opening.session_worker = session.id if session is not None else None
    outcome.text = _briefing(ws, state, opening, outcome, hook)
    session_id = state.session.id
    outcome.ahead = lambda: _check_proxy_ahead(ws, session_id)
    activity.log(
        ws,
        "hook_session_start",
        claude_session=hook.session_id,
        source=hook.source,
        resumed=opening.resumed,
        colony_session=state.session.id,
        dead_sessions=[d.session_id for d in dead],
    )
    return outcome


def _check_proxy_ahead(ws: Workspace, session_id: str) -> None:
    from aether.ops.spawn.session_checks import check_proxy_ahead

    check_proxy_ahead(ws, session_id)


def _resume_if_paused(
    ws: Workspace,
    outcome: HookOutcome,
    lock_timeout: float | None,
    within: Callable[[ColonyState], None],
) -> tuple[Opening, ColonyState | None]:
    """(how the session opens, the state as resumed — None when it was not resumed here)."""
    from aether.ops.session.resume import resume

    if _status(ws) != "paused":
        return Opening(resumed=False), None
    try:
        result = resume(ws, lock_timeout=lock_timeout, within=within)
    except AetherError as exc:
        if Store(ws).load().state.status == "paused":  # not resumed by another session
            outcome.notes.append(f"the colony was not resumed: {exc.one_line()}")
            still = [f"the colony is still paused: {exc.what}"]
            return Opening(resumed=False, findings=still), None
        return Opening(resumed=False), None
    opening = Opening(
        resumed=True,
        paused_at=result.previous_session.paused_at,
        note=result.previous_session.note,
        previous_session=result.previous_session.id,
        findings=[c["message"] for c in result.checks if c["level"] == "warning"],
    )
    return opening, result.state


def _dead_lines(state: ColonyState, dead: list[DeadSession]) -> list[str]:
    lines = []
    for d in dead:
        lost = f"; its workers {', '.join(d.lost)} are lost" if d.lost else ""
        lines.append(f"session {d.session_id} died without ending (its process is gone){lost}")
    return lines


def _briefing(
    ws: Workspace, state: ColonyState, opening: Opening, outcome: HookOutcome, hook: HookInput
) -> str:
    from aether.memory import load_all

    try:
        memory = load_all(ws.memory_dir)
    except MemoryFileError as exc:
        memory = {}
        outcome.notes.append(f"memory not in the briefing: {exc.one_line()}")
    return render_briefing(state, memory=memory, opening=opening, runtime=runtime_of(hook))


def pre_compact(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    """HANDOFF.md now, without pausing: the state gets a checkpoint event and the handoff is
    written from it under the same lock."""
    from aether.gitinfo import read_git
    from aether.ops.session.handoff_file import write_handoff_file

    outcome = HookOutcome(hook.event)
    if _inside_worker():
        return outcome
    git = read_git(ws.project)
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        observe(ws, tx.state, sighting_of(hook))
        if tx.state.status != "paused":  # a paused colony's handoff already describes it
            tx.state.add_event(
                "session.checkpoint",
                f"context compaction ({hook.reason or 'Claude Code'})",
                source="pre-compact",
                claude_session=hook.session_id,
            )
            tx.then(lambda state: write_handoff_file(ws, state, git, outcome.notes))
    activity.log(ws, "hook_pre_compact", claude_session=hook.session_id)
    return outcome


def turn_end(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    """Codex's ``Stop`` (the main agent's turn ended): HANDOFF.md rewritten from the state,
    without pausing and without an event (a turn is no news), so a session that never reaches
    ``SessionEnd`` (a terminal closed, a killed process) leaves the handoff of its last turn;
    the session is seen alive again."""
    from aether.gitinfo import read_git
    from aether.ops.session.handoff_file import write_handoff_file

    outcome = HookOutcome(hook.event)
    if _inside_worker():
        return outcome
    git = read_git(ws.project)
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        session, _dead = observe(ws, tx.state, sighting_of(hook))
        if session is not None and hook.last_assistant_message:
            session.result = last_words(ws, hook.last_assistant_message)
        if tx.state.status != "paused":  # a paused colony's handoff already describes it
            tx.then(lambda state: write_handoff_file(ws, state, git, outcome.notes))
    return outcome


def session_end(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    from aether.gitinfo import read_git
    from aether.ops.session.handoff_file import write_handoff_file
    from aether.ops.session.pause import git_at_pause, record_pause
    from aether.ops.session.profile_snapshot import profile_snapshot
    from aether.state.lock import lock_timeout_from_env

    outcome = HookOutcome(hook.event)
    sighting = sighting_of(hook)
    if _inside_worker() or sighting is None:
        return outcome
    # read before the lock: a long transcript takes a moment
    facts = read_transcript_facts(ws, hook.transcript_path, hook.runtime)
    outcome.notes += facts.problems
    snapshot, git = profile_snapshot(ws), read_git(ws.project)
    configured = lock_timeout if lock_timeout is not None else lock_timeout_from_env()
    last_out = False
    with Store(ws, lock_timeout=min(configured, SESSION_END_LOCK_S)).transaction() as tx:
        s = tx.state
        session, _dead = observe(ws, s, sighting)
        assert session is not None
        apply_transcript_facts(ws, session, facts)
        reason = admitted(hook.reason)
        _lost, others = end_session(s, session, reason)
        if s.status != "paused" and not others:
            last_out = True
            label = runtime_of(hook).display_name
            note = f"{label} session {hook.session_id} ended "
            note += f"({reason or 'no reason given'}); it was the last one working."
            record_pause(s, note, snapshot, git)
        written = git_at_pause(s) if s.status == "paused" else git
        tx.then(lambda state: write_handoff_file(ws, state, written, outcome.notes))
    if snapshot.error and last_out:
        outcome.notes.append(f"profile not recorded: {snapshot.error}")
    activity.log(
        ws,
        "hook_session_end",
        claude_session=hook.session_id,
        reason=reason,
        paused=last_out,
        still_live=len(others),
    )
    if last_out:
        activity.log(ws, "pause", session_id=tx.state.session.id, serial=tx.state.serial)
    return outcome
