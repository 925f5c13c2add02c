"""HANDOFF.md as Markdown: one function per section, joined by :func:`render_handoff`.

Pure (the state, memory and git facts come in as arguments), so the golden tests in
``tests/golden/`` pin the exact bytes. The machine-readable block at the end is the one
:func:`aether.handoff.parse_handoff` reads back; the prose above it is for people and is never
parsed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aether.handoff import (
    HANDOFF_FORMAT,
    MARKER,
    GitInfo,
    document_for,
    handoff_workers,
)
from aether.memory import MemoryItem
from aether.session_report import (
    session_label,
    session_workers,
    sessions_of,
    tokens_text,
)
from aether.state.model import (
    FINISHED_WORKER_STATUSES,
    ORPHAN_WORKER_STATUSES,
    ColonyState,
    Phase,
    Worker,
)
from aether.text import cut_front, json_visible, visible
from aether.worker_tree import indent, tree_order

if TYPE_CHECKING:
    from aether.runtimes.adapter import Runtime

#: how many memory items of each kind the prose shows (all of them stay in .aether/memory/)
RECENT_MEMORY = 5
MAX_CELL = 80
#: how much of a session's last message the handoff quotes (its end)
LAST_WORDS_CHARS = 4000
WORKER_COLUMNS = (
    "id",
    "caste",
    "model",
    "profile hash",
    "verified",
    "task",
    "status",
    "last heartbeat",
)


def render_handoff(
    state: ColonyState,
    *,
    memory: dict[str, list[MemoryItem]],
    git: GitInfo | None,
    aether_version: str,
) -> str:
    """The whole HANDOFF.md for a paused ``state`` (pure: same input, same bytes)."""
    phase = state.phase_in_progress()
    listed = handoff_workers(state)
    out = [
        *_header(state, aether_version),
        *_goal(state),
        *_status(state, phase, git),
        *_phase_tasks(phase),
        *_workers(state, listed),
        *_sessions(state),
        *_caste_models(state),
        *_memory(memory, "decision", "Recent decisions"),
        *_memory(memory, "learning", "Recent learnings"),
        *_memory(memory, "instinct", "Instincts"),
        *_blockers(state),
        *_note(state),
        *_next_steps(state, listed, phase),
        "## Machine-readable block",
        "",
        f"{MARKER} format {HANDOFF_FORMAT}: read by `aether resume`; do not edit -->",
    ]
    # user text is stored exactly; in the prose its control characters show as escapes, and
    # the JSON block escapes them the JSON way, so the values read back unchanged
    prose = visible("\n".join(out))
    doc = document_for(state, git)
    block = json_visible(json.dumps(doc.to_json(), sort_keys=True, indent=2, ensure_ascii=False))
    return f"{prose}\n```json\n{block}\n```\n"


# --- Markdown pieces ---------------------------------------------------------------------------


def _cell(value: object, limit: int = MAX_CELL) -> str:
    text = "-" if value is None or value == "" else str(value)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines.extend("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows)
    return lines


def _section(title: str, body: list[str]) -> list[str]:
    return [f"## {title}", "", *body, ""]


# --- the sections, in document order -----------------------------------------------------------


def _header(s: ColonyState, aether_version: str) -> list[str]:
    session = s.session
    heading = " ".join((s.name or " ".join(s.goal.split())).split())
    paused = s.status == "paused"
    when = (
        f"Paused {session.paused_at or '(time unknown)'}"
        if paused
        else f"Checkpoint {s.updated_at}, written while the session was still running"
    )
    how = (
        "To continue, run this in the project directory (the one holding `.aether/`):"
        if paused
        else "If that session ended without `aether pause`, continue with this in the project "
        "directory (the one holding `.aether/`):"
    )
    runtimes = _session_runtimes(s)
    if runtimes:
        names = " or ".join(rt.display_name for rt in runtimes)
        anywhere = all(rt.starts_anywhere_in_project for rt in runtimes)
        where = " — any directory of it, or any worktree of its repository" if anywhere else ""
        how = (
            f"To continue, start {names} in the project{where}: its session-start hook resumes "
            f"the colony and briefs the main agent. Without {names}, run this in the project "
            "directory:"
        )
    return [
        f"# Handoff: {heading[:119] + '…' if len(heading) > 120 else heading}",
        "",
        f"{when} · colony `{s.colony_id}` · "
        f"session `{session.id}` · state serial {s.serial} · aether {aether_version}",
        "",
        how,
        "",
        "```sh",
        "aether resume" if paused else "aether resume --force",
        "```",
        "",
    ]


def _goal(s: ColonyState) -> list[str]:
    return _section("Goal", s.goal.strip().splitlines() or ["-"])


def _status(s: ColonyState, phase: Phase | None, git: GitInfo | None) -> list[str]:
    session = s.session
    status = s.status + (f" ({s.status_detail})" if s.status_detail else "")
    lines = [f"- status: {status}"]
    if phase is not None:
        lines.append(f"- current phase: {_cell(phase.id)} — {_cell(phase.name)} ({phase.status})")
    elif s.plan.phases:
        current = "-" if s.current_phase is None else s.current_phase
        lines.append(f"- current phase: {current} (the plan has {len(s.plan.phases)} phases)")
    else:
        lines.append("- plan: none recorded yet")
    lines.append(f"- session started: {session.started_at}")
    if session.resumed_at:
        lines.append(f"- last resumed: {session.resumed_at}")
    if git is not None:
        lines.append(f"- git: branch {git.branch or '(detached)'} at {git.head or '(no commits)'}")
    return _section("Status", lines)


def _phase_tasks(phase: Phase | None) -> list[str]:
    if phase is None:
        return []
    rows = [(t.id, t.status, t.caste, t.description) for t in phase.tasks]
    body = (
        _table(("task", "status", "caste", "description"), rows)
        if rows
        else ["No tasks recorded for this phase."]
    )
    return [f"### Tasks of phase {_cell(phase.id)}", "", *body, ""]


def _workers(s: ColonyState, listed: list[Worker]) -> list[str]:
    lines: list[str] = []
    if listed:
        ids = {w.id for w in listed}
        rows = [(d, w) for d, w in tree_order(s.workers) if w.id in ids]
        lines.extend(_table(WORKER_COLUMNS, [_worker_row(w, d) for d, w in rows]))
        unverified = sum(1 for w in listed if not w.verified)
        if unverified:
            lines += [
                "",
                f"{unverified} of these were not verified against the proxy (spawned with "
                "`--no-proxy` or standalone).",
            ]
    else:
        lines.append("None: no worker was running or waiting to start.")
    finished = sum(1 for w in s.workers if not w.is_main_session) - len(listed)
    compacted = sum(c.total for c in s.worker_counts.values())
    lines += [
        "",
        f"Finished workers: {finished} in the state, {compacted} compacted into "
        "`data/workers.history.jsonl`.",
    ]
    return _section("Workers in flight", lines)


def _worker_row(w: Worker, depth: int = 0) -> tuple[object, ...]:
    verified = "yes" if w.verified else "no"
    status = w.status + (" (handed back to be re-run)" if w.rerun_requested_at else "")
    return (
        indent(depth) + w.id,
        w.caste,
        w.model,
        w.profile_hash,
        verified,
        w.task,
        status,
        w.heartbeat_at or w.started_at,
    )


def _sessions(s: ColonyState) -> list[str]:
    """Every agent session of this colony session: where it ran, how it ended, its own
    tokens, its last message (its end) and the workers it ran, with their outcome."""
    sessions = sessions_of(s, s.session.id)
    if not sessions:
        return []
    lines: list[str] = []
    for session in sessions:
        lines += _session(s, session)
    return _section("Sessions", lines)


def _session(s: ColonyState, session: Worker) -> list[str]:
    rt = session.runtime or {}
    where = rt.get("worktree") or rt.get("cwd") or "-"
    ended = session.finished_at or "-"
    lines = [
        f"### {session_label(session)}",
        "",
        f"- in `{where}`, started {session.started_at}, "
        + (f"ended {ended}" if session.status != "running" else "still live"),
        f"- its main agent: {session.model}, {tokens_text(session)}",
    ]
    if session.fail_reason:
        lines.append(f"- {_cell(session.fail_reason, 300)}")
    lines.append("")
    if session.result:
        lines += ["Its last message (its end):", ""]
        lines += [f"> {line}" if line else ">" for line in _quoted(session.result)]
        lines.append("")
    workers = session_workers(s, session)
    if workers:
        ids = {w.id for w in workers}
        rows = [
            (indent(d - 1) + w.id, w.caste, w.model, w.status, tokens_text(w), w.result)
            for d, w in tree_order(s.workers)
            if w.id in ids
        ]
        lines += _table(("worker", "caste", "model", "status", "tokens", "result"), rows)
    else:
        lines.append("It ran no workers.")
    return [*lines, ""]


def _quoted(text: str) -> list[str]:
    return cut_front(text, LAST_WORDS_CHARS).splitlines()


def _caste_models(s: ColonyState) -> list[str]:
    session = s.session
    lines = [f"Profile hash: `{session.profile_hash_at_pause or 'unknown'}`", ""]
    if session.caste_models_at_pause:
        lines.extend(_table(("caste", "model"), sorted(session.caste_models_at_pause.items())))
    else:
        lines.append("Not recorded (the profile could not be read at pause).")
    return _section("Model per caste at pause", lines)


def _memory(memory: dict[str, list[MemoryItem]], kind: str, title: str) -> list[str]:
    everything = memory.get(kind, [])
    items = sorted(everything, key=lambda i: (i.created_at, i.id))[-RECENT_MEMORY:][::-1]
    lines = [
        f"- {_cell(item.text, 300)}" + (f" (phase {item.phase})" if item.phase else "")
        for item in items
    ] or [f'None recorded. Add one: `aether memory add {kind} "TEXT"`.']
    if len(everything) > len(items):
        more = len(everything) - len(items)
        lines.append(f"- … and {more} more: `aether memory list --kind {kind}`")
    return _section(title, lines)


def _blockers(s: ColonyState) -> list[str]:
    blockers: list[str] = []
    for err in s.errors[-5:]:
        text = err.get("message") or err.get("error") or err.get("description") or err
        blockers.append(f"- {_cell(text, 300)}")
    for w in s.workers:
        if w.status == "failed":
            blockers.append(f"- worker {w.id} ({w.caste}) failed: {_cell(w.fail_reason, 200)}")
        if w.model_mismatch:
            ran = w.resolved_model or w.model_used or "another model"
            blockers.append(
                f"- worker {w.id} ({w.caste}) was assigned {_cell(w.model)} but ran on "
                f"{_cell(ran)}: model routing did not hold"
            )
    return _section("Blockers and errors", blockers[-10:] or ["None recorded."])


def _note(s: ColonyState) -> list[str]:
    lines = (s.session.note or "").strip().splitlines() or [
        'No note was given (next time: `aether pause --note "TEXT"`).'
    ]
    return _section("What was happening", lines)


def _session_runtimes(s: ColonyState) -> list[Runtime]:
    """The agent runtimes the colony's recorded sessions ran in, in the order they first came."""
    from aether.runtimes.registry import runtime

    found: list[Runtime] = []
    for session in sessions_of(s):
        rt = runtime(str((session.runtime or {}).get("kind", "")))
        if rt not in found:
            found.append(rt)
    return found


