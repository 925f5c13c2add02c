"""What every command shares: global options, error mapping, JSON/human output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import typer

from aether.errors import AetherError
from aether.records import record

if TYPE_CHECKING:
    from rich.console import Console

    from aether.workspace import Workspace


class JsonResult(Protocol):
    def to_json(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=JsonResult)

JSON_OPTION = typer.Option(False, "--json", help="Print exactly one JSON object on stdout.")


@record
class Globals:
    dir: str | None = None
    lock_timeout: float | None = None


def globals_of(ctx: typer.Context) -> Globals:
    root = ctx.find_root()
    obj = root.obj
    if isinstance(obj, Globals):
        return obj
    return Globals()


def workspace(ctx: typer.Context) -> Workspace:
    """The colony this command works on (``NoColony`` when there is none)."""
    from aether.workspace import discover

    return discover(globals_of(ctx).dir)


def init_workspace(ctx: typer.Context) -> Workspace:
    from aether.workspace import for_init

    return for_init(globals_of(ctx).dir)


def lock_timeout(ctx: typer.Context) -> float | None:
    return globals_of(ctx).lock_timeout


def stdout_console() -> Console:
    """Rich on a terminal; a plain-text stand-in when stdout is piped (no Rich import)."""
    if not sys.stdout.isatty():
        from typing import cast

        from aether.cli.plain import PlainConsole

        return cast("Console", PlainConsole())
    from rich.console import Console

    from aether.text import visible

    class VisibleConsole(Console):
        """Rich, with control characters in printed text shown, never sent to the terminal."""

        def print(self, *objects: Any, **kwargs: Any) -> None:
            super().print(*(visible(o) if isinstance(o, str) else o for o in objects), **kwargs)

    return VisibleConsole(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def print_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, sort_keys=True) + "\n")
    sys.stdout.flush()


def fail(error: AetherError, json_out: bool) -> typer.Exit:
    """Report ``error`` (one line on stderr; the JSON error object on stdout with --json)."""
    from aether.redaction import redact
    from aether.text import visible

    line = visible(redact(error.one_line()))
    if json_out:
        payload = error.to_json()
        print_json(json.loads(redact(json.dumps(payload))))
    sys.stderr.write(f"aether: error: {line}\n")
    sys.stderr.flush()
    return typer.Exit(error.exit_code)


def warn(message: str) -> None:
    from aether.text import visible

    sys.stderr.write(f"aether: warning: {visible(message)}\n")


def warn_each(warnings: list[str]) -> None:
    for message in warnings:
        warn(message)


def execute(
    json_out: bool,
    run: Callable[[], R],
    render: Callable[[R, Console], None] | None = None,
    *,
    text: Callable[[R], str] | None = None,
) -> R:
    """Run a use case and print its result; map every aether error to its exit code.

    ``render`` draws with Rich; ``text`` returns plain text instead, for hot paths that
    should not pay for importing Rich (~35 ms).
    """
    try:
        result = run()
    except AetherError as exc:
        raise fail(exc, json_out) from None
    except KeyboardInterrupt:
        sys.stderr.write("aether: interrupted\n")
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as exc:  # a bug: one line, never a traceback unless asked for
        debug_traceback(exc)
        internal = AetherError(
            f"internal error: {type(exc).__name__}: {exc}",
            meaning="this is a bug in aether; nothing was written after the failure",
            fix="run again with AETHER_DEBUG=1 for a traceback and report it",
        )
        raise fail(internal, json_out) from None
    try:
        if json_out:
            print_json(result.to_json())
        elif text is not None:
            sys.stdout.write(text(result))
            sys.stdout.flush()
        elif render is not None:
            render(result, stdout_console())
    except BrokenPipeError:  # `aether … | head`: the reader left; the work is done
        _silence_stdout()
    except Exception as exc:  # a rendering bug: the work is done, say so in one line
        debug_traceback(exc)
        raise fail(
            AetherError(
                f"internal error while printing the result: {type(exc).__name__}: {exc}",
                meaning="this is a bug in aether's output; the command itself completed",
                fix="run again with --json, or with AETHER_DEBUG=1 for a traceback, and report it",
            ),
            json_out,
        ) from None
    return result


def debug_traceback(exc: BaseException) -> None:
    """With ``AETHER_DEBUG`` set, the traceback on stderr — redacted like everything aether
    prints: an exception's message can quote a secret (a malformed key in a header error)."""
    if not os.environ.get("AETHER_DEBUG"):
        return
    import traceback

    from aether.redaction import redact

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    sys.stderr.write(redact(text))
    sys.stderr.flush()


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
