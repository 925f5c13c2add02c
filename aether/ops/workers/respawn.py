"""Orphans: workers a dead or paused session left behind, and their replacements.

Rules (docs/lifecycle.md), applied by ``aether resume`` to the workers of the session that ended:

* spawned but never reported a start → ``never_started``;
* started (heartbeat or ``--exec`` start) and no sign of life after the session ended
  (``paused_at``) → ``lost``;
* last heartbeat older than the limit → ``lost`` as well: ``settings.heartbeat_limit_s``
  (default 3600 s), or ``resume --heartbeat-limit SECONDS`` / ``AETHER_HEARTBEAT_LIMIT``.

A worker that kept heartbeating after the pause, within the limit, is alive and left alone.
A crashed session (``resume --force``) has no known end, so only the limit decides: a worker
with a sign of life (heartbeat, start, or spawn) within it is left alone, older ones are
``lost``/``never_started``.
Orphans are marked and listed, never re-run silently: ``resume --respawn`` or
``aether worker respawn ID`` spawns a replacement with the same caste, task and pinned model
(``repin_to`` when ``--adopt-profile`` re-pinned it), linked both ways (respawn_of/replaced_by).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aether.errors import AetherError, WorkerNotFound, WorkerStateConflict
from aether.records import record
from aether.state.model import ORPHAN_WORKER_STATUSES, ColonyState, Worker
from aether.state.store import Store
from aether.timeutil import iso, parse_iso
from aether.workspace import Workspace


@record(frozen=True)
class Orphan:
    id: str
    caste: str
    model: str
    task: str | None
    previous_status: str
    status: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "caste": self.caste,
            "model": self.model,
            "task": self.task,
            "previous_status": self.previous_status,
            "status": self.status,
            "reason": self.reason,
        }


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        return None


def classify(
    worker: Worker, *, ended: datetime | None, now: datetime, limit_s: int
) -> Orphan | None:
    """What resume should call ``worker`` (None: leave it as it is).

    ``ended`` is when the previous session ended (its pause). ``None`` means it ended without a
    pause (``resume --force`` after a crash): nobody knows when, so only the heartbeat limit
    decides — a worker with a sign of life (spawn, start or heartbeat) within the limit may
    still be alive and is left as it is; older ones are orphans.
    """
    if worker.status not in ("spawned", "running"):
        return None

    def orphan(status: str, reason: str) -> Orphan:
        return Orphan(
            worker.id, worker.caste, worker.model, worker.task, worker.status, status, reason
        )

    started = worker.started_at or (worker.heartbeat_at if worker.status == "running" else None)
    # a worker report names the model the worker ran on: it started, whatever its status says
    ran = bool(started or worker.model_used)
    if ended is None:
        sign = _when(worker.heartbeat_at or worker.started_at or worker.spawned_at)
        age = None if sign is None else (now - sign).total_seconds()
        if age is not None and age <= limit_s:
            return None
        silence = "an unknown time" if age is None else f"{int(age)} s"
        tail = f"no sign of life for {silence} (limit {limit_s} s), and the previous session "
        tail += "ended without a pause"
        if worker.status == "spawned" and not ran:
            return orphan("never_started", f"spawned at {worker.spawned_at}, never started; {tail}")
        return orphan("lost", f"started at {worker.started_at or '?'}; {tail}")
    if worker.status == "spawned" and not ran:
        return orphan("never_started", f"spawned at {worker.spawned_at} and never reported a start")
    last_text = worker.heartbeat_at or worker.started_at
    last = _when(last_text)
    if last is None or last <= ended:  # second precision: "at the pause" is not "after"
        seen = last_text or (f"a report of {worker.model_used}" if worker.model_used else "never")
        return orphan(
            "lost",
            f"started at {worker.started_at or '?'}, last sign of life {seen}, "
            "and it did not finish before the session ended",
        )
    age = (now - last).total_seconds()
    if age > limit_s:
        return orphan("lost", f"last heartbeat {int(age)} s ago, over the {limit_s} s limit")
    return None


def mark_orphans(
    state: ColonyState, *, ended: datetime | None, now: datetime, limit_s: int | None = None
) -> list[Orphan]:
    """Mark orphans in ``state`` (the caller holds the transaction) and return them.

    ``limit_s`` overrides ``settings.heartbeat_limit_s`` for this call (``resume
    --heartbeat-limit``). An agent session's own record, and the workers of a session that is
    still live, are not resume's to judge (aether.ops.session.agent_sessions finds dead sessions).
    """
    from aether.ops.session.agent_sessions import is_live_worker

    found: list[Orphan] = []
    stamp = iso(now)
    limit = limit_s if limit_s is not None else state.settings.heartbeat_limit_s
    for worker in state.workers:
        if worker.is_main_session or is_live_worker(state, worker):
            continue
        orphan = classify(worker, ended=ended, now=now, limit_s=limit)
        if orphan is None:
            continue
        worker.status = "lost" if orphan.status == "lost" else "never_started"
        worker.finished_at = stamp
        worker.fail_reason = orphan.reason
        state.add_event(
            f"worker.{orphan.status}",
            f"{worker.id} ({worker.caste} on {worker.model}) marked {orphan.status}",
            source="resume",
            worker_id=worker.id,
            reason=orphan.reason,
        )
        found.append(orphan)
    return found


def pending_orphans(state: ColonyState) -> list[Worker]:
    """Orphans nobody has replaced, closed or handed back to be re-run yet."""
    return [w for w in state.workers if w.awaits_decision]


#: an orphan left undecided through this many resumes is closed (listed no more)
ORPHAN_RESUME_LIMIT = 3


def age_orphans(state: ColonyState, stamp: str) -> list[str]:
    """At each resume every undecided orphan (and each re-run request nobody took up) waits
    one more session; after ``ORPHAN_RESUME_LIMIT`` it is closed, so no stale table repeats in
    every handoff and briefing. Returns the ids closed."""
    closed: list[str] = []
    for w in state.workers:
        waiting = w.awaits_decision or (w.rerun_requested_at and not w.replaced_by)
        if not waiting or w.closed_at:
            continue
        w.orphan_resumes += 1
        if w.orphan_resumes >= ORPHAN_RESUME_LIMIT:
            w.closed_at = stamp
            w.close_reason = (
                f"closed by aether: neither re-run nor closed in {ORPHAN_RESUME_LIMIT} sessions"
            )
            w.rerun_requested_at = None
            closed.append(w.id)
    if closed:
        state.add_event(
            "worker.closed",
            f"{len(closed)} orphan(s) waited {ORPHAN_RESUME_LIMIT} sessions and were closed",
            source="resume",
            workers=closed,
        )
    return closed


@record
class RespawnOutcome:
    lost_id: str
    caste: str
    pinned_model: str
    worker: dict[str, Any] | None = None
    error: AetherError | None = None
    #: an agent runtime's subagent is not re-run by aether: it is handed back to the next
    #: session's main agent (its briefing says "re-run these") and linked when one starts
    handed_back: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "lost_id": self.lost_id,
            "caste": self.caste,
            "pinned_model": self.pinned_model,
            "worker": self.worker,
            "handed_back": self.handed_back,
        }
        if self.error is not None:
            out["error"] = self.error.to_json()["error"]
        return out


def check_respawnable(state: ColonyState, worker_id: str) -> Worker:
    worker = state.worker(worker_id)
    if worker is None:
        raise WorkerNotFound(
            f"no worker {worker_id!r} in this colony",
            fix="list workers with `aether status --json`; finished ones compacted into "
            "data/workers.history.jsonl cannot be respawned",
        )
    if worker.replaced_by:
        raise WorkerStateConflict(
            f"worker {worker_id} was already replaced by {worker.replaced_by}",
            fix=f"respawn {worker.replaced_by} instead if it was lost too",
        )
    if worker.is_main_session:
        raise WorkerStateConflict(
            f"{worker_id} is the record of an agent session, not a worker",
            meaning="a session is not respawned; start a new one",
            fix=f"close it with `aether worker close {worker_id} --reason TEXT`",
        )
    if worker.closed_at:
        raise WorkerStateConflict(
            f"worker {worker_id} was closed ({worker.close_reason})",
            fix="spawn a new worker for its task",
        )
    if worker.status not in ORPHAN_WORKER_STATUSES:
        raise WorkerStateConflict(
            f"worker {worker_id} is {worker.status}; only lost or never_started workers are "
            "respawned",
            meaning="a running worker may still be alive; `aether resume` marks the ones that "
            "are not",
            fix="run `aether resume` after the session ends, then respawn",
        )
    return worker


def respawn_one(
    ws: Workspace, worker: Worker, *, no_proxy: bool, lock_timeout: float | None
) -> RespawnOutcome:
    """Spawn the replacement of one orphan through the spawn use case; an agent runtime's
    subagent is handed back to be re-run instead (a record nothing runs would only turn
    ``never_started`` and ask for another respawn)."""
    pinned = worker.repin_to or worker.model
    outcome = RespawnOutcome(lost_id=worker.id, caste=worker.caste, pinned_model=pinned)
    if _runtime_subagent(worker):
        return _hand_back(ws, worker, outcome, lock_timeout)
    try:
        from aether.ops.spawn.spawn import SpawnRequest, spawn_worker
        from aether.routing.resolve import RouteRequest

        result = spawn_worker(
            ws,
            SpawnRequest(
                RouteRequest(worker.caste, worker.task, pinned_model=pinned),
                respawn_of=worker.id,
                # an unverified worker was spawned without a proxy: its replacement is too,
                # unless the user asks otherwise (--no-proxy forces it for all)
                no_proxy=no_proxy or not worker.verified,
                lock_timeout=lock_timeout,
            ),
        )
    except AetherError as exc:
        outcome.error = exc
        return outcome
    outcome.worker = result.worker.model_dump(mode="json")
    return outcome


def _runtime_subagent(worker: Worker) -> bool:
    """Whether an agent runtime's hooks recorded ``worker`` as one of its subagents (not a
    headless run of ``aether spawn --exec``, whose record names the run's own kind)."""
    from aether.runtimes.registry import known

    return known((worker.runtime or {}).get("kind") or "") is not None


def _hand_back(
    ws: Workspace, worker: Worker, outcome: RespawnOutcome, lock_timeout: float | None
) -> RespawnOutcome:
    try:
        with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
            current = check_respawnable(tx.state, worker.id)
            current.rerun_requested_at = iso()
            current.orphan_resumes = 0
            tx.state.add_event(
                "worker.rerun_requested",
                f"{current.id} ({current.caste}) handed back to be re-run by the next session",
                worker_id=current.id,
            )
    except AetherError as exc:
        outcome.error = exc
        return outcome
    outcome.handed_back = True
    return outcome


def respawn_worker(
    ws: Workspace, worker_id: str, *, no_proxy: bool = False, lock_timeout: float | None = None
) -> RespawnOutcome:
    """``aether worker respawn ID``: one orphan; raises when it cannot be respawned."""
    state = Store(ws, lock_timeout=lock_timeout).load().state
    worker = check_respawnable(state, worker_id)
    outcome = respawn_one(ws, worker, no_proxy=no_proxy, lock_timeout=lock_timeout)
    if outcome.error is not None:
        raise outcome.error
    return outcome
