"""``aether reset``: clear the working state, keep what the user taught the colony.

Order, all under the colony lock: (1) archive the whole colony into a verified chamber; (2) if
``--export FILE``, write the memory export; (3) clear the state's working fields and commit;
(4) remove the compacted events/workers files and the breaker file (they are in the chamber),
move HANDOFF.md into handoff-history/; (5) only with ``--forget-memory`` and its confirmation,
remove the memory files (they are in the chamber too).

Kept: colony id, goal, name, settings, legacy values and migration history in the state;
``.aether/memory/`` (unless --forget-memory); the profile; chambers; backups; the activity log.

The confirmation itself is the CLI's job (it owns the terminal); this module only insists
that ``--forget-memory`` comes with the colony's id or name typed back (``forget_confirmation``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aether import activity
from aether.chamber import Chamber, Progress, build_chamber, os_error
from aether.errors import ColonyStateConflict, ConfirmationRequired, MemoryFileError
from aether.files import fsync_dir, remove_file
from aether.memory import count_items, memory_files
from aether.ops.colony.memory import write_export
from aether.ops.session.handoff_file import move_handoff_to_history
from aether.records import field, record
from aether.state.model import ColonyState, Plan, Session
from aether.state.store import Store
from aether.timeutil import iso, new_id
from aether.workspace import Workspace

RESET_LABEL = "before-reset"


@record
class ResetPlan:
    colony_id: str
    goal: str
    name: str | None
    cleared: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    memory_items: int = 0
    #: workers that may still be running (a sign of life within the heartbeat limit)
    running: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "colony_id": self.colony_id,
            "goal": self.goal,
            "cleared": self.cleared,
            "kept": self.kept,
            "memory_items": self.memory_items,
            "running_workers": self.running,
        }


def running_workers(state: ColonyState) -> list[str]:
    """Workers a reset would cut off: spawned or running, with a sign of life (heartbeat,
    start or spawn) within the colony's heartbeat limit. Older ones are orphans already."""
    from aether.timeutil import age_seconds

    limit = state.settings.heartbeat_limit_s
    alive = []
    for w in state.workers:
        if w.status not in ("spawned", "running"):
            continue
        age = age_seconds(w.heartbeat_at or w.started_at or w.spawned_at)
        if age is None or age <= limit:
            alive.append(w.id)
    return alive


def refuse_running(plan: ResetPlan) -> None:
    if plan.running:
        raise ColonyStateConflict(
            f"{len(plan.running)} worker(s) may still be running: " + ", ".join(plan.running[:5]),
            meaning="a reset now would clear them while they work, and what they report could "
            "not be recorded; nothing was changed",
            fix="wait for them to finish (`aether workers`), or `aether reset --force` to reset "
            "anyway",
        )


def _memory_total(ws: Workspace) -> int:
    try:
        return sum(count_items(ws.memory_dir).values())
    except MemoryFileError:
        return -1


def plan_reset(ws: Workspace, state: ColonyState, *, forget_memory: bool) -> ResetPlan:
    plan = ResetPlan(
        state.colony_id,
        state.goal,
        state.name,
        memory_items=_memory_total(ws),
        running=running_workers(state),
    )
    c, k = plan.cleared.append, plan.kept.append
    c(
        {
            "what": "workers",
            "detail": f"{len(state.workers)} in the state, "
            f"{sum(x.total for x in state.worker_counts.values())} compacted counts",
        }
    )
    c(
        {
            "what": "plan",
            "detail": f"{len(state.plan.phases)} phases, current phase "
            f"{state.current_phase if state.current_phase is not None else '-'}",
        }
    )
    c({"what": "session", "detail": f"{state.session.id} (a new session starts)"})
    c(
        {
            "what": "events",
            "detail": f"{len(state.events)} in the state, {state.events_archived} compacted",
        }
    )
    c(
        {
            "what": "errors and signals",
            "detail": f"{len(state.errors)} errors, {len(state.signals)} signals",
        }
    )
    for path in (ws.events_archive, ws.workers_history, ws.breaker_file):
        if path.exists():
            c({"what": "file", "detail": str(path.relative_to(ws.root))})
    if ws.handoff_file.exists():
        c({"what": "handoff", "detail": "HANDOFF.md moves to handoff-history/"})
    memory = f"{plan.memory_items} items" if plan.memory_items >= 0 else "unreadable files"
    (c if forget_memory else k)({"what": "memory", "detail": f".aether/memory/ ({memory})"})
    k({"what": "colony", "detail": f"id {state.colony_id}, goal, name, settings"})
    k({"what": "profile", "detail": ws.profile_file.name})
    k({"what": "chambers", "detail": "every archive, plus the one made now"})
    k({"what": "backups and activity log", "detail": "data/backups/, activity.log"})
    return plan


