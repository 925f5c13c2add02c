"""Fixtures every test module may use; the helpers they share are in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import Result, run_cli, run_process

RunAether = Callable[..., Result]


@pytest.fixture(autouse=True)
def test_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Each test's own home directory for the aether it runs (tests/helpers.py TEST_HOME),
    beside its tmp_path, not in it."""
    from tests import helpers

    home = tmp_path_factory.mktemp("home")
    helpers.TEST_HOME = home
    try:
        yield home
    finally:
        helpers.TEST_HOME = None


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project directory."""
    p = tmp_path / "project"
    p.mkdir()
    return p


def _in(project: Path, run: Callable[..., Result]) -> RunAether:
    """``run`` with ``cwd=project`` unless the test says otherwise."""

    def in_project(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 60,
    ) -> Result:
        return run(*args, cwd=cwd or project, env=env, input=input, timeout=timeout)

    return in_project


@pytest.fixture
def run_aether(project: Path) -> RunAether:
    """``aether ARGS`` in-process (tests/helpers.py ``run_cli``), in ``project`` unless
    ``cwd=`` says otherwise; keyword arguments ``env``, ``input``, ``timeout``."""
    return _in(project, run_cli)


@pytest.fixture
def run_aether_process(project: Path) -> RunAether:
    """Like ``run_aether``, but always the installed entry point in a child process."""
    return _in(project, run_process)


@pytest.fixture
def colony(project: Path, run_aether: RunAether) -> Iterator[Path]:
    """A project with a freshly initialised colony; yields the project directory."""
    result = run_aether("init", "Test colony goal")
    assert result.returncode == 0, result.stderr
    yield project


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` (the long reliability runs) run only when the ``-m`` expression
    names the marker (``python -m pytest tests/reliability -m slow``); any other selection,
    the default one included, leaves them out."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]
