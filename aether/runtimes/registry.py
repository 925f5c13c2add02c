"""The runtimes aether knows: each runtime package's adapter, found by kind.

The one place outside a runtime's own package that names it (beside the CLI's commands for it):
a new runtime (opencode) is one more package under ``aether/runtimes/`` with an ``adapter``
module, imported here and added to ``RUNTIMES``. The neutral use cases in ``aether.ops`` and
the reports never import a runtime's package; they ask this module for the runtime of a hook or
a record (aether/runtimes/adapter.py says what they may ask). It sits below ``aether.ops``: it
imports only the adapters, which import nothing of their runtime until asked. One question
reaches above: ``doctor_checks`` loads each runtime's ``doctor`` module, which compares the
installed files with an install plan (a use case); only ``aether doctor``'s command asks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aether.runtimes.claude.adapter import RUNTIME as CLAUDE_CODE
from aether.runtimes.codex.adapter import RUNTIME as CODEX

if TYPE_CHECKING:
    from aether.health import Check
    from aether.runtimes.adapter import HeadlessReader, Runtime
    from aether.workspace import Workspace

#: every runtime, in the order ``aether doctor`` reports their checks
RUNTIMES: tuple[Runtime, ...] = (CLAUDE_CODE, CODEX)
#: the runtime of a hook or a record that names none: Claude Code's hooks run without
#: ``--runtime`` (it was the first runtime aether served)
DEFAULT: Runtime = CLAUDE_CODE


def known(kind: str) -> Runtime | None:
    """The runtime whose kind is ``kind`` (``claude-code``, ``codex``), if aether knows it."""
    for rt in RUNTIMES:
        if rt.kind == kind:
            return rt
    return None


def runtime(kind: str) -> Runtime:
    """The runtime whose kind is ``kind``; ``DEFAULT`` for any other."""
    return known(kind) or DEFAULT


def headless_reader(argv: list[str], env: dict[str, str]) -> HeadlessReader | None:
    """The reader of a worker command's output when ``argv`` is a headless run of a runtime
    that ends by saying what it used (the first runtime that recognises it)."""
    for rt in RUNTIMES:
        reader = rt.headless_reader(argv, env)
        if reader is not None:
            return reader
    return None


def doctor_checks(ws: Workspace, *, check_proxy: bool) -> list[Check]:
    """Each runtime's integration checks, runtime by runtime."""
    return [c for rt in RUNTIMES for c in rt.doctor_checks(ws, check_proxy=check_proxy)]
