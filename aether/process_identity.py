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

from aether.hook_client import RUNTIME_PROCESS_VARIABLE, process_stat, runtime_process_of
from aether.records import record


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


def runtime_process(pid_hint: str | None = None) -> ProcessIdentity | None:
    """The agent runtime this hook runs under: the pid the runtime names (Claude Code gives its
    hooks ``CLAUDE_PID``), else one handed over in the environment (a client of ``aether
    serve`` sends its own), else the first ancestor that is not a shell."""
    if pid_hint and pid_hint.isdigit():
        info = process_stat(int(pid_hint))
        return ProcessIdentity(int(pid_hint), info[3]) if info is not None else None
    handed = os.environ.get(RUNTIME_PROCESS_VARIABLE)
    if handed:
        return ProcessIdentity.decode(handed)
    return find_runtime_process(os.getppid())


def find_runtime_process(start_pid: int) -> ProcessIdentity | None:
    """The first process from ``start_pid`` up that is not a shell or the launcher: how the
    launcher's own client (aether.hook_client) finds it too."""
    found = runtime_process_of(start_pid)
    return ProcessIdentity(*found) if found is not None else None


def is_alive(identity: ProcessIdentity) -> bool | None:
    """True while that process runs; False once it is gone (or a zombie, or its pid now names
    another process); None when this system cannot tell."""
    if not os.path.isdir("/proc/self"):
        return None
    info = process_stat(identity.pid)
    if info is None:
        return False
    _name, state, _parent, started = info
    return started == identity.start and state not in ("Z", "X")
