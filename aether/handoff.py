"""HANDOFF.md: what a person (or agent) who has forgotten everything needs to pick up a colony.

Pure: :func:`render_handoff` turns the state (plus memory and git facts the caller gathered)
into Markdown, and :func:`parse_handoff` reads back the fenced machine-readable JSON block at its
end. Nothing here touches the disk or the clock except through its arguments, so the golden
tests in ``tests/golden/`` pin the exact output.

The machine block is what ``aether resume`` checks (colony id, serial, session, workers); the
prose above it is for people and is never parsed. The block is always the *last* fenced block
after the ``aether:handoff`` marker, so text a user put in the goal or the note can never be
mistaken for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aether.errors import HandoffError
from aether.files import loads_strict
from aether.memory import MemoryItem
from aether.records import field, record
from aether.state.model import FINISHED_WORKER_STATUSES, ColonyState, Worker
from aether.text import json_visible, visible

HANDOFF_FORMAT = 1
MARKER = "<!-- aether:handoff"
#: how many memory items of each kind the prose shows (all of them stay in .aether/memory/)
RECENT_MEMORY = 5
MAX_CELL = 80
ORPHAN_STATUSES = frozenset({"lost", "never_started"})


@record(frozen=True)
class GitInfo:
    head: str | None
    branch: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"head": self.head, "branch": self.branch}


@record(frozen=True)
class HandoffWorker:
    id: str
    caste: str
    model: str
    status: str
    profile_hash: str
    verified: bool
    task: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "caste": self.caste,
            "model": self.model,
            "status": self.status,
            "profile_hash": self.profile_hash,
            "verified": self.verified,
            "task": self.task,
        }


@record(frozen=True)
class HandoffDocument:
    """The machine-readable block of a HANDOFF.md."""

    colony_id: str
    serial: int
    session_id: str
    paused_at: str | None
    profile_hash: str | None
    caste_models: dict[str, str]
    git: GitInfo | None
    workers: tuple[HandoffWorker, ...] = ()
    note: str | None = None
    goal: str = ""
    format: int = HANDOFF_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "colony_id": self.colony_id,
            "serial": self.serial,
            "session_id": self.session_id,
            "paused_at": self.paused_at,
            "goal": self.goal,
            "note": self.note,
            "profile_hash": self.profile_hash,
            "caste_models": dict(sorted(self.caste_models.items())),
            "git": self.git.to_json() if self.git else None,
            "workers": [w.to_json() for w in self.workers],
        }


def handoff_workers(state: ColonyState) -> list[Worker]:
    """Workers a handoff lists: in flight, plus orphans nobody has replaced yet."""
    return [
        w
        for w in state.workers
        if w.status not in FINISHED_WORKER_STATUSES
        or (w.status in ORPHAN_STATUSES and not w.replaced_by)
    ]


def document_for(state: ColonyState, git: GitInfo | None) -> HandoffDocument:
    session = state.session
    return HandoffDocument(
        colony_id=state.colony_id,
        serial=state.serial,
        session_id=session.id,
        paused_at=session.paused_at,
        profile_hash=session.profile_hash_at_pause,
        caste_models=dict(session.caste_models_at_pause),
        git=git,
        workers=tuple(
            HandoffWorker(
                id=w.id,
                caste=w.caste,
                model=w.model,
                status=w.status,
                profile_hash=w.profile_hash,
                verified=w.verified,
                task=w.task,
            )
            for w in handoff_workers(state)
        ),
        note=session.note,
        goal=state.goal,
    )


# --- rendering ---------------------------------------------------------------------------------


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


def _recent(items: Sequence[MemoryItem]) -> list[MemoryItem]:
    return sorted(items, key=lambda i: (i.created_at, i.id))[-RECENT_MEMORY:][::-1]


def render_handoff(
    state: ColonyState,
    *,
    memory: dict[str, list[MemoryItem]],
    git: GitInfo | None,
    aether_version: str,
) -> str:
    """The whole HANDOFF.md for a paused ``state`` (pure: same input, same bytes)."""
    s = state
    session = s.session
    out: list[str] = []
    title = " ".join(s.goal.split())
    heading = " ".join((s.name or title).split())
    out.append(f"# Handoff: {heading[:119] + '…' if len(heading) > 120 else heading}")
    out.append("")
    paused = s.status == "paused"
    when = (
        f"Paused {session.paused_at or '(time unknown)'}"
        if paused
        else f"Checkpoint {s.updated_at}, written while the session was still running"
    )
    out.append(
        f"{when} · colony `{s.colony_id}` · "
        f"session `{session.id}` · state serial {s.serial} · aether {aether_version}"
    )
    out.append("")
    if paused:
        out.append("To continue, run this in the project directory (the one holding `.aether/`):")
    else:
        out.append(
            "If that session ended without `aether pause`, continue with this in the project "
            "directory (the one holding `.aether/`):"
        )
    out.append("")
    out.append("```sh")
    out.append("aether resume" if paused else "aether resume --force")
    out.append("```")
    out.append("")

    out.append("## Goal")
    out.append("")
    out.extend(s.goal.strip().splitlines() or ["-"])
    out.append("")

    out.append("## Status")
    out.append("")
    status = s.status + (f" ({s.status_detail})" if s.status_detail else "")
    out.append(f"- status: {status}")
    phase = s.phase_in_progress()
    if phase is not None:
        out.append(f"- current phase: {_cell(phase.id)} — {_cell(phase.name)} ({phase.status})")
    else:
        current = "-" if s.current_phase is None else s.current_phase
        out.append(f"- current phase: {current} (plan has {len(s.plan.phases)} phases)")
    out.append(f"- session started: {session.started_at}")
    if session.resumed_at:
        out.append(f"- last resumed: {session.resumed_at}")
    if git is not None:
        out.append(f"- git: branch {git.branch or '(detached)'} at {git.head or '(no commits)'}")
    out.append("")

    if phase is not None:
        out.append(f"### Tasks of phase {_cell(phase.id)}")
        out.append("")
        if phase.tasks:
            out.extend(
                _table(
                    ("task", "status", "caste", "description"),
                    [(t.id, t.status, t.caste, t.description) for t in phase.tasks],
                )
            )
        else:
            out.append("No tasks recorded for this phase.")
        out.append("")

    out.append("## Workers in flight")
    out.append("")
    listed = handoff_workers(s)
    if listed:
        out.extend(
            _table(
                (
                    "id",
                    "caste",
                    "model",
                    "profile hash",
                    "verified",
                    "task",
                    "status",
                    "last heartbeat",
                ),
                [
                    (
                        w.id,
                        w.caste,
                        w.model,
                        w.profile_hash,
                        "yes" if w.verified else "no",
                        w.task,
                        w.status,
                        w.heartbeat_at or w.started_at,
                    )
                    for w in listed
                ],
            )
        )
        unverified = sum(1 for w in listed if not w.verified)
        if unverified:
            out.append("")
            out.append(
                f"{unverified} of these were not verified against the proxy (spawned with "
                "`--no-proxy` or standalone)."
            )
    else:
        out.append("None: no worker was running or waiting to start.")
    finished = len(s.workers) - len(listed)
    compacted = sum(c.total for c in s.worker_counts.values())
    out.append("")
    out.append(
        f"Finished workers: {finished} in the state, {compacted} compacted into "
        "`data/workers.history.jsonl`."
    )
    out.append("")

    out.append("## Model per caste at pause")
    out.append("")
    out.append(f"Profile hash: `{session.profile_hash_at_pause or 'unknown'}`")
    out.append("")
    if session.caste_models_at_pause:
        out.extend(_table(("caste", "model"), sorted(session.caste_models_at_pause.items())))
    else:
        out.append("Not recorded (the profile could not be read at pause).")
    out.append("")

    for kind, title_ in (("decision", "Recent decisions"), ("learning", "Recent learnings")):
        out.append(f"## {title_}")
        out.append("")
        items = _recent(memory.get(kind, []))
        if items:
            for item in items:
                phase_note = f" (phase {item.phase})" if item.phase else ""
                out.append(f"- {_cell(item.text, 300)}{phase_note}")
        else:
            out.append(f'None recorded. Add one: `aether memory add {kind} "TEXT"`.')
        total = len(memory.get(kind, []))
        if total > len(items):
            out.append(f"- … and {total - len(items)} more: `aether memory list --kind {kind}`")
        out.append("")

    out.append("## Blockers and errors")
    out.append("")
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
    out.extend(blockers[-10:] or ["None recorded."])
    out.append("")

    out.append("## What was happening")
    out.append("")
    out.extend(
        (session.note or "").strip().splitlines()
        or ['No note was given (next time: `aether pause --note "TEXT"`).']
    )
    out.append("")

    out.append("## Next steps")
    out.append("")
    out.append(
        "1. `aether resume` — checks this handoff, profile and git drift, and marks "
        "workers that did not finish as `lost` or `never_started`."
    )
    in_flight = [w for w in listed if w.status not in FINISHED_WORKER_STATUSES]
    if in_flight or any(w.status in ORPHAN_STATUSES for w in listed):
        out.append(
            "2. Replace unfinished workers on their pinned model: "
            "`aether resume --respawn` (or `aether worker respawn ID`)."
        )
    else:
        out.append("2. Nothing was in flight; continue with the plan.")
    pending = [t for t in (phase.tasks if phase is not None else []) if t.status != "completed"]
    if pending:
        out.append(f"3. Open tasks in this phase: {', '.join(_cell(t.id) for t in pending[:8])}.")
    out.append("")

    doc = document_for(s, git)
    out.append("## Machine-readable block")
    out.append("")
    out.append(f"{MARKER} format {HANDOFF_FORMAT}: read by `aether resume`; do not edit -->")
    # user text is stored exactly; in the prose its control characters show as escapes, and
    # the JSON block escapes them the JSON way, so the values read back unchanged
    prose = visible("\n".join(out))
    block = json_visible(json.dumps(doc.to_json(), sort_keys=True, indent=2, ensure_ascii=False))
    return f"{prose}\n```json\n{block}\n```\n"


# --- parsing -----------------------------------------------------------------------------------


def _bad(why: str) -> HandoffError:
    return HandoffError(
        f"HANDOFF.md is unreadable: {why}",
        meaning="it was probably edited by hand; the colony state is the source of truth",
        fix="run `aether resume` (it works from the state) or `aether pause` to rewrite it",
    )


def _str_or_none(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(f"{key!r} is not a string")
    return value


def parse_handoff(text: str) -> HandoffDocument:
    """Read the machine block of a HANDOFF.md; ``HandoffError`` when it is missing or bad."""
    # the marker must start a line: inside the JSON every newline is escaped, so a goal or
    # note that quotes the marker can never be taken for the real block
    start = text.rfind("\n" + MARKER)
    if start < 0 and text.startswith(MARKER):
        start = 0
    if start < 0:
        raise _bad("no machine-readable block")
    opening = text.find("```json\n", start)
    if opening < 0:
        raise _bad("the machine-readable block has no ```json fence")
    body_start = opening + len("```json\n")
    closing = text.find("\n```", body_start)
    if closing < 0:
        raise _bad("the machine-readable block is not closed")
    try:
        doc = loads_strict(text[body_start:closing])
    except ValueError as exc:
        raise _bad(f"its JSON does not parse ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise _bad("its JSON is not an object")
    fmt = doc.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        raise _bad("'format' is missing")
    if fmt > HANDOFF_FORMAT:
        raise _bad(f"format {fmt} is newer than this aether understands ({HANDOFF_FORMAT})")
    colony_id = doc.get("colony_id")
    session_id = doc.get("session_id")
    serial = doc.get("serial")
    if not isinstance(colony_id, str) or not colony_id:
        raise _bad("'colony_id' is missing")
    if not isinstance(session_id, str) or not session_id:
        raise _bad("'session_id' is missing")
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 0:
        raise _bad("'serial' is not a non-negative integer")
    caste_models = doc.get("caste_models") or {}
    if not isinstance(caste_models, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in caste_models.items()
    ):
        raise _bad("'caste_models' is not a map of caste to model")
    git_raw = doc.get("git")
    git: GitInfo | None = None
    if isinstance(git_raw, dict):
        head, branch = git_raw.get("head"), git_raw.get("branch")
        git = GitInfo(
            head=head if isinstance(head, str) else None,
            branch=branch if isinstance(branch, str) else None,
        )
    elif git_raw is not None:
        raise _bad("'git' is not an object")
    workers_raw = doc.get("workers") or []
    if not isinstance(workers_raw, list):
        raise _bad("'workers' is not a list")
    workers: list[HandoffWorker] = []
    for raw in workers_raw:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise _bad("a worker entry has no id")
        workers.append(
            HandoffWorker(
                id=raw["id"],
                caste=str(raw.get("caste", "")),
                model=str(raw.get("model", "")),
                status=str(raw.get("status", "")),
                profile_hash=str(raw.get("profile_hash", "")),
                verified=raw.get("verified") is True,
                task=raw.get("task") if isinstance(raw.get("task"), str) else None,
            )
        )
    known = {
        "format",
        "colony_id",
        "serial",
        "session_id",
        "paused_at",
        "goal",
        "note",
        "profile_hash",
        "caste_models",
        "git",
        "workers",
    }
    return HandoffDocument(
        colony_id=colony_id,
        serial=serial,
        session_id=session_id,
        paused_at=_str_or_none(doc, "paused_at"),
        profile_hash=_str_or_none(doc, "profile_hash"),
        caste_models=dict(caste_models),
        git=git,
        workers=tuple(workers),
        note=_str_or_none(doc, "note"),
        goal=_str_or_none(doc, "goal") or "",
        format=fmt,
        extra={k: v for k, v in doc.items() if k not in known},
    )
