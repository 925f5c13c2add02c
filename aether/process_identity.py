"""Which process runs an agent session, and whether it still does.

A hook is a child of the agent runtime's process (Claude Code runs each hook command through
``/bin/sh -c``; aether's launcher is a shell script too). Walking up from the hook past those
shells finds the runtime. Its identity is the pid *and* the kernel's start time of that pid, so
a pid the system reuses later is never mistaken for the session: a session is alive while a
process with that pid and that start time exists.

Linux only (``/proc``). Elsewhere every answer is "unknown" and callers fall back to time-based
rules (docs/claude-code.md).
"""

from __future__ import annotations

import os

from aether.records import record

#: processes between a hook and its runtime: shells, the launcher script, wrappers
_PASS_THROUGH = frozenset(
    {"sh", "bash", "dash", "zsh", "ksh", "mksh", "busybox", "fish", "env", "aether-hook"}
)
#: how far up to look for the runtime (a hook sits two or three levels below it)
_MAX_DEPTH = 8
#: handed from a client to ``aether serve`` (whose own ancestors are not the session's)
RUNTIME_PROCESS_VARIABLE = "AETHER_RUNTIME_PROCESS"


@record(frozen=True)
class ProcessIdentity:
    pid: int
    #: the process's start time in clock ticks since boot (``/proc/PID/stat`` field 22)
    start: int

    def to_json(self) -> dict[str, int]:
        return {"pid": self.pid, "start": self.start}

    def encode(self) -> str:
        return f"{self.pid}:{self.start}"

    @classmethod
    def decode(cls, text: str) -> ProcessIdentity | None:
        pid, _, start = text.partition(":")
        if not (pid.isdigit() and start.isdigit()):
            return None
        return cls(int(pid), int(start))

    @classmethod
    def from_json(cls, value: object) -> ProcessIdentity | None:
        if not isinstance(value, dict):
            return None
        pid, start = value.get("pid"), value.get("start")
        if isinstance(pid, int) and isinstance(start, int) and pid > 0:
            return cls(pid, start)
        return None


def _stat(pid: int) -> tuple[str, str, int, int] | None:
    """(name, state, parent pid, start time) of ``pid``, or None when there is no such
    process (or no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return None
    # the name is in parentheses and may itself hold spaces or parentheses
    open_at, close_at = raw.find("("), raw.rfind(")")
    if open_at < 0 or close_at < open_at:
        return None
    name = raw[open_at + 1 : close_at]
    fields = raw[close_at + 2 :].split()
    try:
        return name, fields[0], int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def runtime_process(pid_hint: str | None = None) -> ProcessIdentity | None:
    """The agent runtime this hook runs under: the pid the runtime names (Claude Code gives its
    hooks ``CLAUDE_PID``), else one handed over in the environment (a client of ``aether
    serve`` sends its own), else the first ancestor that is not a shell."""
    if pid_hint and pid_hint.isdigit():
        info = _stat(int(pid_hint))
        return ProcessIdentity(int(pid_hint), info[3]) if info is not None else None
    handed = os.environ.get(RUNTIME_PROCESS_VARIABLE)
    if handed:
        return ProcessIdentity.decode(handed)
    return find_runtime_process(os.getppid())


def find_runtime_process(start_pid: int) -> ProcessIdentity | None:
    pid = start_pid
    for _ in range(_MAX_DEPTH):
        if pid <= 1:
            return None
        info = _stat(pid)
        if info is None:
            return None
        name, _state, parent, started = info
        if name not in _PASS_THROUGH:
            return ProcessIdentity(pid, started)
        pid = parent
    return None


def is_alive(identity: ProcessIdentity) -> bool | None:
    """True while that process runs; False once it is gone (or a zombie, or its pid now names
    another process); None when this system cannot tell."""
    if not os.path.isdir("/proc/self"):
        return None
    info = _stat(identity.pid)
    if info is None:
        return False
    _name, state, _parent, started = info
    return started == identity.start and state not in ("Z", "X")
