"""The ``aether serve`` process: accept a connection, run one command, answer (docs/server.md).

The client side and the protocol (length-prefixed JSON over a private Unix socket) are in
``aether.cli.server``. Every wait here is bounded: a client gets ``REQUEST_READ_S`` to send its
whole request and ``REPLY_WRITE_S`` to take its whole answer, so one stuck or slow client
delays the commands queued behind it by at most that; the accept loop ends after
``--idle-timeout``.

No frame may stop the server. A request is run only when it is one a real client could have
sent: every argument, environment entry and the working directory as a process could have
them (no NUL byte, no ``=`` in a variable's name, nothing the file system's encoding cannot
hold), stdin as base64. Anything else is refused unrun, and whatever still fails while one
connection is served is dropped with one line on the server's stderr.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any

from aether.cli import server as client_side
from aether.cli.server import (
    DEFERRED_HOOKS,
    _private_socket_dir,
    _receive,
    _send,
    code_fingerprint,
)
from aether.cli.server_requests import ServedCommand, command_of, is_process_text, same_colony
from aether.hook_client import peer_uid as _peer_uid
from aether.hook_client import socket_path

if TYPE_CHECKING:
    from aether.cli.inprocess import CapturedRun
from aether.records import record

#: a client sends its request right after connecting (it reads its stdin first)
REQUEST_READ_S = 1.0
#: a client that does not take its answer in this long is dropped (the command's effect stands)
REPLY_WRITE_S = 5.0


@record
class ServerInfo:
    aether_dir: str
    idle_timeout: float
    code: str
    started_at: str
    pid: int
    served: int = 0
    #: (when, fingerprint) of the last look at the installed code for launcher clients
    checked: tuple[float, str] = (0.0, "")

    def installed_code(self) -> str:
        """The installed code's fingerprint, looked at again when the last look is older than
        a second: an upgrade is noticed by the first hook a second after it."""
        now = time.monotonic()
        if now - self.checked[0] > 1.0:
            self.checked = (now, code_fingerprint())
        return self.checked[1]

    def to_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "colony": self.aether_dir,
            "started_at": self.started_at,
            "served": self.served,
            "idle_timeout_s": self.idle_timeout,
            "code": self.code,
            "code_current": code_fingerprint() == self.code,
        }


def serve_forever(aether_dir: str, idle_timeout: float, ready: Any = None) -> int:
    """Serve the colony in ``aether_dir`` until ``idle_timeout`` seconds pass without a
    request, a ``stop`` request, a client running other code, or SIGINT/SIGTERM.

    Two threads. The *reader* accepts each connection, reads and checks its request (bounded,
    as before) and puts it in the queue of work; a hook that only records
    (``DEFERRED_HOOKS``) is acknowledged as soon as it is queued, so its session never waits
    behind the work of earlier requests. The main thread runs the queued work one job at a
    time, in the order it came — every command runs there, as before — and answers the
    clients that wait. When the server stops, everything already queued (acknowledged hooks
    above all) is done first."""
    import gc
    import queue
    import threading

    import typer.main

    from aether.cli.app import app, register
    from aether.timeutil import iso

    gc.enable()  # a one-shot command runs without it (aether.cli.main); a server lives long
    command = typer.main.get_command(register(app))  # every command, built once
    info = ServerInfo(aether_dir, idle_timeout, code_fingerprint(), iso(), os.getpid())
    server, path, bound = _listen(aether_dir)
    client_side.whole_process = False  # a server: a hook it serves never forks it
    work: queue.Queue[_Job] = queue.Queue()
    intake = _Intake(server, info, work)
    state = _stop_on_sigterm()
    # the reader must get its turn quickly while a command keeps the main thread busy (a hook's
    # acknowledgement waits for it): Python hands the interpreter over every 5 ms by default
    sys.setswitchinterval(0.0005)
    reader = threading.Thread(target=intake.run, name="aether-serve-reader", daemon=True)
    reader.start()
    if ready is not None:
        ready(path)
    try:
        while not state["stop"]:
            try:
                job = work.get(timeout=idle_timeout)
            except queue.Empty:
                if intake.close_if_idle():
                    break  # idle: nothing came, and nothing can come in now
                continue
            state["busy"] = True
            try:
                if not _do_guarded(job, info, command):
                    state["stop"] = True  # never clears a SIGTERM that came meanwhile
            finally:
                state["busy"] = False
    except KeyboardInterrupt:
        pass
    finally:
        intake.close()
        reader.join(timeout=REQUEST_READ_S + REPLY_WRITE_S)
        _finish_queued(work, info, command)
        server.close()
        _remove_socket(path, bound)
    return 0


def _stop_on_sigterm() -> dict[str, bool]:
    """SIGTERM stops the server between jobs, never inside one (a command it was handed runs
    to its end and its client gets the answer); the state is the loop's to keep current."""
    import signal

    state = {"busy": False, "stop": False}

    def on_term(signum: int, frame: object) -> None:
        state["stop"] = True
        if not state["busy"]:
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    return state