def _next_steps(s: ColonyState, listed: list[Worker], phase: Phase | None) -> list[str]:
    runtimes = _session_runtimes(s)
    names = " or ".join(rt.display_name for rt in runtimes)
    respawn = ", ".join(
        f"a {rt.display_name} subagent by spawning it again with {rt.spawn_tool} (its "
        f'{rt.task_parameter} saying "replaces ID")'
        for rt in runtimes
    )
    lines = [
        f"1. Start {names} in the project: the colony resumes by itself (or run `aether "
        "resume`, which checks this handoff, profile and git drift, and marks workers that did "
        "not finish as `lost` or `never_started`)."
        if runtimes
        else "1. `aether resume` — checks this handoff, profile and git drift, and marks "
        "workers that did not finish as `lost` or `never_started`."
    ]
    in_flight = [w for w in listed if w.status not in FINISHED_WORKER_STATUSES]
    if in_flight or any(w.status in ORPHAN_WORKER_STATUSES for w in listed):
        lines.append(
            f"2. For each unfinished worker: re-run it — {respawn}, others with "
            "`aether resume --respawn` or `aether worker respawn ID` — or close it: "
            '`aether worker close ID --reason "…"`.'
            if runtimes
            else "2. Replace unfinished workers on their pinned model: "
            "`aether resume --respawn` (or `aether worker respawn ID`), or close one that is "
            'not needed: `aether worker close ID --reason "…"`.'
        )
    else:
        lines.append("2. Nothing was in flight; continue with the plan.")
    pending = [t for t in (phase.tasks if phase is not None else []) if t.status != "completed"]
    if pending:
        lines.append(f"3. Open tasks in this phase: {', '.join(_cell(t.id) for t in pending[:8])}.")
    return _section("Next steps", lines)
