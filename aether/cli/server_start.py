"""A server started by a hook: the colony's hooks handed to ``aether serve`` with nobody
starting it by hand.

The first hook of a session that finds no server runs in its own process as before, answers,
and then starts ``aether serve`` for the colony in the background: it forks, and its copy
becomes the server (one fork for the hook). The hooks after it — of this session and of the
next ones — are handed to that server. It stops after ``AUTO_IDLE_S`` without a command,
when the installed aether changes (its code fingerprint), on ``aether serve --stop``;
``AETHER_SERVER=off`` or ``manual`` keeps hooks from starting one (docs/server.md).
"""

from __future__ import annotations

import os
import sys
import time

from aether.cli import server
from aether.cli.server import ENV_OFF, _private_socket_dir
from aether.hook_client import socket_path

#: the idle timeout of a server a hook started: long enough to carry one session to the next
AUTO_IDLE_S = 900.0
#: a server start claimed this long ago and not listening yet is taken for failed
STARTING_STALE_S = 10.0


def _starting_marker(aether_dir: str) -> str:
    return socket_path(aether_dir)[: -len(".sock")] + ".starting"


def start_in_background(aether_dir: str, project: str, log_path: str) -> bool:
    """Start ``aether serve`` for the colony in the background (a new session, no terminal,
    stdin and stdout on /dev/null, stderr appended to ``log_path``), unless servers are off or
    manual, this is a server, one answers already or another process is starting one. True
    when one was started. Where the system can fork, this process itself becomes the server:
    its copy after ``fork`` has Python, Typer, pydantic and aether loaded already, so the
    server listens within milliseconds instead of after a whole start-up (which would compete
    for the CPU with the session's next hooks); elsewhere a new ``python -m aether serve``.
    The caller's answer must be written before this is called. The server stops after
    ``AUTO_IDLE_S`` without a command, and when the installed code changes."""
    import socket

    if not server.whole_process or os.environ.get(ENV_OFF, "auto") not in ("", "auto"):
        return False
    try:
        _private_socket_dir()
        path = socket_path(aether_dir)
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
            return False  # one is listening
        except OSError:
            pass
        finally:
            probe.close()
        marker = _starting_marker(aether_dir)
        try:
            if time.time() - os.stat(marker).st_mtime < STARTING_STALE_S:
                return False  # another hook is starting one
            os.unlink(marker)
        except FileNotFoundError:
            pass
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        _trim_log(log_path)
        if hasattr(os, "fork"):
            _become_server_in_a_fork(aether_dir, project, log_path)
        else:  # pragma: no cover - systems without fork
            _start_server_process(project, log_path)
    except Exception:  # a server is only ever a saving: starting one never fails a hook
        return False
    return True


def _become_server_in_a_fork(aether_dir: str, project: str, log_path: str) -> None:
    """Fork; the child leaves the caller's session and pipes (the hook's stdout and stderr
    must reach end-of-file when the hook exits, or Claude Code would wait) and serves."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork():
        return  # the hook: it exits as it would have
    code = 1
    try:
        os.setsid()
        os.chdir(project)  # not the hook's directory, which may go away while the server runs
        os.closerange(3, 1024)  # the hook's own files: nothing it opened stays open here
        devnull = os.open(os.devnull, os.O_RDWR)
        log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(log, 2)
        os.close(devnull)
        os.close(log)
        from aether.cli.server_loop import serve_forever

        def ready(socket_file: str) -> None:
            listening(aether_dir)
            sys.stderr.write(f"aether: serving {aether_dir} on {socket_file} (started by a hook)\n")
            sys.stderr.flush()

        code = serve_forever(aether_dir, AUTO_IDLE_S, ready)
    except BaseException:  # whatever it was, this copy of the hook must end here
        pass
    finally:
        os._exit(code)


def _start_server_process(project: str, log_path: str) -> None:  # pragma: no cover
    import subprocess

    with open(log_path, "ab") as log:
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aether",
                "--dir",
                project,
                "serve",
                "--idle-timeout",
                str(AUTO_IDLE_S),
            ],
            cwd=project,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )


def _trim_log(log_path: str, limit: int = 1 << 20) -> None:
    """Keep the servers' log small: past ``limit`` bytes it starts over (one old copy kept)."""
    try:
        if os.path.getsize(log_path) > limit:
            os.replace(log_path, log_path + ".1")
    except OSError:
        pass


def listening(aether_dir: str) -> None:
    """A server a hook started listens: the start it was claimed by is over."""
    try:
        os.unlink(_starting_marker(aether_dir))
    except OSError:
        pass
