"""``aether spawn --exec``: the records around a worker command (docs/workers.md).

The command itself — the child process, its output streamed to the terminal, timeouts and
signals — is run by the CLI layer (aether/cli/child.py) through the ``run_child`` it passes in;
this use case records what happened around it: ``running`` before the command starts (in its
own transaction, so a killed ``--exec`` leaves a worker resume can mark lost), then exit code,
duration, time to first output, the latency history of the model and, for a headless Claude
Code worker (``claude -p --output-format json``) or Codex worker (``codex exec --json``), the
models and tokens it reported.

Default timeout (model-aware, from ``state.latency_history``): with at least ``MIN_SAMPLES`` (5)
successful runs on the model, three times the 90th percentile of their durations (last 50
runs), never below 5 minutes nor above 4 hours; otherwise 1 hour.
"""

from __future__ import annotations

import math
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any

from aether import activity
from aether.errors import ExecFailed, InvalidInput
from aether.ops.workers.report import find_worker, finish
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


def exec_timeout_for(ws: Workspace, model: str) -> float:
    state = Store(ws).load().state
    return default_exec_timeout(state.latency_history.get(model, []))


@record(frozen=True)
class ChildOutcome:
    """How a worker command ended, as the process runner saw it."""

    code: int  #: its exit code (negative: the signal that killed it)
    timed_out: bool
    interrupted: int | None  #: the signal that stopped aether meanwhile, if any
    duration_s: float
    latency_ms: float | None  #: time to its first byte of output
    tail: bytes | None  #: the end of its stdout, when a final result line is expected


#: runs ``argv`` with ``env`` for at most ``timeout_s``, keeping the stdout tail when asked;
#: raises OSError when the program cannot be started
ChildRunner = Callable[[list[str], dict[str, str], float, bool], ChildOutcome]


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


def run_exec(
    ws: Workspace,
    worker: Worker,
    argv: list[str],
    env: dict[str, str],
    *,
    timeout_s: float,
    run_child: ChildRunner,
    lock_timeout: float | None = None,
) -> ExecResult:
    if not argv:
        raise InvalidInput("--exec needs a command", fix="aether spawn --caste C --exec -- CMD")
    _record_running(ws, worker, argv, timeout_s, lock_timeout)
    reader = _result_reader(argv, env)
    try:
        outcome = run_child(argv, env, timeout_s, reader is not None)
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
    recorded, warnings = _record_outcome(ws, worker, outcome, timeout_s, lock_timeout, reader)
    activity.log(
        ws,
        "worker_exec_finished",
        worker_id=recorded.id,
        exit_code=outcome.code,
        timed_out=outcome.timed_out,
        duration_s=recorded.duration_s,
        recorded=not warnings,
    )
    return ExecResult(recorded, _exit_code(outcome), outcome.timed_out, timeout_s, warnings)


#: reads what a headless worker's stdout tail says it used onto its record
TailReader = Callable[[Workspace, ColonyState, Worker, bytes], None]


def _result_reader(argv: list[str], env: dict[str, str]) -> TailReader | None:
    """The reader of the worker's final output when its command line asks for a result its
    runtime can read (``claude -p --output-format json|stream-json``, ``codex exec --json``:
    aether.runtimes.registry.headless_reader)."""
    from aether.runtimes.registry import headless_reader

    read = headless_reader(argv, env)
    if read is None:
        return None
    from aether.ops.workers.usage import record_headless_run

    def record_run(ws: Workspace, state: ColonyState, w: Worker, tail: bytes) -> None:
        run = read(tail.decode("utf-8", errors="replace"))
        if run is not None:
            record_headless_run(ws, state, w, run)

    return record_run


def _record_running(
    ws: Workspace, worker: Worker, argv: list[str], timeout_s: float, lock_timeout: float | None
) -> None:
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        w = find_worker(tx.state, worker.id)
        w.status = "running"
        w.started_at = iso()
        w.exec_info = {"program": os.path.basename(argv[0]), "timeout_s": timeout_s}
        tx.state.add_event(
            "worker_started", f"{w.id} started ({w.exec_info['program']})", worker_id=w.id
        )


def _record_outcome(
    ws: Workspace,
    worker: Worker,
    outcome: ChildOutcome,
    timeout_s: float,
    lock_timeout: float | None,
    reader: TailReader | None = None,
) -> tuple[Worker, list[str]]:
    """The worker record updated with ``outcome`` (and the warnings to show)."""
    warnings: list[str] = []
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        found = tx.state.worker(worker.id)
        if found is None:
            # the record went while the command ran (a reset --force): the command's own
            # result still stands and is said, and logged, but there is nothing to update
            tx.abort = True
            warnings.append(
                f"worker {worker.id} is no longer in this colony (was it reset?); its exit "
                f"code {outcome.code} was not recorded"
            )
        w = found or worker
        _apply_outcome(w, outcome, timeout_s)
        if outcome.tail and reader is not None:
            reader(ws, tx.state, w, outcome.tail)
        if outcome.interrupted is None:  # an interrupted run says nothing about the model
            _add_to_latency_history(tx.state, w, ok=_succeeded(outcome))
        tx.state.add_event(
            f"worker_{w.status}",
            f"{w.id} exited {outcome.code}",
            worker_id=w.id,
            exit_code=outcome.code,
            timed_out=outcome.timed_out,
        )
    return w, warnings


def _succeeded(outcome: ChildOutcome) -> bool:
    return outcome.code == 0 and not outcome.timed_out


def _apply_outcome(w: Worker, outcome: ChildOutcome, timeout_s: float) -> None:
    w.exit_code = outcome.code
    w.duration_s = round(outcome.duration_s, 3)
    w.latency_ms = round(outcome.latency_ms, 1) if outcome.latency_ms is not None else None
    w.exec_info = {**(w.exec_info or {}), "timed_out": outcome.timed_out}
    if w.status in FINISHED_WORKER_STATUSES:  # the worker reported itself meanwhile
        return
    w.status = "completed" if _succeeded(outcome) else "failed"
    w.finished_at = iso()
    if w.status == "failed":
        w.fail_reason = _fail_reason(outcome, timeout_s)


def _fail_reason(outcome: ChildOutcome, timeout_s: float) -> str:
    if outcome.interrupted is not None:
        name = signal.Signals(outcome.interrupted).name
        return f"aether was interrupted ({name}); the worker command was stopped"
    if outcome.timed_out:
        return f"timed out after {timeout_s:g} s"
    return f"exit code {outcome.code}"


def _add_to_latency_history(state: ColonyState, w: Worker, *, ok: bool) -> None:
    history = state.latency_history.setdefault(w.model, [])
    history.append({"duration_s": w.duration_s, "latency_ms": w.latency_ms, "ok": ok})
    del history[:-HISTORY]


def _exit_code(outcome: ChildOutcome) -> int:
    """aether's own exit code: the worker's, 124 on a timeout (as timeout(1) says it), and
    128 + N for a signal (aether's or the one that killed the worker)."""
    if outcome.interrupted is not None:
        return 128 + outcome.interrupted
    if outcome.timed_out:
        return 124
    return outcome.code if outcome.code >= 0 else 128 - outcome.code
