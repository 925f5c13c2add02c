"""Workers reporting back, the worker table and cost aggregation (docs/workers.md).

``spawn --exec`` is recorded by aether/ops/worker_exec.py.

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
from aether.state.model import FINISHED_WORKER_STATUSES, ColonyState, Worker
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
        w.status = "completed" if ok else "failed"
        w.finished_at = iso()
        if not ok:
            w.fail_reason = (reason or "").strip()[:2000]
        tx.state.add_event(
            "worker_completed" if ok else "worker_failed",
            f"{w.id} {'completed' if ok else 'failed: ' + (w.fail_reason or '')}",
            worker_id=w.id,
        )
    activity.log(
        ws, "worker_" + ("completed" if ok else "failed"), worker_id=w.id, reason=w.fail_reason
    )
    return WorkerUpdateResult(w)


def _same_model(ws: Workspace, worker: Worker, reported: str) -> bool:
    if reported == worker.model:
        return True
    deployment = worker.verification.get("deployment")
    if isinstance(deployment, str) and reported == deployment:
        return True
    from aether.ops.worker_usage import profile_table

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
    model_used = model_used.strip()
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
    workers: list[Worker]

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, "workers": [w.model_dump(mode="json") for w in self.workers]}


def list_workers(ws: Workspace, *, status: str | None = None) -> WorkerListResult:
    state = Store(ws).load().state
    workers = [w for w in state.workers if status is None or w.status == status]
    return WorkerListResult(workers)


@record
class CostsResult:
    by_model: dict[str, dict[str, float]]
    by_caste: dict[str, dict[str, float]]
    total: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "by_model": self.by_model,
            "by_caste": self.by_caste,
            "total": self.total,
        }


def _add(bucket: dict[str, float], w: dict[str, Any]) -> None:
    bucket["workers"] = bucket.get("workers", 0) + 1
    for key in ("tokens_in", "tokens_out", "cost_usd"):
        value = w.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            bucket[key] = bucket.get(key, 0) + value
            if key == "cost_usd":
                bucket[key] = round(bucket[key], 6)
        else:
            bucket.setdefault(key, 0)


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
    from aether.files import open_regular
    from aether.ops.worker_usage import canonical, profile_table

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
    by_model: dict[str, dict[str, float]] = {}
    by_caste: dict[str, dict[str, float]] = {}
    total: dict[str, float] = {}
    for w in records.values():
        for model, used in _per_model(w, lambda m: canonical(table, m)).items():
            _add(by_model.setdefault(model, {}), used)
        _add(by_caste.setdefault(str(w.get("caste") or "?"), {}), w)
        _add(total, w)
    return CostsResult(dict(sorted(by_model.items())), dict(sorted(by_caste.items())), total)


# --- spawn --exec --------------------------------------------------------------------------------
