"""``init`` and ``status``."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from aether import activity
from aether.errors import InvalidInput
from aether.files import atomic_write_text, list_temp_files
from aether.records import field, record
from aether.redaction import admitted, admitted_or_none
from aether.session_report import session_state, sessions_of
from aether.state.migrations import CURRENT_VERSION
from aether.state.model import FINISHED_WORKER_STATUSES, ColonyState, Session, Worker
from aether.state.store import Store
from aether.timeutil import iso, new_id
from aether.worker_tree import tree_order
from aether.workspace import Workspace

MAX_GOAL_CHARS = 10_000


@record
class InitResult:
    ws: Workspace
    state: ColonyState
    replaced_backup: Path | None
    profile_written: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "colony_id": self.state.colony_id,
            "goal": self.state.goal,
            "root": str(self.ws.root),
            "state_file": str(self.ws.state_file),
            "version": self.state.version,
            "serial": self.state.serial,
            "replaced_backup": str(self.replaced_backup) if self.replaced_backup else None,
            "profile_written": self.profile_written,
        }


def init_colony(
    ws: Workspace, goal: str, *, force: bool, name: str | None = None, nested: bool = False
) -> InitResult:
    goal = admitted(goal.strip())
    name = admitted_or_none(name)
    if not goal:
        raise InvalidInput(
            "the goal is empty", fix='say what the colony is for: aether init "GOAL"'
        )
    if len(goal) > MAX_GOAL_CHARS:
        raise InvalidInput(
            f"the goal is {len(goal)} characters long (limit {MAX_GOAL_CHARS})",
            fix="state the goal in a sentence or two; put details in the plan",
        )
    if not nested and not ws.exists():
        _refuse_nesting(ws)
    for directory in (ws.data_dir, ws.memory_dir, ws.chambers_dir):
        directory.mkdir(parents=True, exist_ok=True)
    now = iso()
    state = ColonyState(
        version=CURRENT_VERSION,
        colony_id=f"colony-{os.urandom(8).hex()}",
        serial=1,
        created_at=now,
        updated_at=now,
        goal=goal,
        name=name,
        status="active",
        session=Session(id=new_id("session"), started_at=now),
    )
    store = Store(ws)
    backup = store.create(state, force=force)
    profile_written = False
    if not ws.profile_file.exists():
        from aether.routing.defaults import default_profile_text

        atomic_write_text(ws.profile_file, default_profile_text())
        profile_written = True
    activity.log(
        ws,
        "init",
        colony_id=state.colony_id,
        goal=goal,
        replaced_backup=str(backup) if backup else None,
    )
    return InitResult(ws=ws, state=state, replaced_backup=backup, profile_written=profile_written)


def _refuse_nesting(ws: Workspace) -> None:
    """A colony inside another colony's project would silently take over every command run
    below it (discovery finds the nearest); like git, say so and create it only when asked."""
    from aether.errors import ColonyExists
    from aether.workspace import enclosing

    outer = enclosing(ws.project)
    if outer is not None:
        raise ColonyExists(
            f"{ws.project} is inside the project of the colony at {outer.root}",
            meaning="a colony here would take over every aether command run below this "
            "directory; nothing was created",
            fix="run aether commands here to use that colony, or pass --nested to create a "
            "separate colony here",
        )


@record
class StatusResult:
    ws: Workspace
    state: ColonyState
    upgraded_from: str | None
    temp_files: int
    workers_by_caste_model: list[tuple[str, str, int]] = field(default_factory=list)
    active_workers: int = 0
    unverified_active: int = 0
    mismatched: int = 0
    #: (depth, worker) for the workers of the current colony session, in tree order
    tree: list[tuple[int, Worker]] = field(default_factory=list)
    #: paid probes and reused proofs of the current colony session (proxy_proofs.probe_counts)
    probes: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        s = self.state
        return {
            "ok": True,
            "colony_id": s.colony_id,
            "name": s.name,
            "goal": s.goal,
            "status": s.status,
            "status_detail": s.status_detail,
            "version": s.version,
            "serial": s.serial,
            "current_phase": s.current_phase,
            "phases": len(s.plan.phases),
            "session": s.session.model_dump(mode="json"),
            "workers": {
                "total": len(s.workers),
                "active": self.active_workers,
                "unverified_active": self.unverified_active,
                "model_mismatches": self.mismatched,
                "compacted": sum(c.total for c in s.worker_counts.values()),
                "by_caste_model": [
                    {"caste": c, "model": m, "count": n} for c, m, n in self.workers_by_caste_model
                ],
            },
            "sessions": [_session_json(w) for w in sessions_of(s)],
            "proxy": self.probes,
            "tree": [
                {
                    "id": w.id,
                    "depth": depth,
                    "parent_id": w.parent_id,
                    "caste": w.caste,
                    "model": w.model,
                    "status": w.status,
                }
                for depth, w in self.tree
            ],
            "events": [e.model_dump(mode="json") for e in s.events[-10:]],
            "events_archived": s.events_archived,
            "upgraded_from": self.upgraded_from,
            "state_file": str(self.ws.state_file),
            "leftover_temp_files": self.temp_files,
        }


def _session_json(w: Worker) -> dict[str, Any]:
    rt = w.runtime or {}
    return {
        "worker_id": w.id,
        "runtime": rt.get("kind"),
        "session_id": rt.get("session_id"),
        "status": session_state(w),
        "cwd": rt.get("cwd"),
        "worktree": rt.get("worktree"),
        "started_at": w.started_at,
        "last_seen": w.heartbeat_at,
        "ended_at": w.finished_at,
    }


def colony_status(ws: Workspace) -> StatusResult:
    """The colony at a glance. An agent session's own record is shown as a session, not
    counted among the workers."""
    from aether.ops.spawn.proxy_proofs import probe_counts

    loaded = Store(ws).load()
    state = loaded.state
    workers = [w for w in state.workers if not w.is_main_session]
    counts: Counter[tuple[str, str]] = Counter((w.caste, w.model) for w in workers)
    active = [w for w in workers if w.status not in FINISHED_WORKER_STATUSES]
    mine = {w.id for w in state.workers if w.session_id == state.session.id}
    return StatusResult(
        ws=ws,
        state=state,
        upgraded_from=loaded.upgraded_from,
        temp_files=len(list_temp_files(ws.data_dir)),
        workers_by_caste_model=sorted((c, m, n) for (c, m), n in counts.items()),
        active_workers=len(active),
        unverified_active=sum(1 for w in active if not w.verified),
        mismatched=sum(1 for w in workers if w.model_mismatch),
        tree=[(d, w) for d, w in tree_order(state.workers) if w.id in mine],
        probes=probe_counts(ws, state.session.id),
    )
