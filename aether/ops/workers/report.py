"""Workers reporting back, the worker table and cost aggregation (docs/workers.md).

``spawn --exec`` is recorded by aether/ops/spawn/worker_exec.py.

Transitions: ``spawned -> running -> completed | failed`` (resume marks ``never_started`` /
``lost``). A heartbeat or the start of ``--exec`` sets ``running`` (and ``started_at``).
Reports on a finished worker are accepted (tokens often arrive last); transitions out of a
finished status are refused (``WorkerStateConflict``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from aether import activity
from aether.errors import InvalidInput, WorkerNotFound, WorkerStateConflict
from aether.records import field, record
from aether.redaction import admitted
from aether.state.model import (
    FINISHED_WORKER_STATUSES,
    ORPHAN_WORKER_STATUSES,
    ColonyState,
    Worker,
)
from aether.state.store import Store
from aether.timeutil import iso
from aether.workspace import Workspace


@record
class WorkerUpdateResult:
    worker: Worker
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, **self.worker.model_dump(mode="json"), "warnings": self.warnings}


def find_worker(state: ColonyState, worker_id: str) -> Worker:
    worker = state.worker(worker_id)
    if worker is None:
        raise WorkerNotFound(
            f"no worker {worker_id!r} in this colony", fix="list workers with `aether workers`"
        )
    return worker


def _refuse_finished(worker: Worker, action: str) -> None:
    if worker.status in FINISHED_WORKER_STATUSES:
        if worker.status in ORPHAN_WORKER_STATUSES and action.startswith("be marked"):
            return  # a lost worker that turns out to have finished (or failed) may say so
        raise WorkerStateConflict(
            f"worker {worker.id} is already {worker.status}; it cannot {action}",
            meaning="nothing was changed",
            fix="spawn a new worker (or respawn a lost one)",
        )


def heartbeat(
    ws: Workspace, worker_id: str, *, lock_timeout: float | None = None
) -> WorkerUpdateResult:
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        w = find_worker(tx.state, worker_id)
        _refuse_finished(w, "send heartbeats")
        now = iso()
        w.heartbeat_at = now
        w.started_at = w.started_at or now
        if w.status == "spawned":
            tx.state.add_event("worker_started", f"{w.id} started", worker_id=w.id)
        w.status = "running"
    return WorkerUpdateResult(w)


def finish(
    ws: Workspace,
    worker_id: str,
    *,
    ok: bool,
    reason: str | None = None,
    lock_timeout: float | None = None,
) -> WorkerUpdateResult:
    if not ok and (reason is None or not reason.strip()):
        raise InvalidInput("--reason is empty", fix="say why the worker failed")
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        w = find_worker(tx.state, worker_id)
        _refuse_finished(w, "be marked " + ("done" if ok else "failed"))
        if w.status in ORPHAN_WORKER_STATUSES:
            tx.state.add_event(
                "worker.found",
                f"{w.id} was {w.status}; reported {'done' if ok else 'failed'}",
                worker_id=w.id,
                was=w.status,
            )
        w.status = "completed" if ok else "failed"
        w.finished_at = iso()
        w.fail_reason = None
        if not ok:
            w.fail_reason = admitted((reason or "").strip())[:2000]
        tx.state.add_event(
            "worker_completed" if ok else "worker_failed",
            f"{w.id} {'completed' if ok else 'failed: ' + (w.fail_reason or '')}",
            worker_id=w.id,
        )
    activity.log(
        ws, "worker_" + ("completed" if ok else "failed"), worker_id=w.id, reason=w.fail_reason
    )
    return WorkerUpdateResult(w)


def close(
    ws: Workspace, worker_id: str, *, reason: str, lock_timeout: float | None = None
) -> WorkerUpdateResult:
    """``aether worker close ID --reason``: a lost or never-started worker nobody will re-run
    is closed — it keeps its status and history and is no longer listed as waiting in
    HANDOFF.md or the briefing. An agent session's record can be closed the same way."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("--reason is empty", fix="say why the worker is closed")
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        w = find_worker(tx.state, worker_id)
        if w.status not in ORPHAN_WORKER_STATUSES:
            raise WorkerStateConflict(
                f"worker {w.id} is {w.status}; only lost or never_started workers are closed",
                meaning="nothing was changed",
                fix="a running worker reports `aether worker done` or `fail` itself",
            )
        w.closed_at = iso()
        w.close_reason = admitted(reason)[:2000]
        w.rerun_requested_at = None
        tx.state.add_event("worker.closed", f"{w.id} closed: {w.close_reason}", worker_id=w.id)
    activity.log(ws, "worker_closed", worker_id=w.id, reason=w.close_reason)
    return WorkerUpdateResult(w)


def _same_model(ws: Workspace, worker: Worker, reported: str) -> bool:
    if reported == worker.model:
        return True
    deployment = worker.verification.get("deployment")
    if isinstance(deployment, str) and reported == deployment:
        return True
    from aether.ops.workers.usage import profile_table

    table = profile_table(ws)  # None: an unreadable profile must not stop a report
    return table is not None and table.reported_model(reported) == worker.model