@record
class ResetResult:
    plan: ResetPlan
    dry_run: bool
    chamber: Chamber | None = None
    export: Path | None = None
    memory_forgotten: bool = False
    session_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "dry_run": self.dry_run,
            "chamber": self.chamber.to_json() if self.chamber else None,
            "export": str(self.export) if self.export else None,
            "memory_forgotten": self.memory_forgotten,
            "session_id": self.session_id,
            **self.plan.to_json(),
        }


def clear_working_state(state: ColonyState, chamber: str) -> None:
    old = state.session
    stamp = iso()
    state.plan = Plan()
    state.current_phase = None
    state.workers = []
    state.worker_counts = {}
    state.events = []
    state.events_archived = 0
    state.errors = []
    state.signals = []
    state.status = "idle"
    state.status_detail = None
    state.session = Session(
        id=new_id("session"), started_at=stamp, previous_ids=[*old.previous_ids, old.id][-50:]
    )
    state.add_event(
        "colony.reset",
        f"working state cleared; archived in chambers/{chamber}",
        source="reset",
        chamber=chamber,
    )


def preview_reset(ws: Workspace, *, forget_memory: bool = False) -> ResetResult:
    """What ``reset`` would do (``--dry-run``, and what the CLI shows before asking)."""
    state = Store(ws).load().state
    return ResetResult(plan_reset(ws, state, forget_memory=forget_memory), dry_run=True)


def reset_colony(
    ws: Workspace,
    *,
    forget_memory: bool = False,
    forget_confirmation: str | None = None,
    export: Path | None = None,
    label: str | None = None,
    progress: Progress | None = None,
    lock_timeout: float | None = None,
    force: bool = False,
) -> ResetResult:
    store = Store(ws, lock_timeout=lock_timeout)
    with store.transaction() as tx:
        s = tx.state
        if forget_memory and (
            not forget_confirmation or forget_confirmation.strip() not in {s.colony_id, s.name}
        ):
            raise ConfirmationRequired(
                "--forget-memory needs the colony id or name typed back"
                + (f" (got {forget_confirmation!r})" if forget_confirmation else ""),
                meaning="it deletes every learning, decision and instinct; nothing was changed",
                fix=f"pass --confirm-colony {s.colony_id} (or answer the prompt in a terminal)",
            )
        plan = plan_reset(ws, s, forget_memory=forget_memory)
        if not force:
            refuse_running(plan)
        # the export is not destructive and fails fast (file exists, no directory): first
        exported = write_export(ws, export, force=False).path if export else None
        chamber = build_chamber(ws, s, label=label or RESET_LABEL, progress=progress)
        clear_working_state(s, chamber.name)
    result = ResetResult(
        plan, dry_run=False, chamber=chamber, export=exported, session_id=tx.state.session.id
    )
    with store.lock():
        for path in (ws.events_archive, ws.workers_history, ws.breaker_file):
            remove_file(path)
        move_handoff_to_history(ws, f"reset-{plan.colony_id}", None)
        if forget_memory:
            for path in memory_files(ws.memory_dir):
                try:
                    os.unlink(path)
                except OSError as exc:
                    raise os_error(exc, path, "removing") from None
            if ws.memory_dir.is_dir():
                fsync_dir(ws.memory_dir)
            result.memory_forgotten = True
    activity.log(
        ws,
        "reset",
        chamber=chamber.name,
        forget_memory=forget_memory,
        export=str(exported) if exported else None,
    )
    return result
