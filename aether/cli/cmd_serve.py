"""``aether serve``: keep one aether process resident for a colony (see aether/cli/server.py)."""

from __future__ import annotations

import sys

import typer

from aether.cli.common import fail, workspace


def serve(
    ctx: typer.Context,
    idle_timeout: float = typer.Option(
        600.0,
        "--idle-timeout",
        min=1,
        max=86_400,
        help="Exit after this many seconds without a command.",
    ),
) -> None:
    """Serve short commands (spawn, status, worker, memory add, ...) for this colony from one
    resident process, so agents do not pay Python + Typer start-up each time.

    Runs in the foreground until SIGINT/SIGTERM or the idle timeout. Commands find it by
    themselves; AETHER_SERVER=off makes a command run in its own process.
    """
    from aether.cli.server import serve_forever
    from aether.errors import AetherError

    ws = workspace(ctx)

    def ready(path: str) -> None:
        sys.stderr.write(f"aether: serving {ws.root} on {path}\n")
        sys.stderr.flush()

    try:
        code = serve_forever(str(ws.root), idle_timeout, ready)
    except AetherError as exc:
        raise fail(exc, json_out=False) from None
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(serve)
