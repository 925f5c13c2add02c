"""Agent sessions on one colony: which are live, which ended, which died (docs/claude-code.md).

Several agent sessions may work on one colony at once — two terminals, a worktree each, one
killed and another started. Each session that touches the colony is recorded as a worker of
caste ``queen``: its main agent, with ``runtime.role`` ``main``, its session id, where it runs
(``cwd``, the git ``worktree``), its ``process`` (aether.process_identity) and transcript.
Its status is the session's: ``running`` while live (``heartbeat_at`` is when a hook last saw
it), ``completed`` once it ended, ``lost`` when it died without ending. The subagents it
spawned hang under it (``parent_id``), and theirs under them.

Every hook that writes the state calls :func:`observe` first, inside its transaction: any
session whose process is gone is found dead *at once*, its unfinished workers become ``lost``
(never "running" in a briefing again), its last message is taken from its transcript; and the
hook's own session is registered or seen again. The last session to end pauses the colony
(aether.ops.hooks.session); no session marks another live session's worker lost.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aether.process_identity import ProcessIdentity, is_alive
from aether.records import field, record
from aether.session_report import live_sessions
from aether.state.model import MAIN_SESSION_ROLE, ColonyState, Worker
from aether.timeutil import age_seconds, iso, new_id
from aether.workspace import Workspace

#: a session's last message is kept up to this many characters (its end: "Next: …" lasts)
LAST_WORDS_CHARS = 4000
#: a subagent's result: its last line, up to this many characters
RESULT_CHARS = 300


@record(frozen=True)
class Sighting:
    """What a hook knows of the session it runs in."""

    runtime: str
    session_id: str
    cwd: str
    transcript_path: str = ""
    process: ProcessIdentity | None = None
    main_model: str | None = None


@record
class DeadSession:
    """A session found dead: its record, and the workers it left that are now lost."""

    worker_id: str
    session_id: str
    lost: list[str] = field(default_factory=list)


# --- finding sessions --------------------------------------------------------------------------


def session_record(state: ColonyState, runtime: str, session_id: str) -> Worker | None:
    """The record of an agent session (its main agent), if the colony has seen it."""
    for w in state.workers:
        rt = w.runtime or {}
        if w.is_main_session and rt.get("kind") == runtime and rt.get("session_id") == session_id:
            return w
    return None


def session_members(state: ColonyState, session: Worker) -> list[Worker]:
    """The workers a session ran (its subagents at every depth), in the order recorded."""
    rt = session.runtime or {}
    return [
        w
        for w in state.workers
        if not w.is_main_session
        and (w.runtime or {}).get("kind") == rt.get("kind")
        and (w.runtime or {}).get("session_id") == rt.get("session_id")
    ]


def is_live_worker(state: ColonyState, worker: Worker) -> bool:
    """Does ``worker`` belong to a session that is still live (so nobody else may call it
    lost)?"""
    rt = worker.runtime or {}
    if not rt.get("session_id") or worker.is_main_session:
        return False
    session = session_record(state, str(rt.get("kind")), str(rt["session_id"]))
    return session is not None and session.status == "running" and _alive(state, session, None)


def _alive(state: ColonyState, session: Worker, current: Sighting | None) -> bool:
    rt = session.runtime or {}
    if current is not None and rt.get("session_id") == current.session_id:
        return True
    process = ProcessIdentity.from_json(rt.get("process"))
    if process is not None:
        if current is not None and current.process == process:
            # the same runtime process now runs another session (Claude Code's /clear or
            # /resume): this one is over
            return False
        alive = is_alive(process)
        if alive is not None:
            return alive
    # no process to check (another system, or a hook that could not find it): a session no
    # hook has seen within the heartbeat limit is taken for dead
    age = age_seconds(session.heartbeat_at or session.started_at)
    return age is None or age <= state.settings.heartbeat_limit_s


# --- observing -----------------------------------------------------------------------------------


def observe(
    ws: Workspace,
    state: ColonyState,
    sighting: Sighting | None,
    *,
    starting: bool = False,
) -> tuple[Worker | None, list[DeadSession]]:
    """Find the sessions that died (their workers lost at once), then register or refresh the
    hook's own session. ``starting``: the session's start (only that brings an ended session
    back: ``claude --resume``). Call inside the hook's transaction."""
    dead = reap(ws, state, sighting)
    if sighting is None or not sighting.session_id:
        return None, dead
    session = session_record(state, sighting.runtime, sighting.session_id) or _register(
        state, sighting
    )
    _seen(state, session, sighting, starting=starting)
    return session, dead


