"""Workers reporting back, ``spawn --exec``, the worker table and cost aggregation (issue 5).

Transitions: ``spawned -> running -> completed | failed`` (resume marks ``never_started`` /
``lost``). A heartbeat or the start of ``--exec`` sets ``running`` (and ``started_at``).
Reports on a finished worker are accepted (tokens often arrive last); transitions out of a
finished status are refused (``WorkerStateConflict``).

Default ``--exec`` timeout (model-aware, from ``state.latency_history``): with at least
``MIN_SAMPLES`` (5) successful runs on the model, three times the 90th percentile of their
durations (last 50 runs), never below 5 minutes nor above 4 hours; otherwise 1 hour.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

from aether import activity
from aether.errors import ExecFailed, InvalidInput, WorkerNotFound, WorkerStateConflict
from aether.records import field, record
from aether.state.model import FINISHED_WORKER_STATUSES, ColonyState, Worker
from aether.state.store import Store
from aether.timeutil import iso
from aether.workspace import Workspace

MIN_SAMPLES = 5
HISTORY = 50
DEFAULT_TIMEOUT_S = 3600.0
FLOOR_S = 300.0
CEILING_S = 4 * 3600.0


def default_exec_timeout(history: Sequence[dict[str, Any]]) -> float:
    durations = sorted(float(h["duration_s"]) for h in history[-HISTORY:] if h.get("ok"))
    if len(durations) < MIN_SAMPLES:
        return DEFAULT_TIMEOUT_S
    p90 = durations[min(len(durations) - 1, math.ceil(0.9 * len(durations)) - 1)]
    return max(FLOOR_S, min(CEILING_S, math.ceil(3 * p90)))


@record
class WorkerResult:
    worker: Worker
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, **self.worker.model_dump(mode="json"), "warnings": self.warnings}


def _find(state: ColonyState, worker_id: str) -> Worker:
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


def heartbeat(ws: Workspace, worker_id: str, *, lock_timeout: float | None = None) -> WorkerResult:
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        w = _find(tx.state, worker_id)
        _refuse_finished(w, "send heartbeats")
        now = iso()
        w.heartbeat_at = now
        w.started_at = w.started_at or now
        if w.status == "spawned":
            tx.state.add_event("worker_started", f"{w.id} started", worker_id=w.id)
        w.status = "running"
    return WorkerResult(w)


def finish(
    ws: Workspace,
    worker_id: str,
    *,
    ok: bool,
    reason: str | None = None,
    lock_timeout: float | None = None,
) -> WorkerResult:
    if not ok and (reason is None or not reason.strip()):
        raise InvalidInput("--reason is empty", fix="say why the worker failed")
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        w = _find(tx.state, worker_id)
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
    return WorkerResult(w)


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
) -> WorkerResult:
    model_used = model_used.strip()
    if not model_used:
        raise InvalidInput("--model-used is empty", fix="name the model the worker ran on")
    for name, value in (("--tokens-in", tokens_in), ("--tokens-out", tokens_out)):
        if value is not None and not 0 <= value <= 10**12:
            raise InvalidInput(f"{name} {value} is not a token count", fix="pass 0 or more")
    if cost is not None and not (math.isfinite(cost) and 0 <= cost <= 10**7):
        raise InvalidInput(f"--cost {cost} is not an amount in USD", fix="pass e.g. 0.42")
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        w = _find(tx.state, worker_id)
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
    return WorkerResult(w, warnings)


# --- listing and costs ---------------------------------------------------------------------------


@record
class WorkersResult:
    workers: list[Worker]

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, "workers": [w.model_dump(mode="json") for w in self.workers]}


def list_workers(ws: Workspace, *, status: str | None = None) -> WorkersResult:
    state = Store(ws).load().state
    workers = [w for w in state.workers if status is None or w.status == status]
    return WorkersResult(workers)


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
    from aether.ops.worker_usage import canonical, profile_table

    state = Store(ws).load().state
    records: dict[str, dict[str, Any]] = {}
    try:
        with ws.workers_history.open(encoding="utf-8") as fh:
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


@record
class ExecResult:
    worker: Worker
    exit_code: int
    timed_out: bool
    timeout_s: float
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == 0,
            **self.worker.model_dump(mode="json"),
            "timed_out": self.timed_out,
            "timeout_s": self.timeout_s,
            "warnings": self.warnings,
        }


def exec_timeout_for(ws: Workspace, model: str) -> float:
    state = Store(ws).load().state
    return default_exec_timeout(state.latency_history.get(model, []))


#: how much of the end of a worker's stdout is kept, to read a final result line from
RESULT_TAIL_BYTES = 1024 * 1024


def _pump(
    src: IO[bytes],
    dst: IO[bytes],
    first: list[float],
    lock: threading.Lock,
    tail: bytearray | None = None,
) -> None:
    while True:
        chunk = src.read1(65536) if hasattr(src, "read1") else src.read(65536)
        if not chunk:
            break
        with lock:
            if not first:
                first.append(time.perf_counter())
            dst.write(chunk)
            dst.flush()
        if tail is not None:
            tail += chunk
            del tail[:-RESULT_TAIL_BYTES]


class _Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, frame: object) -> None:
    # once: a second Ctrl-C while the worker is being stopped must not abandon the cleanup
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise _Interrupted(signum)


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _catch_signals() -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, _raise_interrupted) for sig in _SIGNALS}


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _stop_group(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM the worker's process group, SIGKILL it after 5 s; its exit code."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()


def run_exec(
    ws: Workspace,
    worker: Worker,
    argv: list[str],
    env: dict[str, str],
    *,
    timeout_s: float,
    json_out: bool,
    lock_timeout: float | None = None,
) -> ExecResult:
    if not argv:
        raise InvalidInput("--exec needs a command", fix="aether spawn --caste C --exec -- CMD")
    # running is recorded before the command starts, in its own transaction: a killed
    # --exec leaves a `running` worker that resume can mark lost
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        w = _find(tx.state, worker.id)
        w.status = "running"
        w.started_at = iso()
        w.exec_info = {"program": os.path.basename(argv[0]), "timeout_s": timeout_s}
        tx.state.add_event(
            "worker_started", f"{w.id} started ({w.exec_info['program']})", worker_id=w.id
        )
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        finish(
            ws,
            worker.id,
            ok=False,
            reason=f"could not start {argv[0]}: {exc.strerror}",
            lock_timeout=lock_timeout,
        )
        raise ExecFailed(
            f"could not start {argv[0]!r}: {exc.strerror or exc}",
            meaning=f"worker {worker.id} was marked failed",
            fix="check the command and PATH",
        ) from None
    first: list[float] = []
    lock = threading.Lock()
    out_dst = sys.stderr.buffer if json_out else sys.stdout.buffer
    assert proc.stdout is not None and proc.stderr is not None
    from aether.runtimes.claude.usage import asks_for_json_result

    tail = bytearray() if asks_for_json_result(argv) else None
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, out_dst, first, lock, tail)),
        threading.Thread(target=_pump, args=(proc.stderr, sys.stderr.buffer, first, lock)),
    ]
    for t in pumps:
        t.daemon = True
        t.start()
    timed_out = False
    interrupted: int | None = None
    # the worker runs in its own session (so a timeout can kill its whole group), which also
    # means Ctrl-C in the terminal no longer reaches it: stop it ourselves when aether is
    # interrupted or terminated, instead of leaving an orphan that keeps running unrecorded
    previous = _catch_signals()
    try:
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            code = _stop_group(proc)
        except _Interrupted as exc:
            interrupted = exc.signum
            code = _stop_group(proc)
    finally:
        _restore_signals(previous)
    for t in pumps:
        t.join(timeout=2)
    duration = time.perf_counter() - start
    latency_ms = (first[0] - start) * 1000 if first else None
    ok = code == 0 and not timed_out
    warnings: list[str] = []
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        found = tx.state.worker(worker.id)
        if found is None:
            # the record went while the command ran (a reset --force): the command's own
            # result still stands and is said, and logged, but there is nothing to update
            tx.abort = True
            warnings.append(
                f"worker {worker.id} is no longer in this colony (was it reset?); its exit "
                f"code {code} was not recorded"
            )
        w = found or worker
        w.exit_code = code
        w.duration_s = round(duration, 3)
        w.latency_ms = round(latency_ms, 1) if latency_ms is not None else None
        w.exec_info = {**(w.exec_info or {}), "timed_out": timed_out}
        if w.status not in FINISHED_WORKER_STATUSES:  # the worker may have reported itself
            w.status = "completed" if ok else "failed"
            w.finished_at = iso()
            if not ok:
                w.fail_reason = (
                    f"aether was interrupted ({signal.Signals(interrupted).name}); the "
                    "worker command was stopped"
                    if interrupted is not None
                    else f"timed out after {timeout_s:g} s"
                    if timed_out
                    else f"exit code {code}"
                )
        if tail:
            from aether.ops.worker_usage import record_headless_result

            record_headless_result(ws, tx.state, w, bytes(tail))
        if interrupted is None:  # an interrupted run says nothing about the model's speed
            history = tx.state.latency_history.setdefault(w.model, [])
            history.append({"duration_s": w.duration_s, "latency_ms": w.latency_ms, "ok": ok})
            del history[:-HISTORY]
        tx.state.add_event(
            f"worker_{w.status}",
            f"{w.id} exited {code}",
            worker_id=w.id,
            exit_code=code,
            timed_out=timed_out,
        )
    activity.log(
        ws,
        "worker_exec_finished",
        worker_id=w.id,
        exit_code=code,
        timed_out=timed_out,
        duration_s=w.duration_s,
        recorded=not warnings,
    )
    if interrupted is not None:
        exit_code = 128 + interrupted
    else:
        exit_code = 124 if timed_out else (code if code >= 0 else 128 - code)
    return ExecResult(w, exit_code, timed_out, timeout_s, warnings)
