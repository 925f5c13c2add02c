"""Console-script entry point: the one place usage errors become a single stderr line."""

from __future__ import annotations

import json
import os
import sys


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


def main() -> None:
    # Pydantic scans every installed distribution's entry points for plugins the first time a
    # model is built (~7 ms, more in large environments). aether uses no Pydantic plugins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from aether.cli.app import app, register

    register(app, sys.argv[1:])

    try:
        code = app(prog_name="aether", standalone_mode=False)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.stderr.write("aether: interrupted\n")
        sys.exit(130)
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain `aether`: show the help
            sys.stdout.write(str(getattr(exc, "format_message", lambda: "")()) + "\n")
            sys.exit(0)
        usage = _usage_error_line(exc)
        if usage is None:
            raise
        line, exit_code = usage
        if "--json" in sys.argv[1:]:
            payload = {
                "ok": False,
                "error": {"kind": "usage", "exit_code": exit_code, "message": line},
            }
            sys.stdout.write(json.dumps(payload, sort_keys=True) + "\n")
        sys.stderr.write(f"aether: error: {line}\n")
        sys.exit(exit_code)
    sys.exit(code if isinstance(code, int) else 0)
