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
from collections.abc import Callable
from typing import Any

from aether.records import record


@record(frozen=True)
class CapturedRun:
    """What a command line did: its exit code and everything it wrote, and the work it left
    for after its answer (``later``: only when the caller took it, see :func:`run_later`)."""

    exit: int
    stdout: str
    stderr: str
    later: tuple[Callable[[], None], ...] = ()


#: work the running command leaves for after its answer; a list only while a caller that sends
#: the answer first (the server) runs the command (``run_in_process(..., later=True)``)
_after_answer: list[Callable[[], None]] | None = None


def after_answer(work: Callable[[], None]) -> bool:
    """Leave ``work`` until the command's answer is out, when the caller takes such work (a
    served hook: its client stops waiting as soon as the answer is sent); False when it does
    not (a command in a process of its own): the command then does the work itself, before it
    answers."""
    if _after_answer is None:
        return False
    _after_answer.append(work)
    return True


def run_later(
    work: tuple[Callable[[], None], ...], *, env: dict[str, str], cwd: str
) -> CapturedRun:
    """Do the work a command left for after its answer, in the command's environment and
    directory again (its output captured: nobody waits for it any more)."""
    return _in_context(lambda err: _each(work), env=env, cwd=cwd, argv=[], stdin=b"")


def _each(work: tuple[Callable[[], None], ...]) -> int:
    for item in work:
        item()  # each is its own last resort (aether/cli/cmd_hook.py)
    return 0


def run_in_process(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str,
    stdin: bytes = b"",
    command: Any = None,
    later: bool = False,
) -> CapturedRun:
    """Run ``argv`` with ``env``, ``cwd`` and ``stdin`` in this process. ``command`` is a Click
    command built once from every registered command (None: built for this call). With
    ``later``, work the command leaves for after its answer (:func:`after_answer`) is returned
    in ``CapturedRun.later`` for the caller to :func:`run_later` once it has answered."""
    global _after_answer
    taken: list[Callable[[], None]] = []
    saved_later, _after_answer = _after_answer, (taken if later else None)
    try:
        ran = _in_context(
            lambda err: _run_guarded(argv, command, err), env=env, cwd=cwd, argv=argv, stdin=stdin
        )
    finally:
        _after_answer = saved_later
    return CapturedRun(ran.exit, ran.stdout, ran.stderr, tuple(taken))


def _in_context(
    body: Callable[[io.StringIO], int],
    *,
    env: dict[str, str],
    cwd: str,
    argv: list[str],
    stdin: bytes,
) -> CapturedRun:
    """``body`` run with the given environment, directory, argv and stdin, its output
    captured; everything of the caller's own restored afterwards, whatever it did."""
    from aether.errors import AetherError, BadWorkspace

    saved_env, saved_argv, saved_stdin = dict(os.environ), sys.argv, sys.stdin
    saved_cwd = os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    try:
        _set_environ(env)
        sys.argv = ["aether", *argv]
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="replace")
        try:
            os.chdir(cwd)
        except OSError as exc:  # the caller's directory is gone
            raise BadWorkspace(f"cannot run in {cwd}: {exc.strerror}") from None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = body(err)
    except AetherError as exc:  # the same boundary as the CLI's: one line, its exit code
        err.write(f"aether: error: {exc.one_line()}\n")
        code = exc.exit_code
    finally:
        _set_environ(saved_env)
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


def _set_environ(env: dict[str, str]) -> None:
    """Make ``os.environ`` exactly ``env``, touching only the variables that differ (each
    change is a ``putenv``/``unsetenv``; a server's requests mostly share their environment)."""
    current = os.environ
    for name in [n for n in current if n not in env]:
        del current[name]
    for name, value in env.items():
        if current.get(name) != value:
            current[name] = value
