"""Console-script entry point: the one place usage errors become a single stderr line."""

from __future__ import annotations

import gc
import json
import os
import sys
from typing import Any, NoReturn


def _usage_error_line(exc: Exception) -> tuple[str, int] | None:
    """Typer (Click) usage errors, recognised by shape: they carry a message and an exit code."""
    format_message = getattr(exc, "format_message", None)
    exit_code = getattr(exc, "exit_code", None)
    if not callable(format_message) or not isinstance(exit_code, int):
        return None
    message = " ".join(str(format_message()).split())
    ctx = getattr(exc, "ctx", None)
    command_path = getattr(ctx, "command_path", None) or "aether"
    return f"{message} (see `{command_path} --help`)", exit_code


def _without_pydantic_plugins() -> None:
    """aether uses no Pydantic plugins; don't pay for looking them up.

    The first model Pydantic builds imports its plugin loader, which imports
    ``importlib.metadata`` (~15 ms) and scans every installed distribution's entry points —
    in each of the many short processes agents start. The stand-in below answers "no plugins"
    for this process only (nothing is put in the environment, so workers started by
    ``spawn --exec`` are unaffected). Any other name asked of it loads the real module, so a
    Pydantic release that reorganises the loader still works, only without the saving.
    """
    import types

    name = "pydantic.plugin._loader"
    if name in sys.modules:
        return
    stand_in = types.ModuleType(name)

    def get_plugins() -> tuple[()]:
        return ()

    def __getattr__(attr: str) -> object:
        if attr.startswith("__"):  # the import system probing (__path__, ...)
            raise AttributeError(attr)
        import importlib

        del sys.modules[name]
        return getattr(importlib.import_module(name), attr)

    stand_in.get_plugins = get_plugins  # type: ignore[attr-defined]
    stand_in.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = stand_in


def main() -> None:
    # Python's cyclic garbage collector is off in a one-shot command. Such a command ends
    # within a second, and its end (``end_process``) releases everything at once; reference
    # counting still frees every object that is not in a cycle (aether makes few). Each
    # collection walks every object still young — ~20,000 after the imports — for nothing:
    # off, paired in one run, `aether status --json` ran 4-6 ms faster and `aether migrate`
    # of a 10,000-event colony 9-13 ms. A server lives long: ``serve_forever`` turns it back
    # on, with these thresholds (a collection every 20,000 allocations, as mypy raises them:
    # the default 700 walked a migrated colony's 10,000 events 146 times).
    gc.set_threshold(20_000, 10, 10)
    gc.disable()
    argv = sys.argv[1:]
    from aether.cli import server
    from aether.cli.server import forward

    server.whole_process = True  # this process is aether's own: a hook may fork it into a server

    try:
        code = forward(argv)  # a running `aether serve` for this colony, if any
        code = code if code is not None else run(argv)
    except Exception as exc:  # the last resort: one line, a traceback only when asked for
        from aether.cli.common import debug_traceback
        from aether.redaction import redact

        debug_traceback(exc)
        line = redact(f"internal error: {type(exc).__name__}: {exc}")
        sys.stderr.write(f"aether: error: {' '.join(line.split())}. this is a bug in aether.\n")
        code = 70
    end_process(code)


def end_process(code: int) -> NoReturn:
    """Exit with ``code`` once the output is flushed, without the interpreter's teardown.

    A finished command has nothing left to do: every file it wrote is closed and synced, and
    it starts no thread that outlives it. Python's teardown would still unload each module it
    imported (Typer, Rich, Pydantic) and free every object one by one — measured in paired runs
    of ``aether status --json``, whole processes, a fifth of the command's time; for ``aether
    migrate`` of a large colony, the 10,000 events it loaded. So the process ends here. The
    normal exit stays when the teardown has work to do: another thread still runs (it would be
    waited for), coverage measures this process (it saves its data at exit), or the output
    cannot be flushed (the normal exit reports that as it always did).
    """
    if threading_started() or "coverage" in sys.modules:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)


def threading_started() -> bool:
    """Whether a thread besides this one runs (only when ``threading`` was imported at all)."""
    threading = sys.modules.get("threading")
    return threading is not None and threading.active_count() > 1


def run(argv: list[str], *, command: Any = None) -> int:
    """Run one aether command line in this process and return its exit code. The server
    passes the Click ``command`` it built once from every registered command (building it is
    ~10 ms of Typer work per call)."""
    _without_pydantic_plugins()
    if command is None:
        from aether.cli.app import app, register

        register(app, argv)
        import typer.main

        command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="aether", standalone_mode=False)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.stderr.write("aether: interrupted\n")
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain `aether`: show the help
            sys.stdout.write(str(getattr(exc, "format_message", lambda: "")()) + "\n")
            return 0
        usage = _usage_error_line(exc)
        if usage is None:
            raise
        line, exit_code = usage
        if "--json" in argv:
            payload = {
                "ok": False,
                "error": {"kind": "usage", "exit_code": exit_code, "message": line},
            }
            sys.stdout.write(json.dumps(payload, sort_keys=True) + "\n")
        sys.stderr.write(f"aether: error: {line}\n")
        return exit_code
    return code if isinstance(code, int) else 0
