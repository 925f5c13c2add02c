"""The root Typer app and its global options. Command modules register themselves here.

Command modules import only typer at module level; each command imports its use case inside
the function, so a command pays only for what its own path needs.
"""

from __future__ import annotations

from importlib import import_module

import typer

from aether import __version__
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


#: every command module, in command-family order (this is the order of `aether --help`)
COMMAND_MODULES = (
    "cmd_colony",
    "cmd_migrate",
    "cmd_session",
    "cmd_memory",
    "cmd_archive",
    "cmd_reset",
    "cmd_routing",
    "cmd_spawn",
    "cmd_workers",
    "cmd_breaker",
    "cmd_claude",
    "cmd_codex",
    "cmd_hook",
    "cmd_serve",
)

#: top-level command -> the module that registers it. A normal invocation imports only that
#: module (agents run aether many times a session; every import counts). Anything else —
#: `--help`, no command, an unknown command — registers them all. A test keeps this table
#: equal to what the modules register.
COMMAND_HOMES = {
    "init": "cmd_colony",
    "status": "cmd_colony",
    "migrate": "cmd_migrate",
    "schema": "cmd_migrate",
    "pause": "cmd_session",
    "resume": "cmd_session",
    "doctor": "cmd_session",
    "memory": "cmd_memory",
    "archive": "cmd_archive",
    "reset": "cmd_reset",
    "route": "cmd_routing",
    "profile": "cmd_routing",
    "spawn": "cmd_spawn",
    "workers": "cmd_workers",
    "costs": "cmd_workers",
    "worker": "cmd_workers",
    "breaker": "cmd_breaker",
    "claude": "cmd_claude",
    "codex": "cmd_codex",
    "hook": "cmd_hook",
    "serve": "cmd_serve",
}

#: root options that take a value (so their value is not mistaken for the command)
_VALUED_ROOT_OPTIONS = frozenset({"--dir", "--lock-timeout"})


def invoked_command(argv: list[str]) -> str | None:
    """The top-level command named in ``argv`` (after the root options), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in _VALUED_ROOT_OPTIONS:
            skip = True
            continue
        if arg.startswith("-"):
            if arg in ("--help", "--version"):
                return None
            continue
        return arg
    return None


def register(target: typer.Typer, argv: list[str] | None = None) -> typer.Typer:
    """Add the commands ``argv`` needs (all of them when ``argv`` is None) to ``target``."""
    command = invoked_command(argv) if argv is not None else None
    home = COMMAND_HOMES.get(command or "")
    for name in (home,) if home else COMMAND_MODULES:
        import_module(f"aether.cli.{name}").register(target)
    return target
