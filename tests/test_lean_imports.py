"""What each command imports when an agent runs it with stdout piped (the speed claims of
docs/performance.md, kept honest): listing commands draw tables without Rich, read-only
commands never import filelock, memory writes never build the state models, and nothing on
these paths parses YAML once the profile cache is warm."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.helpers import clean_env

_IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| (\s*)(\S+)$")


@pytest.fixture
def run_aether(run_aether_process: RunAether) -> RunAether:
    """The installed entry point: what a fresh process imports is the point."""
    return run_aether_process


def imported(run_aether: RunAether, *args: str) -> set[str]:
    result = run_aether(*args, env=clean_env(PYTHONPROFILEIMPORTTIME="1"))
    assert result.returncode == 0, result.stderr[-2000:]
    return {m.group(2) for line in result.stderr.splitlines() if (m := _IMPORT_LINE.match(line))}


@pytest.fixture
def busy_colony(colony: Path, run_aether: RunAether) -> Path:
    for args in (
        ("memory", "add", "learning", "tables are drawn without Rich when piped"),
        ("spawn", "--caste", "builder", "--no-proxy"),
        ("archive", "--name", "lean"),
        ("profile", "show"),  # warms the profile cache
    ):
        assert run_aether(*args).returncode == 0
    return colony


READ_ONLY = [
    ("status",),
    ("workers",),
    ("costs",),
    ("memory", "list"),
    ("archive", "list"),
    ("profile", "show"),
    ("route", "write the parser"),
    ("doctor", "--no-proxy"),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_read_only_commands_import_neither_rich_nor_filelock_nor_yaml(
    busy_colony: Path, run_aether: RunAether, args: tuple[str, ...]
) -> None:
    modules = imported(run_aether, *args)
    assert "aether.cli.app" in modules  # the probe sees our imports at all
    assert not {m for m in modules if m.split(".")[0] in ("rich", "filelock", "yaml")}


def test_writes_import_filelock_but_not_rich_or_yaml(
    busy_colony: Path, run_aether: RunAether
) -> None:
    for args in (
        ("spawn", "--caste", "scout", "--no-proxy"),
        ("pause",),
        ("resume",),
        ("memory", "add", "decision", "lean imports are tested"),
    ):
        modules = imported(run_aether, *args)
        assert "filelock" in modules, args
        assert not {m for m in modules if m.split(".")[0] in ("rich", "yaml")}, args


def test_memory_add_does_not_build_the_state_models(
    busy_colony: Path, run_aether: RunAether
) -> None:
    modules = imported(run_aether, "memory", "add", "instinct", "keep memory writes light")
    assert "aether.state.model" not in modules
    assert "aether.ops.colony.memory" in modules


def test_piped_tables_are_plain_aligned_text(busy_colony: Path, run_aether: RunAether) -> None:
    assert run_aether("memory", "add", "learning", "use [bold] sparingly").returncode == 0
    out = run_aether("memory", "list").stdout
    assert "use [bold] sparingly" in out  # literal text, never markup
    assert not set(out) & set("│┃━─┏┗")  # no box drawing when piped
    header = out.splitlines()[0].split()
    assert header == ["id", "kind", "phase", "conf.", "text"]
    costs = run_aether("costs").stdout.splitlines()
    assert costs[0] == "per model"
    # numbers are right-aligned: every row of the table ends in the same column
    rows = costs[1 : costs.index("per caste")]
    assert len({len(r) for r in rows}) == 1, rows
    assert json.loads(run_aether("costs", "--json").stdout)["ok"] is True