def _register(state: ColonyState, sighting: Sighting) -> Worker:
    from aether.gitinfo import worktree_of

    stamp = iso()
    tree = worktree_of(Path(sighting.cwd)) if sighting.cwd else None
    session = Worker(
        id=new_id("w-queen"),
        caste="queen",
        model=sighting.main_model or "unknown",
        model_source="runtime-session",
        model_reason=f"the main agent of {sighting.runtime} session {sighting.session_id}: "
        "the session's own model, not routed by aether",
        profile_hash="",
        session_id=state.session.id,
        status="running",
        spawned_at=stamp,
        started_at=stamp,
        heartbeat_at=stamp,
        runtime={
            "kind": sighting.runtime,
            "role": MAIN_SESSION_ROLE,
            "session_id": sighting.session_id,
            "cwd": sighting.cwd,
            "worktree": str(tree.top) if tree is not None else None,
            "process": sighting.process.to_json() if sighting.process else None,
            "transcript_path": sighting.transcript_path or None,
        },
    )
    state.workers.append(session)
    state.add_event(
        "session.joined",
        f"{sighting.runtime} session {sighting.session_id} joined the colony",
        worker_id=session.id,
        runtime=sighting.runtime,
        runtime_session=sighting.session_id,
        cwd=sighting.cwd,
    )
    return session


def _seen(state: ColonyState, session: Worker, sighting: Sighting, *, starting: bool) -> None:
    if session.status != "running" and not starting:
        return  # a late hook of a session that ended (or was taken for dead): its record stands
    rt = dict(session.runtime or {})
    if sighting.process is not None:
        rt["process"] = sighting.process.to_json()
    if sighting.transcript_path:
        rt["transcript_path"] = sighting.transcript_path
    session.runtime = rt
    if sighting.main_model and session.model == "unknown":
        session.model = sighting.main_model
    if session.status != "running":
        # a session taken for dead (or ended) starts again: `claude --resume` of it
        session.status = "running"
        session.finished_at = None
        state.add_event(
            "session.returned",
            f"{sighting.runtime} session {sighting.session_id} is live again",
            worker_id=session.id,
        )
    session.heartbeat_at = iso()


# --- dead sessions -------------------------------------------------------------------------------


def reap(ws: Workspace, state: ColonyState, current: Sighting | None) -> list[DeadSession]:
    """Mark every live-recorded session whose process is gone: the session ``lost`` with its
    last message and tokens read from its transcript, its unfinished workers ``lost``."""
    found: list[DeadSession] = []
    for session in live_sessions(state):
        if _alive(state, session, current):
            continue
        found.append(_bury(ws, state, session, replaced=_same_process(session, current)))
    return found


def _same_process(session: Worker, current: Sighting | None) -> bool:
    process = ProcessIdentity.from_json((session.runtime or {}).get("process"))
    return current is not None and process is not None and current.process == process


def _bury(ws: Workspace, state: ColonyState, session: Worker, *, replaced: bool) -> DeadSession:
    rt = session.runtime or {}
    stamp = iso()
    read_session_transcript(ws, session)
    why = (
        "its process went on to another session without ending this one"
        if replaced
        else f"its process ({(rt.get('process') or {}).get('pid', 'unknown pid')}) is gone: "
        "killed or crashed without a SessionEnd"
    )
    session.status = "completed" if replaced else "lost"
    session.finished_at = stamp
    session.fail_reason = None if replaced else why
    lost = _orphan_members(
        state, session, stamp, f"its session {rt.get('session_id')} ended: {why}"
    )
    state.add_event(
        "session.died" if not replaced else "session.ended",
        f"{rt.get('kind')} session {rt.get('session_id')}: {why}; "
        f"{len(lost)} unfinished worker(s) marked lost",
        worker_id=session.id,
        runtime_session=rt.get("session_id"),
        lost=lost,
    )
    return DeadSession(session.id, str(rt.get("session_id")), lost)


# --- a session's end, its own words and tokens -------------------------------------------------


