"""The session-start briefing: what the main model of a new agent session needs to carry on.

Pure, like ``aether.handoff``: the caller gathers the state, memory and what resuming found;
:func:`render_briefing` turns them into plain text that the agent runtime (Claude Code, Codex)
adds to the main model's context, in that runtime's words for spawning a worker. It is bounded
(``MAX_CHARS``): each part has a share, long texts are cut, and the whole is cut last with a
pointer to the commands that show everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aether.memory import MemoryItem
from aether.records import field, record
from aether.session_report import (
    live_sessions,
    session_label,
    session_workers,
    sessions_of,
    worker_summary,
)
from aether.state.model import FINISHED_WORKER_STATUSES, ColonyState, Worker
from aether.text import cut_front, one_line, visible
from aether.worker_tree import tree_order

if TYPE_CHECKING:
    from aether.runtimes.adapter import Runtime

MAX_CHARS = 6000
#: the sessions before this one that the briefing describes, and how much of each one's last
#: message it shows (HANDOFF.md keeps more)
LAST_SESSIONS = 3
LAST_WORDS_CHARS = 1200
#: memory items of each kind shown (the most relevant first)
MEMORY_ITEMS = 5
TEXT_CHARS = 240
MEMORY_SECTIONS = (("decision", "Decisions"), ("learning", "Learnings"), ("instinct", "Instincts"))


@record
class Opening:
    """How the session was opened: resumed from a pause (and what resuming found), or joined
    a colony that was already active; the sessions found dead on the way in; the record that
    stands for this session itself."""

    resumed: bool
    paused_at: str | None = None
    note: str | None = None
    previous_session: str | None = None
    findings: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    session_worker: str | None = None


def _relevance(item: MemoryItem, phase: str | None) -> tuple[int, float, str]:
    return (
        1 if phase is not None and item.phase == phase else 0,
        item.confidence if item.confidence is not None else 0.5,
        item.created_at,
    )


def relevant_memory(items: Sequence[MemoryItem], phase: str | None) -> list[MemoryItem]:
    """The current phase's items first, then the more confident, then the newer."""
    return sorted(items, key=lambda i: _relevance(i, phase), reverse=True)[:MEMORY_ITEMS]


def _worker_line(w: Worker, depth: int = 0) -> str:
    task = f" — {one_line(w.task, 120)}" if w.task else ""
    return f"{'  ' * depth}- {w.id}: {w.caste} on {w.model} ({w.status}){task}"


def _head(state: ColonyState, opening: Opening) -> list[str]:
    name = f" {one_line(state.name, 80)}" if state.name else ""
    out = [
        f"# aether colony{name} ({state.colony_id})",
        f"Goal: {one_line(state.goal, 1000)}",
    ]
    if opening.resumed:
        out.append(
            f"Resumed by aether: paused at {opening.paused_at or 'an unknown time'}, now "
            f"session {state.session.id}."
        )
    else:
        out.append(f"Session {state.session.id} (status {state.status}).")
    others = [
        w for w in live_sessions(state) if w.id != opening.session_worker and w.status == "running"
    ]
    if others:
        out.append(
            f"Working on this colony at the same time ({len(others)}): "
            + "; ".join(_where(w) for w in others[:4])
            + ". Do not mark their workers lost; their work is in flight."
        )
    phase = state.phase_in_progress()
    if phase is not None:
        open_tasks = [t for t in phase.tasks if t.status != "completed"]
        out.append(
            f"Phase {one_line(phase.id, 20)}: {one_line(phase.name, 120)} ({phase.status}; "
            f"{len(open_tasks)} open task(s): "
            + (", ".join(one_line(t.id, 40) for t in open_tasks[:8]) or "none")
            + ")"
        )
    elif not state.plan.phases:
        out.append("No plan is recorded yet.")
    out += [f"Found at resume: {one_line(f, 300)}" for f in opening.findings[:6]]
    out += [f"Found now: {one_line(d, 400)}" for d in opening.dead[:6]]
    return out


def _where(session: Worker) -> str:
    rt = session.runtime or {}
    place = rt.get("worktree") or rt.get("cwd") or "?"
    return f"{session_label(session)} in {one_line(place, 120)}"


