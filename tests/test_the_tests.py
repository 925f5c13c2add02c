"""What the suite promises about itself: it runs the aether under test — the entry point beside
this Python (tests/helpers.py) — never one found by PATH, so it passes in a virtualenv that is
not activated and never runs another install's code."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from tests.helpers import AETHER, REPO, clean_env


def test_the_tests_environment_finds_the_aether_under_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A virtualenv that is not activated: no aether on PATH at all."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert shutil.which("aether", path=clean_env()["PATH"]) == AETHER


def _commands_by_name(path: Path) -> list[str]:
    """Calls in ``path`` whose command line (a literal list or tuple) starts with ``aether``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        argv = node.args[0]
        if not (isinstance(argv, ast.List | ast.Tuple) and argv.elts):
            continue
        first = argv.elts[0]
        if isinstance(first, ast.Constant) and first.value == "aether":
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_test_starts_aether_by_its_name() -> None:
    tests = sorted((REPO / "tests").rglob("*.py"))
    offenders = [hit for path in tests for hit in _commands_by_name(path)]
    assert not offenders, f"use tests.helpers.AETHER (or run_process): {offenders}"


def test_the_name_check_can_fail(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        'import subprocess\nsubprocess.run(["aether", "init", "g"])\nshutil.which("aether")\n'
    )
    assert _commands_by_name(probe) == ["probe.py:2"]