@record
class TranscriptFacts:
    """What a session's transcript says: its last message and its main agent's tokens per
    model (subagents keep theirs in files of their own: nothing is counted twice)."""

    last_words: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_transcript_facts(ws: Workspace, path: str, kind: str) -> TranscriptFacts:
    """Read before taking the lock where possible: a long transcript takes a moment. The
    runtime of ``kind`` reads it (aether.runtimes.registry; Claude Code for a kind it does not
    know): a Codex session's is its main thread's rollout, which gives its tokens per model
    but not its last message (that is taken at each ``Stop``)."""
    from aether.runtimes.registry import runtime

    facts = TranscriptFacts()
    if not path:
        return facts
    rt = runtime(kind)
    try:
        text = rt.last_message(Path(path))
        facts.last_words = last_words(ws, text) if text else None
        facts.usage = dict(rt.session_usage(Path(path)))
    except FileNotFoundError:
        pass  # a session that never wrote one (nothing was said)
    except OSError as exc:
        facts.problems.append(f"transcript not read ({exc.strerror or exc})")
    except Exception as exc:  # a transcript must never cost a session its end (or its pause)
        facts.problems.append(f"transcript not read ({type(exc).__name__}: {exc})")
    return facts


def apply_transcript_facts(ws: Workspace, session: Worker, facts: TranscriptFacts) -> None:
    from aether.ops.workers.usage import profile_table, record_usage

    if facts.last_words:
        session.result = facts.last_words
    if facts.usage:
        record_usage(session, facts.usage, profile_table(ws))
        if session.model == "unknown" and session.model_used:
            session.model = session.model_used


def read_session_transcript(ws: Workspace, session: Worker) -> None:
    """Set a session record's last message and tokens from its transcript (a dead session's:
    nobody is there to be told what could not be read)."""
    rt = session.runtime or {}
    path = rt.get("transcript_path")
    kind = rt.get("kind")
    facts = read_transcript_facts(
        ws, path if isinstance(path, str) else "", kind if isinstance(kind, str) else ""
    )
    apply_transcript_facts(ws, session, facts)


def _orphan_members(state: ColonyState, session: Worker, stamp: str, why: str) -> list[str]:
    """The session's unfinished workers: ``lost`` (started) or ``never_started``; their ids."""
    lost: list[str] = []
    for w in session_members(state, session):
        if w.status in ("spawned", "running"):
            w.status = "lost" if w.status == "running" else "never_started"
            w.finished_at = stamp
            w.fail_reason = why
            lost.append(w.id)
    return lost


def end_session(state: ColonyState, session: Worker, reason: str) -> tuple[list[str], list[Worker]]:
    """The session ended (inside the caller's transaction): its record completed, the
    subagents it left running lost. Returns (those lost, the sessions still live)."""
    stamp = iso()
    rt = session.runtime or {}
    session.status = "completed"
    session.finished_at = stamp
    session.fail_reason = None
    session.runtime = {**rt, "end_reason": reason or None}
    elapsed = age_seconds(session.started_at)
    session.duration_s = round(elapsed, 3) if elapsed is not None else None
    why = f"its session {rt.get('session_id')} ended ({reason or 'no reason'}) before it finished"
    lost = _orphan_members(state, session, stamp, why)
    others = [w for w in live_sessions(state) if w is not session]
    state.add_event(
        "session.ended",
        f"{rt.get('kind')} session {rt.get('session_id')} ended ({reason or 'no reason given'})"
        + (f"; {len(others)} other session(s) still live" if others else ""),
        worker_id=session.id,
        runtime_session=rt.get("session_id"),
        reason=reason or None,
        lost=lost,
        still_live=[w.id for w in others],
    )
    return lost, others


def last_words(ws: Workspace, text: str) -> str:
    """A session's last message as kept: credentials taken out, at most ``LAST_WORDS_CHARS``,
    cut from the front so its ending (where it says what comes next) stays."""
    from aether.text import cut_front

    return cut_front(scrubbed(ws, text), LAST_WORDS_CHARS)


def result_line(ws: Workspace, text: str) -> str | None:
    """A worker's result as kept: the last non-empty line of its final message, bounded."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    line = " ".join(scrubbed(ws, lines[-1]).split())
    return line if len(line) <= RESULT_CHARS else line[: RESULT_CHARS - 1] + "…"


def scrubbed(ws: Workspace, text: str) -> str:
    """Text from a session goes into the state, HANDOFF.md and the next briefing: anything that
    looks like a credential, and the proxy key's value whatever its variable is called, is
    taken out."""
    from aether.errors import ProfileProblem
    from aether.redaction import admitted
    from aether.routing.loader import load_profile_file

    try:
        key_env = load_profile_file(ws.profile_file, ws.cache_dir).table.proxy.key_env
        key = os.environ.get(key_env, "")
    except ProfileProblem:
        key = os.environ.get("LITELLM_MASTER_KEY", "")
    return admitted(text, also=(key,))
