"""The process of an ``aether spawn --exec`` worker: started in its own session, its output
streamed to the terminal as it comes, stopped (its whole process group) on a timeout or when
aether itself is interrupted. What happened is handed back to the use case
(aether/ops/spawn/worker_exec.py) to record.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Any

from aether.ops.spawn.worker_exec import ChildOutcome, ChildRunner

#: how much of the end of a worker's stdout is kept, to read a final result line from
RESULT_TAIL_BYTES = 1024 * 1024
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def child_runner(*, stdout_to_stderr: bool) -> ChildRunner:
    """A ``ChildRunner`` writing the worker's stdout to ours (to stderr when ours carries
    aether's JSON answer)."""

    def run(
        argv: list[str], env: dict[str, str], timeout_s: float, keep_tail: bool
    ) -> ChildOutcome:
        return run_child(
            argv, env, timeout_s, keep_tail=keep_tail, stdout_to_stderr=stdout_to_stderr
        )

    return run


def run_child(
    argv: list[str],
    env: dict[str, str],
    timeout_s: float,
    *,
    keep_tail: bool,
    stdout_to_stderr: bool,
) -> ChildOutcome:
    """Run ``argv`` to its end (or its timeout, or aether's interruption). Raises OSError
    when it cannot be started."""
    start = time.perf_counter()
    # from before the worker starts: an interruption in the moment between its start and the
    # wait must stop it too (it runs in its own session; Ctrl-C does not reach it)
    pending: list[int] = []
    previous = _catch_signals(lambda signum, _frame: pending.append(signum))
    try:
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        first: list[float] = []
        tail = bytearray() if keep_tail else None
        pumps = _start_pumps(proc, first, tail, stdout_to_stderr=stdout_to_stderr)
        code, timed_out, interrupted = _wait(proc, timeout_s, pending)
    finally:
        _restore_signals(previous)
    for t in pumps:
        t.join(timeout=2)
    return ChildOutcome(
        code=code,
        timed_out=timed_out,
        interrupted=interrupted,
        duration_s=time.perf_counter() - start,
        latency_ms=(first[0] - start) * 1000 if first else None,
        tail=bytes(tail) if tail is not None else None,
    )


def _start_pumps(
    proc: subprocess.Popen[bytes],
    first: list[float],
    tail: bytearray | None,
    *,
    stdout_to_stderr: bool,
) -> list[threading.Thread]:
    assert proc.stdout is not None and proc.stderr is not None
    lock = threading.Lock()
    out_dst = sys.stderr.buffer if stdout_to_stderr else sys.stdout.buffer
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, out_dst, first, lock, tail)),
        threading.Thread(target=_pump, args=(proc.stderr, sys.stderr.buffer, first, lock)),
    ]
    for t in pumps:
        t.daemon = True
        t.start()
    return pumps


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


def _wait(
    proc: subprocess.Popen[bytes], timeout_s: float, pending: list[int]
) -> tuple[int, bool, int | None]:
    """(exit code, timed out, the signal that interrupted aether). The worker runs in its own
    session (so a timeout can kill its whole group), which also means Ctrl-C in the terminal
    no longer reaches it: it is stopped here when aether is interrupted or terminated —
    ``pending`` holds a signal that came while it was starting — instead of being left to run
    on unrecorded."""
    try:
        _catch_signals(_raise_interrupted)
        if pending:
            raise _Interrupted(pending[0])
        return proc.wait(timeout=timeout_s), False, None
    except subprocess.TimeoutExpired:
        return _stop_group(proc), True, None
    except _Interrupted as exc:
        return _stop_group(proc), False, exc.signum


class _Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, frame: object) -> None:
    # once: a second Ctrl-C while the worker is being stopped must not abandon the cleanup
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise _Interrupted(signum)


def _catch_signals(handler: Any) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, handler) for sig in _SIGNALS}


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