def _last_sessions(state: ColonyState, opening: Opening) -> list[str]:
    """What the sessions before this one did: each one's last message (its end) and the
    workers it ran, with their outcome."""
    colony_session = opening.previous_session if opening.resumed else state.session.id
    ended = [
        w
        for w in sessions_of(state, colony_session)
        if w.status != "running" and w.id != opening.session_worker
    ][-LAST_SESSIONS:]
    if not ended:
        return (
            ["", "## Where the last session stopped", one_line(opening.note, 800)]
            if opening.note
            else []
        )
    out = ["", "## Where the last sessions stopped"]
    for session in ended:
        out.append(f"### {session_label(session)}")
        if session.result:
            out.append("Its last message (its end):")
            out.append(visible(cut_front(session.result, LAST_WORDS_CHARS)))
        workers = session_workers(state, session)
        if workers:
            out.append("Its workers:")
            out += [
                f"{'  ' * depth}- {w.id}: {visible(worker_summary(w))}"
                for depth, w in _depths(state, session, workers)[:10]
            ]
    return out


def _depths(state: ColonyState, session: Worker, workers: list[Worker]) -> list[tuple[int, Worker]]:
    ids = {w.id for w in workers}
    return [(d - 1, w) for d, w in tree_order(state.workers) if w.id in ids]


def _workers(state: ColonyState, rt: Runtime) -> list[str]:
    # the castes themselves are in the runtime's list of agents (aether-<caste>), and their
    # models are aether's business: the briefing does not repeat them in every request
    out = [
        "",
        "## Workers",
        f'Spawn aether workers with {rt.spawn_tool}, {rt.agent_parameter} "aether-<caste>"; '
        "aether routes each to the model its task calls for and records it.",
    ]
    alive = [
        (d, w)
        for d, w in tree_order(state.workers)
        if w.status not in FINISHED_WORKER_STATUSES and not w.is_main_session
    ]
    if alive:
        out.append(f"In flight ({len(alive)}):")
        out += [_worker_line(w, d) for d, w in alive[:10]]
    rerun = [w for w in state.workers if w.rerun_requested_at and not w.replaced_by]
    if rerun:
        out.append(
            f"Re-run these ({len(rerun)}; handed back by the user): spawn each again with "
            f'{rt.spawn_tool} and put "replaces <id>" in its {rt.task_parameter}, so aether '
            "links them:"
        )
        out += [
            f"- aether-{w.caste} (replaces {w.id}): {one_line(w.task or '(no task recorded)', 300)}"
            for w in rerun[:10]
        ]
    waiting = [w for w in state.workers if w.awaits_decision]
    if waiting:
        out.append(
            f"Did not finish ({len(waiting)}): re-run one with {rt.spawn_tool} "
            f'({rt.task_parameter} saying "replaces <id>"), or if it is not needed any more run '
            '`aether worker close <id> --reason "…"`:'
        )
        out += [_worker_line(w) for w in waiting[:10]]
    mismatched = [w for w in state.workers if w.model_mismatch]
    if mismatched:
        out.append(
            f"Model mismatches ({len(mismatched)}): "
            + ", ".join(f"{w.id} assigned {w.model}" for w in mismatched[:5])
        )
    return out


def _memory(memory: dict[str, list[MemoryItem]], phase: str | None) -> list[str]:
    out: list[str] = []
    for kind, title in MEMORY_SECTIONS:
        items = relevant_memory(memory.get(kind, []), phase)
        if not items:
            continue
        more = len(memory.get(kind, [])) - len(items)
        extra = f" (and {more} more: `aether memory list`)" if more > 0 else ""
        out += ["", f"## {title}{extra}"]
        out += [f"- {one_line(i.text, TEXT_CHARS)}" for i in items]
    return out


def render_briefing(
    state: ColonyState,
    *,
    memory: dict[str, list[MemoryItem]],
    opening: Opening,
    runtime: Runtime,
) -> str:
    """The briefing for a session of ``runtime``."""
    phase = None if state.current_phase is None else str(state.current_phase)
    lines = [
        *_head(state, opening),
        *_last_sessions(state, opening),
        *_workers(state, runtime),
        *_memory(memory, phase),
    ]
    text = "\n".join(lines).strip() + "\n"
    if len(text) > MAX_CHARS:
        tail = "\n… (cut; `aether status` and `aether memory list` show everything)\n"
        text = text[: MAX_CHARS - len(tail)].rsplit("\n", 1)[0] + tail
    return text
