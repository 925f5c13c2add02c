"""``aether doctor``: a read-only health report. It never writes, never waits on the lock.

Checks: state file size and validity, event and worker counts (in the state and compacted),
who holds the lock, leftover temp files, handoff, profile validity, proxy readiness, and the
Claude Code integration when it is installed (``aether.ops.doctor_claude``; it runs aether's
own hook launcher with ``--which``, without any key in its environment, to see which aether a
hook would run), and the Codex integration likewise (``aether.ops.doctor_codex``: its files,
its hooks' trust in config.toml, its launcher). A check that fails makes ``ok`` false (exit
1); warnings do not.
"""

from __future__ import annotations

from typing import Any

from aether.ops.doctor_checks import (
    Check,
    handoff_checks,
    lock_check,
    memory_check,
    profile_checks,
    state_checks,
    temp_files_check,
)
from aether.records import field, record
from aether.workspace import Workspace


@record
class DoctorResult:
    ws: Workspace
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(c.level == "fail" for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "root": str(self.ws.root),
            "checks": [c.to_json() for c in self.checks],
        }


def run_doctor(ws: Workspace, *, check_proxy: bool = True) -> DoctorResult:
    from aether.ops.doctor_claude import claude_checks
    from aether.ops.doctor_codex import codex_checks

    state, checks = state_checks(ws)
    checks += [lock_check(ws), temp_files_check(ws), *handoff_checks(ws, state)]
    checks += [memory_check(ws), *profile_checks(ws, check_proxy)]
    checks += claude_checks(ws, check_proxy=check_proxy)
    checks += codex_checks(ws)
    return DoctorResult(ws, checks)
