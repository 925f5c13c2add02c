"""``aether serve``: a resident aether process that short commands are handed to.

Every ``aether`` process pays for Python, Typer and Pydantic before it does any work (~150 ms
on the machine in docs/performance.md; 20 started at once need 2.5 s of CPU on 2 cores). With a
server running for the colony, the entry point sends the command line, working directory and
environment of a *short* command over a Unix socket and prints what the server answers; the
server runs the same CLI code in-process, one command at a time, under the same colony lock and
atomic writes as any other process. Without a server (or with ``AETHER_SERVER=off``) nothing
changes.

Safety rules:

* Only short commands are forwarded (``FORWARDED``); never ``spawn --exec`` (it runs a child and
  handles signals), never anything that may ask for confirmation, never ``--help``.
* The socket lives in a private directory (``$TMPDIR/aether-<uid>``, mode 0700, checked to be
  ours and not a link), is itself mode 0600, and the server checks the peer's uid
  (``SO_PEERCRED``): only the same user can hand it commands, because a command runs with the
  environment it sends (the proxy key included, kept in memory only, never logged).
* A client falls back to running the command itself only when no server answers the connect.
  Once a request is sent it never runs it again: if the server vanishes mid-command the client
  says so (exit 27) rather than risk doing the work twice.
* The server refuses (and the client runs the command itself) when the client's aether version
  differs; it exits after ``--idle-timeout`` seconds without a request.
* Every wait has a bound on the whole message, not on each read: the server gives a client
  ``REQUEST_READ_S`` (aether/cli/server_loop.py) for its whole request, however it paces its
  bytes, and a client waits for its whole answer no longer than the command may take.
* Served and local runs accept the same inputs: stdin travels as base64 (a third larger, where
  JSON's escapes made non-ASCII bytes six times larger), a request too large to send runs
  locally, and a stdin the client could not read whole (too large, or not ended in time) is
  not forwarded: the command runs here and reports it as it would have. A request no real
  client could send (a NUL byte, an ``=`` in a variable's name) is refused, never run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from aether.hook_client import DEFERRED, read_exactly, socket_dir, socket_path
from aether.hook_client import is_private_dir as _is_private_dir
from aether.hook_client import peer_uid as _peer_uid

#: commands a client hands to a server: short, non-interactive, no child processes
FORWARDED = frozenset(
    {"spawn", "status", "workers", "worker", "costs", "route", "memory", "doctor", "schema", "hook"}
)
#: commands whose stdin is part of the request (a hook's JSON): read here, sent along
WITH_STDIN = frozenset({"hook"})
#: hooks whose answer Claude Code does not use (they only record): the server acknowledges
#: them as soon as they are queued and does the work in its turn, so the session does not wait
#: for it and the order of events is kept
DEFERRED_HOOKS = DEFERRED
#: how long a served hook's client waits for the answer: under the hook's own timeout in the
#: settings (pre-agent 600 s, the others 30 s), so Claude Code never kills it first. A deferred
#: hook waits only for the acknowledgement (should even that not come, its request stays on the
#: socket, where the server takes it when it can).
HOOK_REPLY_S = {"pre-agent": 590.0, "": 25.0, "deferred": 2.0}
#: how long any other served command's client waits: past the longest a served command can
#: take (a lock wait of up to an hour, a spawn verifying up to 8 models), never forever
COMMAND_REPLY_S = 3600.0 + 900.0
#: arguments that keep a command local (interactive, long-running or help)
LOCAL_FLAGS = frozenset({"--exec", "--help", "--version", "--force", "--yes"})
#: memory subcommands that write files named on the command line stay local (relative paths)
LOCAL_SUBCOMMANDS = frozenset({("memory", "export"), ("memory", "import")})
#: ``AETHER_SERVER``: ``off`` runs every command in its own process; ``manual`` uses a server
#: that runs but never starts one; unset (or ``auto``), a hook that finds no server starts one
#: for the colony in the background, stopped by its idle timeout (docs/server.md)
ENV_OFF = "AETHER_SERVER"
#: set by the entry point (aether.cli.main.main): this process runs one aether command and
#: ends. Never set where commands run inside another program (the server, the tests): a hook
#: run there never forks it into a server (aether/cli/server_start.py)
whole_process = False
MAX_MESSAGE = 64 * 1024 * 1024


def forwardable(argv: list[str]) -> bool:
    if not argv or argv[0] not in FORWARDED:
        return False
    if any(arg in LOCAL_FLAGS for arg in argv):
        return False
    return tuple(argv[:2]) not in LOCAL_SUBCOMMANDS


def _find_aether_dir() -> str | None:
    """The colony's ``.aether`` directory, found exactly as every command finds it; None when
    there is none (the command then runs locally and reports it)."""
    from aether.errors import AetherError
    from aether.workspace import discover

    try:
        return str(discover(None).root)
    except AetherError:
        return None


def encode_message(payload: dict[str, Any]) -> bytes:
    """A message as it travels: an 8-byte big-endian length, then the JSON."""
    data = json.dumps(payload).encode("utf-8")
    return len(data).to_bytes(8, "big") + data


def _send(sock: Any, payload: dict[str, Any]) -> None:
    sock.sendall(encode_message(payload))


def _receive(sock: Any, deadline: float | None = None) -> dict[str, Any] | None:
    """One message, or None if the peer closed the connection first (or announced more than
    ``MAX_MESSAGE``). With a ``deadline`` (``time.monotonic()``), the whole message must have
    arrived by then, however the peer paces its bytes (TimeoutError). A body that is not a
    JSON object is a ValueError, whatever broke it (nesting past the parser's recursion too)."""
    header = read_exactly(sock, 8, deadline)
    if header is None:
        return None
    size = int.from_bytes(header, "big")
    if size > MAX_MESSAGE:
        return None
    body = read_exactly(sock, size, deadline)
    if body is None:
        return None
    try:
        message = json.loads(body)
    except RecursionError:
        raise ValueError("the message nests deeper than the JSON parser recurses") from None
    return message if isinstance(message, dict) else None


def forward(argv: list[str]) -> int | None:
    """Hand ``argv`` to the colony's server; its exit code, or None to run it here."""
    if os.environ.get(ENV_OFF) == "off" or not forwardable(argv):
        return None
    where = _server_for_here()
    if where is None:
        return None
    aether_dir, path, cwd = where
    stdin: bytes | None = None
    if argv[0] in WITH_STDIN:
        # read before connecting: the server serves one client at a time and must not wait
        # on this one's stdin
        stdin = _take_stdin()
        if stdin is None:
            return None
    message = _request(argv, cwd, aether_dir, stdin)
    if message is None:
        return None  # larger than a server takes: run it here, as it would run without one
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            sock.connect(path)
            if _peer_uid(sock) not in (None, os.getuid()):
                return None  # a server of another user: nothing was sent, run it here
        except OSError:
            return None  # no server (or a stale socket): nothing was sent, run it here
        return _exchange(sock, argv, message, stdin)
    finally:
        sock.close()


def _request(argv: list[str], cwd: str, aether_dir: str, stdin: bytes | None) -> bytes | None:
    """The request as sent, built before connecting (the server's deadline is for the
    sending); None when it is larger than a server accepts."""
    import base64

    from aether import __version__

    request: dict[str, Any] = {
        "argv": argv,
        "cwd": cwd,
        "aether_dir": aether_dir,
        "version": __version__,
        "code": code_fingerprint(),
        "env": _environment(argv),
    }
    if stdin is not None:
        request["stdin"] = base64.b64encode(stdin).decode("ascii")
    message = encode_message(request)
    return message if len(message) - 8 <= MAX_MESSAGE else None


def _server_for_here() -> tuple[str, str, str] | None:
    """(the colony's .aether directory, its server's socket path, the cwd), when a server could
    be running for the colony found here; None to run the command locally."""
    try:
        # first the one lstat that fails when no server was ever started here; and never hand
        # the environment to a socket in a directory someone else could own
        if not _is_private_dir(socket_dir()):
            return None
        cwd = os.getcwd()
    except OSError:
        return None
    aether_dir = _find_aether_dir()
    if aether_dir is None:
        return None
    try:
        path = socket_path(aether_dir)
    except OSError:
        return None
    # no socket, no server: spare building the request (its code fingerprint is ~2 ms)
    return (aether_dir, path, cwd) if os.path.exists(path) else None


def _exchange(sock: Any, argv: list[str], message: bytes, stdin: bytes | None) -> int | None:
    """Send the request and relay the answer; None when the server refused it unrun."""
    event = argv[1] if argv[0] == "hook" and len(argv) > 1 else ""
    if argv[0] in WITH_STDIN:  # a hook never waits past its own budget
        key = "deferred" if len(argv) == 2 and event in DEFERRED_HOOKS else event
        wait = HOOK_REPLY_S.get(key, HOOK_REPLY_S[""])
    else:
        wait = COMMAND_REPLY_S
    deadline = time.monotonic() + wait
    queued = False
    try:
        sock.settimeout(wait)
        sock.sendall(message)
        queued = True
        reply = _receive(sock, deadline)
        queued = reply is not None  # the server closed without answering: outcome unknown
    except TimeoutError:
        reply = None  # sent whole, no answer yet: the server is busy (queued stays True)
    except (OSError, ValueError):
        reply, queued = None, False  # sent (maybe partly), connection gone: outcome unknown
    except KeyboardInterrupt:
        sys.stderr.write("aether: interrupted; the server finishes the command it was given\n")
        return 130
    if reply is not None and reply.get("refused"):
        if stdin is not None:
            from aether.cli.stdin import replace_stdin

            replace_stdin(stdin)
        return None  # refused before running anything (another version): run it here
    if reply is None and queued and len(argv) == 2 and event in DEFERRED_HOOKS:
        # whole on the socket of a busy server, which takes it when it is free
        sys.stderr.write(f"aether hook {event}: handed to the busy aether server; done later\n")
        return 0
    if reply is None:
        return _lost(argv)
    sys.stdout.write(str(reply.get("stdout", "")))
    sys.stderr.write(str(reply.get("stderr", "")))
    sys.stdout.flush()
    code = reply.get("exit")
    return code if isinstance(code, int) else 70


def _environment(argv: list[str]) -> dict[str, str]:
    """The command's environment as sent. A hook also names the agent runtime it runs under:
    the server's own ancestors are not the session's (aether.process_identity)."""
    env = dict(os.environ)
    if argv[0] == "hook":
        from aether.hook_client import RUNTIME_PROCESS_VARIABLE
        from aether.process_identity import find_runtime_process

        process = find_runtime_process(os.getppid())
        if process is not None:
            env.setdefault(RUNTIME_PROCESS_VARIABLE, process.encode())
    return env


def _lost(argv: list[str]) -> int:
    from aether.errors import ServerLost

    lost = ServerLost(
        "the aether server stopped (or did not answer in time) before answering",
        meaning="whether the command took effect is unknown; it was not run again",
        fix="check with `aether status` / `aether workers`; AETHER_SERVER=off runs "
        "commands without the server",
    )
    if "--json" in argv:
        sys.stdout.write(json.dumps(lost.to_json(), sort_keys=True) + "\n")
    sys.stderr.write(f"aether: error: {lost.one_line()}\n")
    return lost.exit_code


def _take_stdin() -> bytes | None:
    """This command's stdin for the server, read whole; None when the command must run here:
    on a terminal (left unread), or when the read did not get the whole input (larger than
    the limit, or not ended in time). What was read is put back as stdin, with the reason the
    read stopped short, so a command run here reports exactly what it would have reported
    without a server."""
    from aether.cli.stdin import replace_stdin, slurp_stdin

    data, problem = slurp_stdin()
    if problem and not data and "terminal" in problem:
        return None
    replace_stdin(data, problem)
    return None if problem else data


# --- the server ---------------------------------------------------------------------------------


def _private_socket_dir() -> str:
    """Create or check the socket directory: ours, a real directory, mode 0700."""
    from aether.errors import ServerUnavailable

    directory = socket_dir()
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:  # TMPDIR names nothing, a file, a read-only place
        raise ServerUnavailable(
            f"cannot create the socket directory {directory} ({exc.strerror})",
            fix="set TMPDIR to a directory this user can write, or unset it (/tmp is used)",
        ) from None
    if not _is_private_dir(directory):
        raise ServerUnavailable(
            f"{directory} is not a private directory of this user",
            meaning="another user could hand commands to the server or pose as it",
            fix=f"remove {directory} (aether recreates it with mode 0700) or set TMPDIR",
        )
    return directory


def code_fingerprint() -> str:
    """Which aether code is installed: the version and every module's size and modification
    time. A server compares a client's with the one it started with and refuses (then stops)
    when they differ, so an upgraded or edited install never runs old code (~1 ms)."""
    import hashlib

    from aether import __version__

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the aether package
    digest = hashlib.sha256(__version__.encode())
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(directory, name))
                rel = os.path.relpath(os.path.join(directory, name), root)
                digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def control(aether_dir: str, action: str, timeout: float = 5.0) -> dict[str, Any] | None:
    """Ask the colony's server for ``status`` or to ``stop``; its answer, or None when no
    server answers (nothing runs, nothing waits longer than ``timeout``)."""
    import socket

    try:
        if not _is_private_dir(socket_dir()):
            return None
        path = socket_path(aether_dir)
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        if _peer_uid(sock) not in (None, os.getuid()):
            return None
        _send(sock, {"control": action, "aether_dir": aether_dir})
        return _receive(sock, time.monotonic() + timeout)
    except (OSError, ValueError):
        return None
    finally:
        sock.close()