def _remove_socket(path: str, bound: int) -> None:
    """The socket this server bound, unless another server has replaced it since."""
    try:
        if os.stat(path).st_ino == bound:
            os.unlink(path)
    except OSError:
        pass


@record(frozen=True)
class _Job:
    """Work for the main thread: a control request, a command whose client waits for the
    answer on ``conn``, or an acknowledged hook (``conn`` None); ``stop`` from the reader
    when the installed code changed."""

    kind: str
    conn: Any = None
    request: Any = None
    served: Any = None
    frames: bool = False


class _Intake:
    """The reader thread: accepts, reads and checks requests, queues them. Once closed (the
    server stops, or stops for being idle), it queues nothing more and closes what it
    accepts, so whatever was queued is all there is to finish."""

    def __init__(self, server: Any, info: ServerInfo, work: Any) -> None:
        import threading

        self.server, self.info, self.work = server, info, work
        self.lock = threading.Lock()
        self.closed = False
        server.settimeout(0.2)  # to notice being closed

    def close(self) -> None:
        with self.lock:
            self.closed = True

    def close_if_idle(self) -> bool:
        """Close unless a job was queued meanwhile (True when closed)."""
        with self.lock:
            if self.work.empty():
                self.closed = True
            return self.closed

    def run(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the socket was closed: the server is stopping
            try:
                self._take(conn)
            except Exception as exc:  # the last resort: never lose the reader
                conn.close()
                _warn(f"a request failed unexpectedly and was dropped ({type(exc).__name__})")

    def _queue(self, job: _Job) -> bool:
        with self.lock:
            if self.closed:
                return False
            self.work.put(job)
            return True

    def _take(self, conn: Any) -> None:
        if _peer_uid(conn) not in (None, os.getuid()):
            conn.close()  # another user: closed without reading a byte
            return
        try:
            request = _receive(conn, time.monotonic() + REQUEST_READ_S)
        except (OSError, ValueError):
            request = None  # not all there in time, or garbled: dropped, the queue moves on
        if request is None:
            conn.close()
            return
        conn.settimeout(REPLY_WRITE_S)
        if "control" in request:
            if not self._queue(_Job("control", conn, request)):
                conn.close()
            return
        frames = request.get("reply") == "frames"  # the launcher's client (hook_client.py)
        served = command_of(request, self.info)
        if isinstance(served, str):
            _answer(conn, {"refused": served}, frames)
            conn.close()
            if served == "code" and code_fingerprint() != self.info.code:
                self._queue(_Job("stop"))
            return
        deferred = (
            len(served.argv) == 2 and served.argv[0] == "hook" and served.argv[1] in DEFERRED_HOOKS
        )
        if not deferred:
            if not self._queue(_Job("command", conn, served=served, frames=frames)):
                conn.close()  # stopping: the client says the server went away; nothing ran
            return
        # the session does not wait for a hook that only records: queued, then answered; the
        # main thread does it in its turn, before anything that came after it
        if self._queue(_Job("deferred", served=served)):
            _answer(conn, {"exit": 0, "stdout": "", "stderr": ""}, frames)
        conn.close()


def _warn(line: str) -> None:
    from aether.redaction import redact

    sys.stderr.write(f"aether: warning: {' '.join(redact(line).split())}; a bug in aether\n")
    sys.stderr.flush()


def _do_guarded(job: _Job, info: ServerInfo, command: Any) -> bool:
    """``_do`` with the server's last resort: a job that fails in a way no check foresaw is
    dropped with one line on the server's stderr, and the server goes on."""
    try:
        return _do(job, info, command)
    except Exception as exc:
        _warn(f"a request failed unexpectedly and was dropped ({type(exc).__name__}: {exc})")
        return True
    finally:
        if job.conn is not None:
            job.conn.close()


def _do(job: _Job, info: ServerInfo, command: Any) -> bool:
    """Run one job in the main thread; False when the server should stop."""
    if job.kind == "stop":
        # not only another install: this server's own code changed on disk since it started,
        # so everything it would serve from now on is old code
        sys.stderr.write(
            "aether: the installed aether changed since this server started; stopping "
            "(start `aether serve` again to serve the new code)\n"
        )
        return False
    if job.kind == "control":
        return _control(job.conn, job.request, info)
    ran = _run_command(job.served, command)
    info.served += 1
    if job.kind != "deferred":
        _answer(
            job.conn, {"exit": ran.exit, "stdout": ran.stdout, "stderr": ran.stderr}, job.frames
        )
        if not ran.later:
            return True
        # what the command left for after its answer (a spawn's record: the runtime starts
        # the subagent meanwhile), done before the next job, which may need it
        from aether.cli.inprocess import run_later

        ran = run_later(ran.later, env=job.served.env, cwd=job.served.cwd)
    said = " ".join(ran.stderr.split())
    if said:
        sys.stderr.write(f"{said}\n")  # the server's log: nobody waits for this answer
    return True


def _finish_queued(work: Any, info: ServerInfo, command: Any) -> None:
    """What was queued before the server stopped: acknowledged hooks are done, waiting
    clients answered (each command with its own bounds), controls answered."""
    import queue

    while True:
        try:
            job = work.get_nowait()
        except queue.Empty:
            return
        if job.kind != "stop":
            _do_guarded(job, info, command)


def _listen(aether_dir: str) -> tuple[Any, str, int]:
    """The bound, listening socket (a stale one replaced; a live server refused)."""
    import socket

    from aether.errors import ServerUnavailable

    _private_socket_dir()
    path = socket_path(aether_dir)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(REQUEST_READ_S)
    try:
        probe.connect(path)
    except OSError:
        try:
            os.unlink(path)  # a stale socket of a server that died
        except FileNotFoundError:
            pass
    else:
        raise ServerUnavailable(
            f"an aether server already serves {aether_dir}",
            fix="use it, or stop it first (`aether serve --stop`)",
        )
    finally:
        probe.close()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        server.bind(path)
    finally:
        os.umask(old_umask)
    server.listen(64)
    return server, path, os.stat(path).st_ino


def _control(conn: Any, request: dict[str, Any], info: ServerInfo) -> bool:
    """Answer a ``status`` or ``stop`` request; False when the server should stop."""
    action = request.get("control")
    if not is_process_text(request.get("aether_dir")) or action not in ("status", "stop"):
        reply: dict[str, Any] = {"refused": "request"}
    elif not same_colony(request, info):
        reply = {"refused": "colony"}
    else:
        reply = {"ok": True, **({"stopping": True} if action == "stop" else {}), **info.to_json()}
    _answer(conn, reply)
    return not (action == "stop" and "ok" in reply)


def _answer(conn: Any, reply: dict[str, Any], frames: bool = False) -> None:
    """Send the answer: one JSON message, or for the launcher's client three frames (exit
    code, stdout, stderr; a refusal is one frame ``refused:WHY``)."""
    try:
        if not frames:
            _send(conn, reply)
        elif "refused" in reply:
            conn.sendall(_framed(f"refused:{reply['refused']}".encode()))
        else:
            parts = (str(reply[key]) for key in ("exit", "stdout", "stderr"))
            conn.sendall(b"".join(_framed(p.encode("utf-8", "surrogateescape")) for p in parts))
    except OSError:
        pass  # the client went away or stopped reading; the command's effect stands


def _framed(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def _run_command(served: ServedCommand, command: Any) -> CapturedRun:
    """Run the command line in this process (aether.cli.inprocess) as the client would have;
    work it leaves for after its answer is returned, not done."""
    from aether.cli.inprocess import run_in_process

    return run_in_process(
        served.argv,
        env=served.env,
        cwd=served.cwd,
        stdin=served.stdin,
        command=command,
        later=True,
    )
