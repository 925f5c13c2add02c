"""What a request to ``aether serve`` may ask for: the checks a request passes before anything
runs (aether/cli/server_loop.py queues it only then).

A command runs only when its request is one a real client could have sent: every argument,
environment entry and the working directory as a process could have them (no NUL byte, no
``=`` in a variable's name, nothing the file system's encoding cannot hold), stdin as base64,
for this server's colony, from the same aether version running the same installed code.
"""

from __future__ import annotations

import os
from typing import Any, Protocol, TypeGuard

from aether.cli.server import forwardable
from aether.records import record


class ServerFacts(Protocol):
    """What the checks need to know of the server (server_loop.ServerInfo)."""

    aether_dir: str
    code: str

    def installed_code(self) -> str: ...


@record(frozen=True)
class ServedCommand:
    """A command line to run as a process started by the client would have run it."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    stdin: bytes


def command_of(request: dict[str, Any], info: ServerFacts) -> ServedCommand | str:
    """The command a request asks for, or why it is refused unrun: ``version`` or ``code``
    (another aether), ``request`` (no real client sends that), ``colony`` (another colony)."""
    from aether import __version__

    argv, env, cwd = request.get("argv"), request.get("env"), request.get("cwd")
    if request.get("version") != __version__:
        return "version"
    code = request.get("code")
    if code == "":
        # a client that cannot tell which code is installed (the hook launcher's own client,
        # which runs without aether's package): this server checks that it still runs the
        # installed code, at most once a second (~2 ms a check)
        code = info.installed_code()
    if code != info.code:
        return "code"
    if not (isinstance(argv, list) and all(map(is_process_text, argv)) and forwardable(argv)):
        return "request"
    if not (isinstance(env, dict) and all(_is_env_entry(k, v) for k, v in env.items())):
        return "request"
    if not (is_process_text(cwd) and os.path.isabs(cwd)):
        return "request"
    stdin = _stdin_of(request)
    if stdin is None or not is_process_text(request.get("aether_dir")):
        return "request"
    if not same_colony(request, info):
        return "colony"
    return ServedCommand(argv, env, cwd, stdin)


def is_process_text(value: object) -> TypeGuard[str]:
    """A string a process can be given (an argument, a variable, its directory): no NUL byte,
    and nothing the file system's encoding cannot hold (bytes it cannot decode arrive as
    surrogate escapes; any other lone surrogate cannot come from a process)."""
    if not isinstance(value, str) or "\0" in value:
        return False
    try:
        os.fsencode(value)
    except UnicodeEncodeError:
        return False
    return True


def _is_env_entry(name: str, value: object) -> bool:
    return bool(name) and "=" not in name and is_process_text(name) and is_process_text(value)


def _stdin_of(request: dict[str, Any]) -> bytes | None:
    """The request's stdin (base64; empty when there is none), or None when it is not base64."""
    import base64
    import binascii

    text = request.get("stdin", "")
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def same_colony(request: dict[str, Any], info: ServerFacts) -> bool:
    """Whether the request names this server's colony (its ``aether_dir`` already checked)."""
    return os.path.realpath(str(request["aether_dir"])) == os.path.realpath(info.aether_dir)
