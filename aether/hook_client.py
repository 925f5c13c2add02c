"""The hook launcher's own client of ``aether serve``: a hook handed over at the interpreter floor.

A hook is one short process in the user's agent session, and a session runs several. Handed
to a server through the ``aether`` entry point, each still pays for Python's ``site`` (every
installed ``.pth`` file), aether's imports and the code fingerprint. This module needs none of
that: ``.claude/hooks/aether-hook`` runs its source with the interpreter of the ``aether`` it
found, isolated and without site-packages (``python -I -S -c SOURCE EVENT VERSION``; Codex's
``.codex/hooks/aether-hook`` adds ``codex PROJECT``), and it imports only modules built into the
interpreter (``posix``, ``_socket``, ``_json``; even the standard ``socket`` and ``json``
modules would import ``enum`` and ``re``, ~8 ms). It is also the one home of the socket's name,
which the server and the full client (aether/cli/server.py, server_loop.py) use from here, and
of how a hook's runtime process is found (aether.process_identity uses it from here).

The request is the full client's (a JSON object, 8-byte length first) with ``code`` empty —
the server checks its own code against the installed one — and ``reply: "frames"``: the answer
comes back as three length-prefixed frames (exit code, stdout, stderr) instead of JSON, so no
JSON decoder is needed here.

Exit codes to the launcher: the hook's own (``aether hook`` always exits 0); ``NOT_SERVED``
(nothing was run: no server, another aether version, a case only the full client handles — the
launcher then runs ``aether hook EVENT`` with the same input); ``LOST`` (sent, and the server
went away before answering: never run again).

``--read`` after VERSION (Claude Code's launcher, for ``session-start`` and ``pre-compact``): the
client reads the input itself, as bounded as the launcher's reader (which starts three programs,
~6 ms), and gives it back on ``GIVE_BACK_FD`` first, so the launcher still handles what is not
sent.
"""

from __future__ import annotations

import _json
import _socket
import posix
import sys
import time

NOT_SERVED = 75
LOST = 27
#: what a client waits for a hook's answer (under the hook's own timeout in the settings)
PRE_AGENT_WAIT_S = 590.0
HOOK_WAIT_S = 25.0
#: hooks that only record, which the server acknowledges at once (server.DEFERRED_HOOKS)
DEFERRED = frozenset({"subagent-start", "agent-result", "subagent-stop", "session-end"})
DEFERRED_WAIT_S = 2.0
_S_IFMT, _S_IFDIR = 0o170000, 0o040000
#: ``--read``: the launcher's bounds on a hook's input (aether/runtimes/hook_stdin.py): 10 s,
#: and 16 MiB and one byte more (aether then sees an input past its limit, and says so)
READ_S = 10.0
READ_LIMIT = 16 * 1024 * 1024 + 1
#: where ``--read`` gives the input back: what was read, a newline and the reader's status in
#: three digits (``LATE``: it did not end in time), as the launcher's reader leaves ``$raw``
GIVE_BACK_FD = 5
LATE = 124
#: set once the request starts to leave: from then on the hook is never run again
_sending = False


def _text(raw: bytes) -> str:
    """A process's bytes as Python's ``os`` module gives them (UTF-8, surrogate escapes)."""
    return raw.decode("utf-8", "surrogateescape")


def _environ() -> dict[str, str]:
    return {_text(k): _text(v) for k, v in posix.environ.items()}


def socket_dir(env: dict[str, str] | None = None) -> str:
    if env is None:  # in aether itself: ``os.environ``, which a served command may have set
        os_module = sys.modules.get("os")
        tmp = (os_module.environ if os_module else _environ()).get("TMPDIR") or "/tmp"
    else:
        tmp = env.get("TMPDIR") or "/tmp"
    return f"{tmp.rstrip('/')}/aether-{posix.getuid()}"


def socket_path(aether_dir: str, env: dict[str, str] | None = None) -> str:
    """One socket per colony, named by the ``.aether`` directory's device and inode (short
    enough for a Unix socket path, however deep the project)."""
    st = posix.stat(aether_dir)
    return f"{socket_dir(env)}/{st.st_dev:x}-{st.st_ino:x}.sock"


def is_private_dir(directory: str) -> bool:
    """A real directory (not a link), owned by this user, that nobody else may enter."""
    st = posix.lstat(directory)
    return (
        st.st_mode & _S_IFMT == _S_IFDIR and st.st_uid == posix.getuid() and not st.st_mode & 0o077
    )


