"""The start-up shortcut (import only the invoked command's module) stays truthful."""

from __future__ import annotations

import typer
from typer.main import get_command

from aether.cli import app as app_module


def _commands_of(module_name: str) -> set[str]:
    target = typer.Typer()

    @target.callback()
    def _root() -> None:  # a group, so every registered command keeps its name
        pass

    from importlib import import_module

    import_module(f"aether.cli.{module_name}").register(target)
    group = get_command(target)
    return set(getattr(group, "commands", {}))


def test_every_command_has_its_home_module() -> None:
    homes: dict[str, str] = {}
    for module in app_module.COMMAND_MODULES:
        for command in _commands_of(module):
            assert command not in homes, f"{command} registered twice"
            homes[command] = module
    assert homes == app_module.COMMAND_HOMES


def test_invoked_command_skips_root_options() -> None:
    f = app_module.invoked_command
    assert f(["status", "--json"]) == "status"
    assert f(["--dir", "spawn", "status"]) == "status"
    assert f(["--lock-timeout", "3", "--dir", "/x", "memory", "add"]) == "memory"
    assert f(["--help"]) is None
    assert f(["--version", "status"]) is None
    assert f([]) is None
