"""The runtimes aether knows, and what each one adds to a runtime-neutral use case.

The one place outside a runtime's own package that names it (beside the CLI's command
registration): a new runtime is one more package under ``aether/runtimes/`` and one more line
in each table here. The neutral use cases in ``aether.ops`` never import a runtime's use-case
modules; they take what a runtime adds from here (``aether doctor``'s checks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aether.ops.doctor.checks import Check
    from aether.workspace import Workspace

#: every runtime, in the order its checks are reported
RUNTIMES = ("claude", "codex")


def doctor_checks(ws: Workspace, *, check_proxy: bool) -> list[Check]:
    """Each installed runtime's integration checks, runtime by runtime."""
    from aether.runtimes.claude.doctor import claude_checks
    from aether.runtimes.codex.doctor import codex_checks

    return [*claude_checks(ws, check_proxy=check_proxy), *codex_checks(ws)]
