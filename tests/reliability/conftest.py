"""Reliability suites (docs/reliability.md). The crash suite has a short CI run and a long
documented run (marked ``slow``: only a selection that names the marker runs it):

python -m pytest tests/reliability -m slow
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import AETHER, clean_env


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--crash-kills",
        type=int,
        default=None,
        help="number of SIGKILLs in the crash suite (default 60; 500 in the long run, -m slow)",
    )
    parser.addoption("--crash-seed", type=int, default=20261121, help="seed of the crash suite")


@pytest.fixture(scope="session")
def template_colony(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One initialised colony, copied by tests that need a fresh one (saves a process each)."""
    project = tmp_path_factory.mktemp("template") / "project"
    project.mkdir()
    result = subprocess.run(
        [AETHER, "init", "Template colony goal"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture
def fresh_colony(template_colony: Path, tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "project"
    shutil.copytree(template_colony, target, symlinks=True)
    yield target