def report(
    ws: Workspace,
    worker_id: str,
    *,
    model_used: str,
    tokens_in: int | None = None,
    tokens_out: int | None = None,
    cost: float | None = None,
    lock_timeout: float | None = None,
) -> WorkerUpdateResult:
    model_used = admitted(model_used.strip())
    if not model_used:
        raise InvalidInput("--model-used is empty", fix="name the model the worker ran on")
    for name, value in (("--tokens-in", tokens_in), ("--tokens-out", tokens_out)):
        if value is not None and not 0 <= value <= 10**12:
            raise InvalidInput(f"{name} {value} is not a token count", fix="pass 0 or more")
    if cost is not None and not (math.isfinite(cost) and 0 <= cost <= 10**7):
        raise InvalidInput(f"--cost {cost} is not an amount in USD", fix="pass e.g. 0.42")
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        w = find_worker(tx.state, worker_id)
        mismatch = not _same_model(ws, w, model_used)
        w.model_used = model_used
        w.model_mismatch = mismatch
        # a report carries the worker's totals so far: a second report replaces the first
        if tokens_in is not None:
            w.tokens_in = tokens_in
        if tokens_out is not None:
            w.tokens_out = tokens_out
        if cost is not None:
            w.cost_usd = cost
        if mismatch:
            tx.state.add_event(
                "model_mismatch",
                f"{w.id} reported {model_used}, assigned {w.model}",
                worker_id=w.id,
                assigned=w.model,
                reported=model_used,
            )
    warnings = []
    if mismatch:
        warnings.append(
            f"worker {w.id} reports model {model_used!r} but was assigned "
            f"{w.model!r}: routing did not hold"
        )
        # the model names only: never tokens or costs in the activity log
        activity.log(ws, "model_mismatch", worker_id=w.id, assigned=w.model, reported=model_used)
    return WorkerUpdateResult(w, warnings)


# --- listing and costs ---------------------------------------------------------------------------


@record
class WorkerListResult:
    """The workers in tree order (each followed by those it spawned), with each one's depth
    in the tree; an agent session's own record is a root (caste queen)."""

    workers: list[Worker]
    depths: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "workers": [
                {**w.model_dump(mode="json"), "depth": d}
                for w, d in zip(self.workers, self.depths, strict=True)
            ],
        }


def list_workers(ws: Workspace, *, status: str | None = None) -> WorkerListResult:
    from aether.worker_tree import tree_order

    state = Store(ws).load().state
    rows = [(d, w) for d, w in tree_order(state.workers) if status is None or w.status == status]
    return WorkerListResult([w for _, w in rows], [d for d, _ in rows])


@record
class CostsResult:
    """Per model, per caste and in all: ``workers``, ``tokens_in``, ``tokens_out``, ``cost_usd``
    (the known costs' sum; None when none is known) and ``cost_unknown`` (how many workers'
    cost is not known). The main agent of each agent session counts as caste ``queen``."""

    by_model: dict[str, dict[str, Any]]
    by_caste: dict[str, dict[str, Any]]
    total: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "by_model": self.by_model,
            "by_caste": self.by_caste,
            "total": self.total,
        }


def _add(bucket: dict[str, Any], w: dict[str, Any]) -> None:
    """Add a worker's tokens and cost to a bucket. A cost nobody reported stays unknown: the
    bucket's ``cost_usd`` is the sum of the known ones (None while there is none) and
    ``cost_unknown`` counts the workers whose cost is not known — never shown as 0."""
    bucket["workers"] = bucket.get("workers", 0) + 1
    for key in ("tokens_in", "tokens_out"):
        value = w.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            bucket[key] = bucket.get(key, 0) + value
        else:
            bucket.setdefault(key, 0)
    cost = w.get("cost_usd")
    bucket.setdefault("cost_usd", None)
    bucket.setdefault("cost_unknown", 0)
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        bucket["cost_usd"] = round((bucket["cost_usd"] or 0) + cost, 6)
    else:
        bucket["cost_unknown"] += 1


def _per_model(w: dict[str, Any], canonical: Any) -> dict[str, dict[str, Any]]:
    """model -> the tokens/cost the worker used on it: its per-model usage when the runtime
    reported one, else everything on the model it reported (or was assigned)."""
    usage = w.get("usage_by_model")
    if isinstance(usage, dict) and usage:
        out: dict[str, dict[str, Any]] = {}
        for model, u in usage.items():
            if isinstance(u, dict):
                bucket = out.setdefault(canonical(str(model)), {})
                for key in ("tokens_in", "tokens_out", "cost_usd"):
                    if isinstance(u.get(key), int | float):
                        bucket[key] = bucket.get(key, 0) + u[key]
        if out:
            return out
    return {canonical(str(w.get("model_used") or w.get("model") or "?")): w}


def costs(ws: Workspace) -> CostsResult:
    """Tokens and cost per model and per caste, over the workers in the state and those
    compacted into workers.history.jsonl. Per model: what each worker's runtime reported per
    model, else the model it reported (or was assigned); names are mapped to the profile's
    (an alias, a provider prefix, a dated release, Claude Code's ``[1m]``)."""
    from aether.bounded_read import open_regular
    from aether.ops.workers.usage import canonical, profile_table

    state = Store(ws).load().state
    records: dict[str, dict[str, Any]] = {}
    try:
        with open_regular(ws.workers_history) as fh:
            for line in fh:
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if isinstance(item, dict) and "id" in item:
                    records[str(item["id"])] = item
    except OSError:
        pass
    for worker in state.workers:
        records[worker.id] = worker.model_dump(mode="json")
    table = profile_table(ws)
    by_model: dict[str, dict[str, Any]] = {}
    by_caste: dict[str, dict[str, Any]] = {}
    total: dict[str, Any] = {}
    for w in records.values():
        for model, used in _per_model(w, lambda m: canonical(table, m)).items():
            _add(by_model.setdefault(model, {}), used)
        _add(by_caste.setdefault(str(w.get("caste") or "?"), {}), w)
        _add(total, w)
    return CostsResult(dict(sorted(by_model.items())), dict(sorted(by_caste.items())), total)


# --- spawn --exec --------------------------------------------------------------------------------
