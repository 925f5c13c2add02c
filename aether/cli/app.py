"""The root Typer app and its global options. Command modules register themselves here.

Command modules import only typer at module level; each command imports its use case inside
the function, so a command pays only for what its own path needs.
"""

from __future__ import annotations

import typer

from aether import __version__
from aether.cli import (
    cmd_archive,
    cmd_colony,
    cmd_memory,
    cmd_migrate,
    cmd_routing,
    cmd_session,
    cmd_spawn,
)
from aether.cli.common import Globals

app = typer.Typer(
    name="aether",
    help="Keep an AI-agent colony alive across coding sessions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aether {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    dir: str | None = typer.Option(
        None,
        "--dir",
        help="Project directory holding .aether/ (default: search upward; env AETHER_ROOT).",
        metavar="PATH",
    ),
    lock_timeout: float | None = typer.Option(
        None,
        "--lock-timeout",
        min=0,
        max=3600,
        help="Seconds to wait for a colony locked by another live command "
        "(default 10; env AETHER_LOCK_TIMEOUT).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    ctx.obj = Globals(dir=dir, lock_timeout=lock_timeout)


# Each module adds its commands to the app; keep this list in command-family order.
for _module in (
    cmd_colony, cmd_migrate, cmd_session, cmd_memory, cmd_archive, cmd_routing, cmd_spawn
):
    _module.register(app)