def peer_uid(conn: _socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (None where unknown)."""
    if not hasattr(_socket, "SO_PEERCRED"):
        return None
    creds = conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # pid, uid, gid
    return int.from_bytes(creds[4:8], sys.byteorder, signed=True)


def _json_string(text: str) -> str:
    return str(_json.encode_basestring_ascii(text))


def request_json(
    event: str,
    version: str,
    aether_dir: str,
    cwd: str,
    env: dict[str, str],
    stdin: bytes,
    runtime: str = "",
) -> str:
    """The request object as JSON text (ASCII; what ``json.dumps`` would give): ``aether hook
    EVENT``, with ``--runtime RUNTIME`` when one is named (Claude Code's hooks name none)."""
    import binascii

    pairs = ",".join(f"{_json_string(k)}:{_json_string(v)}" for k, v in env.items())
    encoded = binascii.b2a_base64(stdin, newline=False).decode("ascii")
    argv = ["hook", event, *(("--runtime", runtime) if runtime else ())]
    return (
        f'{{"argv":[{",".join(_json_string(a) for a in argv)}],"cwd":{_json_string(cwd)},'
        f'"aether_dir":{_json_string(aether_dir)},"version":{_json_string(version)},'
        f'"code":"","reply":"frames","env":{{{pairs}}},"stdin":"{encoded}"}}'
    )


#: processes between a hook and its runtime: shells, the launcher script, wrappers
PASS_THROUGH = frozenset(
    {"sh", "bash", "dash", "zsh", "ksh", "mksh", "busybox", "fish", "env", "aether-hook"}
)
#: how far up to look for the runtime (a hook sits two or three levels below it)
MAX_DEPTH = 8
#: handed from a client to ``aether serve`` (whose own ancestors are not the session's)
RUNTIME_PROCESS_VARIABLE = "AETHER_RUNTIME_PROCESS"


def process_stat(pid: int) -> tuple[str, str, int, int] | None:
    """(name, state, parent pid, start time in clock ticks since boot) of ``pid``, from
    ``/proc/PID/stat``; None when there is no such process (or no /proc)."""
    try:
        fd = posix.open(f"/proc/{pid}/stat", posix.O_RDONLY)
    except OSError:
        return None
    try:
        raw = posix.read(fd, 4096).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        posix.close(fd)
    # the name is in parentheses and may itself hold spaces or parentheses
    open_at, close_at = raw.find("("), raw.rfind(")")
    if open_at < 0 or close_at < open_at:
        return None
    fields = raw[close_at + 2 :].split()
    try:
        return raw[open_at + 1 : close_at], fields[0], int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def runtime_process_of(pid: int) -> tuple[int, int] | None:
    """(pid, start time) of the first process from ``pid`` up that is not a shell or the
    launcher: the agent runtime a hook runs under (aether.process_identity)."""
    for _ in range(MAX_DEPTH):
        if pid <= 1:
            return None
        info = process_stat(pid)
        if info is None:
            return None
        name, _state, parent, started = info
        if name not in PASS_THROUGH:
            return pid, started
        pid = parent
    return None


def _colony_dir(env: dict[str, str], project: str | None) -> str | None:
    """The colony the full client would find for a hook run in ``project`` (Claude Code's
    project directory when None): its ``.aether`` — only in the plain case; anything else
    (``AETHER_ROOT``, a colony further up, a linked worktree) is left to the full client."""
    if project is None:
        project = env.get("CLAUDE_PROJECT_DIR")
    if not project or not project.startswith("/") or env.get("AETHER_ROOT"):
        return None
    aether_dir = project.rstrip("/") + "/.aether"
    try:
        posix.stat(aether_dir + "/data/COLONY_STATE.json")
    except OSError:
        return None
    return aether_dir


def hand_over(
    event: str, version: str, stdin: bytes, runtime: str = "", project: str | None = None
) -> int:
    """Hand the hook to the colony's server and relay its answer; the exit code. Claude Code's
    hooks name no ``runtime`` and their project is ``CLAUDE_PROJECT_DIR``; another runtime's
    launcher names both (Codex's: ``codex`` and the project its hooks.json belongs to)."""
    env = _environ()
    if env.get("AETHER_SERVER") == "off":
        return NOT_SERVED
    try:
        if not runtime:
            # the runtime's process is named by Claude Code (CLAUDE_PID); without it the
            # server could not tell whose session this is: the full client finds it
            if not env.get("CLAUDE_PID"):
                return NOT_SERVED
        elif RUNTIME_PROCESS_VARIABLE not in env:
            # a runtime that names no process to its hooks: the one this client runs under,
            # as the full client finds it (the server's own ancestors are not the session's)
            found = runtime_process_of(posix.getppid())
            if found is None:
                return NOT_SERVED
            env[RUNTIME_PROCESS_VARIABLE] = f"{found[0]}:{found[1]}"
        aether_dir = _colony_dir(env, project if runtime else None)
        if aether_dir is None or not is_private_dir(socket_dir(env)):
            return NOT_SERVED
        path = socket_path(aether_dir, env)
        cwd = posix.getcwd()
        body = request_json(event, version, aether_dir, cwd, env, stdin, runtime).encode()
    except (OSError, ValueError):
        return NOT_SERVED
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        try:
            sock.settimeout(1.0)
            sock.connect(path)
            if peer_uid(sock) not in (None, posix.getuid()):
                return NOT_SERVED
        except OSError:
            return NOT_SERVED  # no server: nothing was sent
        deferred = event in DEFERRED and not runtime  # the server's rule (server.DEFERRED_HOOKS)
        return _exchange(sock, event, deferred, len(body).to_bytes(8, "big") + body)
    finally:
        sock.close()


def _frame(sock: _socket.socket, deadline: float) -> bytes | None:
    header = read_exactly(sock, 8, deadline)
    return None if header is None else read_exactly(sock, int.from_bytes(header, "big"), deadline)


def read_exactly(sock: _socket.socket, size: int, deadline: float | None) -> bytes | None:
    """``size`` bytes, or None when the peer closed first. With a ``deadline``
    (``time.monotonic()``) all of them must have come by then, however the peer paces them
    (TimeoutError). The server and the full client read their messages with it too."""
    chunks: list[bytes] = []
    while size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the message did not arrive in time")
            sock.settimeout(left)
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _exchange(sock: _socket.socket, event: str, deferred: bool, message: bytes) -> int:
    if deferred:
        wait = DEFERRED_WAIT_S
    else:
        wait = PRE_AGENT_WAIT_S if event == "pre-agent" else HOOK_WAIT_S
    deadline = time.monotonic() + wait
    global _sending
    sent = False
    try:
        sock.settimeout(wait)
        _sending = True
        sock.sendall(message)
        sent = True
        first = _frame(sock, deadline)
        if first is not None and first.startswith(b"refused"):
            return NOT_SERVED  # refused unrun (another version, another code)
        out = _frame(sock, deadline) if first is not None else None
        err = _frame(sock, deadline) if out is not None else None
        if first is not None and out is not None and err is not None:
            sys.stdout.buffer.write(out)
            sys.stderr.buffer.write(err)
            return int(first) if first.isdigit() else 70
        sent = False  # the server closed the connection without a whole answer
    except TimeoutError:
        pass  # sent whole (when ``sent``), not answered yet: a busy server
    except OSError:
        sent = False
    if sent and deferred:  # queued whole: the server takes it when it is free
        sys.stderr.write(f"aether hook {event}: handed to the busy aether server; done later\n")
        return 0
    sys.stderr.write(
        f"aether hook {event}: the aether server stopped (or did not answer in time) before "
        "answering; whether the hook took effect is unknown\n"
    )
    return LOST


def read_bounded(fd: int, limit: int, seconds: float) -> tuple[bytes, bool]:
    """(what ``fd`` gave, whether it ended): at most ``limit`` bytes (which counts as ended),
    for ``seconds`` at most. A failed read ends it as a late one: what came before is kept."""
    import select  # an extension module of the interpreter's own (no further imports)

    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + seconds
    try:
        while size < limit:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return b"".join(chunks), False
            chunk = posix.read(fd, min(limit - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        return b"".join(chunks), False
    return b"".join(chunks), True


def _give_back(raw: bytes) -> None:
    """``raw`` to the launcher on ``GIVE_BACK_FD``, then closed (the launcher reads to its end)."""
    try:
        while raw:
            raw = raw[posix.write(GIVE_BACK_FD, raw) :]
    except OSError:
        pass  # the launcher went away: nobody needs it any more
    finally:
        try:
            posix.close(GIVE_BACK_FD)
        except OSError:
            pass


def read_and_hand_over(event: str, version: str) -> int:
    """``--read``: the hook's input read here, given back to the launcher before anything is
    sent, then handed to the server; NOT_SERVED, nothing sent, for an input that did not end
    in time (the launcher says so, as when it reads the input itself)."""
    data, ended = read_bounded(0, READ_LIMIT, READ_S)
    _give_back(data + b"\n%03d" % (0 if ended else LATE))
    return hand_over(event, version, data) if ended else NOT_SERVED


def main() -> None:
    """Exit NOT_SERVED on anything unforeseen before the request left (the launcher runs the
    hook itself then), LOST after (it must not run twice)."""
    global _sending
    try:
        # EVENT VERSION [--read], or EVENT VERSION RUNTIME PROJECT from a launcher of a
        # runtime other than Claude Code
        event, version = sys.argv[1], sys.argv[2]
        if sys.argv[3:] == ["--read"]:
            code = read_and_hand_over(event, version)
        else:
            runtime, project = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else ("", None)
            code = hand_over(event, version, sys.stdin.buffer.read(), runtime, project)
        sys.stdout.flush()
    except BaseException:  # a bug here must not cost the hook: one line, and the exit code
        sys.stderr.write("aether hook: the launcher's server client failed\n")
        code = LOST if _sending else NOT_SERVED
    sys.exit(code)


def _exit_at_once(code: object) -> None:
    """End the launcher's client without the interpreter's teardown (~2 ms of a hook the
    session waits for): what it wrote is flushed first; nothing else is left to do."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass  # the reader went away: nothing more can reach it
    posix._exit(0 if code is None else code if isinstance(code, int) else LOST)


if __name__ == "__main__":
    try:
        main()
    except SystemExit as ended:
        _exit_at_once(ended.code)
