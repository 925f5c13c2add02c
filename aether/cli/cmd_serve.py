"""``aether serve``: keep one aether process resident for a colony (aether/cli/server.py,
aether/cli/server_loop.py); ``--status`` and ``--stop`` ask a running one."""

from __future__ import annotations

import sys

import typer

from aether.cli.common import JSON_OPTION, fail, print_json, workspace


def serve(
    ctx: typer.Context,
    idle_timeout: float = typer.Option(
        600.0,
        "--idle-timeout",
        min=1,
        max=86_400,
        help="Exit after this many seconds without a command.",
    ),
    status: bool = typer.Option(
        False, "--status", help="Say whether a server runs for this colony (exit 1 if none)."
    ),
    stop: bool = typer.Option(
        False, "--stop", help="Stop this colony's server after the command it is running."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Serve short commands (spawn, status, worker, memory add, hook, ...) for this colony from
    one resident process, so agents do not pay Python + Typer start-up each time.

    Runs in the foreground until SIGINT/SIGTERM, `aether serve --stop` or the idle timeout.
    Commands find it by themselves; AETHER_SERVER=off makes a command run in its own process.
    Served output is not a terminal: tables are plain columns, without colour.
    """
    from aether.errors import AetherError

    try:
        ws = workspace(ctx)
    except AetherError as exc:  # no colony here: its own exit code, not the last resort's 70
        raise fail(exc, json_out=json_out) from None
    if status or stop:
        _ask(str(ws.root), "stop" if stop else "status", json_out)
    from aether.cli.server_loop import serve_forever

    def ready(path: str) -> None:
        sys.stderr.write(f"aether: serving {ws.root} on {path}\n")
        sys.stderr.flush()

    try:
        code = serve_forever(str(ws.root), idle_timeout, ready)
    except AetherError as exc:
        raise fail(exc, json_out=json_out) from None
    if json_out:  # one object, once it has stopped (its log line is on stderr)
        print_json({"ok": code == 0, "colony": str(ws.root), "running": False})
    raise typer.Exit(code)


def _ask(aether_dir: str, action: str, json_out: bool) -> None:
    """``--status`` / ``--stop``: exit 0 with the server's answer, 1 when none runs."""
    import time

    from aether.cli.server import control
    from aether.hook_client import socket_path

    answer = control(aether_dir, action)
    if answer is None or not answer.get("ok"):
        if json_out:
            print_json({"ok": False, "running": False, "colony": aether_dir})
        else:
            sys.stdout.write(f"No aether server runs for {aether_dir}.\n")
        raise typer.Exit(1)
    if action == "stop":
        import os

        # it stops once its answer is sent and the command it was running (if any) is done
        path = socket_path(aether_dir)
        deadline = time.monotonic() + 10
        while os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.05)
    if json_out:
        print_json({**answer, "running": action != "stop"})
    else:
        verb = "Stopped" if action == "stop" else "Serving"
        stale = "" if answer.get("code_current", True) else " (older code: it will stop)"
        sys.stdout.write(
            f"{verb}: pid {answer.get('pid')}, since {answer.get('started_at')}, "
            f"{answer.get('served')} command(s) served{stale}.\n"
        )
    raise typer.Exit(0)


def register(app: typer.Typer) -> None:
    app.command()(serve)
