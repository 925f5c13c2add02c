"""``aether doctor``: a read-only health report. It never writes, never waits on the lock.

Checks: state file size and validity, event and worker counts (in the state and compacted),
who holds the lock, leftover temp files, handoff, profile validity, proxy readiness, and the
integration of every runtime installed, which the caller passes in
(``aether.runtimes.registry.doctor_checks``: Claude Code's in ``aether.runtimes.claude.doctor``
runs aether's own hook launcher with ``--which``, without any key in its environment, to see
which aether a hook would run; Codex's in ``aether.runtimes.codex.doctor`` checks its files, its
hooks' trust in config.toml, its launcher). A check that fails makes ``ok`` false (exit
1); warnings do not.
"""

from __future__ import annotations

from typing import Any, Protocol

from aether.health import Check
from aether.ops.doctor.checks import (
    handoff_checks,
    lock_check,
    memory_check,
    profile_checks,
    state_checks,
    temp_files_check,
)
from aether.records import field, record
from aether.workspace import Workspace


class RuntimeChecks(Protocol):
    def __call__(self, ws: Workspace, *, check_proxy: bool) -> list[Check]: ...


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


def run_doctor(
    ws: Workspace, *, check_proxy: bool = True, runtime_checks: RuntimeChecks | None = None
) -> DoctorResult:
    """The colony's checks, then ``runtime_checks`` (the runtimes' own: the caller passes
    ``aether.runtimes.registry.doctor_checks``; ops never import a runtime's use cases)."""
    state, checks = state_checks(ws)
    checks += [lock_check(ws), temp_files_check(ws), *handoff_checks(ws, state)]
    checks += [memory_check(ws), *profile_checks(ws, check_proxy)]
    if runtime_checks is not None:
        checks += runtime_checks(ws, check_proxy=check_proxy)
    return DoctorResult(ws, checks)
