"""The start-up shortcut (import only the invoked command's module) stays truthful."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
from typer.main import get_command

from aether.cli import app as app_module
from tests.helpers import clean_env


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


def test_a_command_does_not_pay_for_pydantic_plugin_discovery(colony: Path) -> None:
    """The plugin-loader stand-in keeps importlib.metadata (~15 ms) out of every command."""
    code = (
        "import sys\n"
        "from aether.cli.main import run\n"
        "exit_code = run(['status', '--json'])\n"
        "sys.stderr.write('METADATA=%s\\n' % ('importlib.metadata' in sys.modules))\n"
        "sys.exit(exit_code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=colony,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True  # the models still build and validate
    assert "METADATA=False" in result.stderr


def test_a_group_help_that_lists_its_commands_lists_them_all() -> None:
    """`worker --help` said "report, heartbeat, done, fail" and left out respawn: a group's
    help that names two or more of its commands must name every one."""
    import re

    from aether.cli.app import app, register

    root = get_command(register(app))
    checked = 0
    for name, group in getattr(root, "commands", {}).items():
        subcommands = set(getattr(group, "commands", {}))
        named = {c for c in subcommands if re.search(rf"\b{re.escape(c)}\b", group.help or "")}
        if len(named) >= 2:
            checked += 1
            assert named == subcommands, (name, group.help, sorted(subcommands - named))
    assert checked >= 2  # worker and breaker list theirs
