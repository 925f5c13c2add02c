"""Run one aether command line inside the current process, as if it were a fresh ``aether``.

``aether serve`` runs every command it is handed this way, and the test suite runs CLI
behaviour this way too (tests/helpers.py), so both exercise the exact path a served command
takes. The command gets the given environment, working directory, argv and stdin; its stdout
and stderr are captured; everything of the caller's own is restored afterwards, whatever the
command did.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from typing import Any

from aether.records import record


@record(frozen=True)
class CapturedRun:
    """What a command line did: its exit code and everything it wrote."""

    exit: int
    stdout: str
    stderr: str


def run_in_process(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str,
    stdin: bytes = b"",
    command: Any = None,
) -> CapturedRun:
    """Run ``argv`` with ``env``, ``cwd`` and ``stdin`` in this process. ``command`` is a Click
    command built once from every registered command (None: built for this call)."""
    from aether.errors import AetherError, BadWorkspace

    saved_env, saved_argv, saved_stdin = dict(os.environ), sys.argv, sys.stdin
    saved_cwd = os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(env)
        sys.argv = ["aether", *argv]
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="replace")
        try:
            os.chdir(cwd)
        except OSError as exc:  # the caller's directory is gone
            raise BadWorkspace(f"cannot run in {cwd}: {exc.strerror}") from None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = _run_guarded(argv, command, err)
    except AetherError as exc:  # the same boundary as the CLI's: one line, its exit code
        err.write(f"aether: error: {exc.one_line()}\n")
        code = exc.exit_code
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv = saved_argv
        sys.stdin = saved_stdin
        os.chdir(saved_cwd)
    return CapturedRun(code, out.getvalue(), err.getvalue())


def _run_guarded(argv: list[str], command: Any, err: io.StringIO) -> int:
    """``run`` with the entry point's last resort (aether.cli.main.main): a bug is one
    redacted line and exit 70, never a dead caller."""
    from aether.cli.main import run

    try:
        return run(argv, command=command)
    except Exception as exc:
        from aether.cli.common import debug_traceback
        from aether.errors import AetherError
        from aether.redaction import redact

        debug_traceback(exc)
        internal = AetherError(f"internal error: {type(exc).__name__}: {exc}")
        err.write(f"aether: error: {redact(internal.one_line())} this is a bug in aether.\n")
        return internal.exit_code
