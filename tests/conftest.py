"""Shared fixtures: run the *installed* ``aether`` entry point in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def aether_executable() -> str:
    """The console script installed by ``pip install``; tests must go through it."""
    candidate = Path(sys.executable).parent / "aether"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("aether")
    if not found:
        raise RuntimeError("the aether entry point is not installed: pip install -e '.[test]'")
    return found


AETHER = aether_executable()

RunAether = Callable[..., subprocess.CompletedProcess[str]]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETHER_")}
    env.pop("NO_COLOR", None)
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project directory."""
    p = tmp_path / "project"
    p.mkdir()
    return p


@pytest.fixture
def run_aether(project: Path) -> RunAether:
    """Run the installed ``aether`` with ``cwd=project`` (override with ``cwd=``)."""

    def run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AETHER, *args],
            cwd=cwd or project,
            env=env if env is not None else clean_env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def colony(project: Path, run_aether: RunAether) -> Iterator[Path]:
    """A project with a freshly initialised colony; yields the project directory."""
    result = run_aether("init", "Test colony goal")
    assert result.returncode == 0, result.stderr
    yield project


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (to prove a failed command changed nothing)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def assert_clean_error(result: subprocess.CompletedProcess[str], exit_code: int) -> None:
    """One line on stderr, the documented exit code, no traceback."""
    assert result.returncode == exit_code, (result.returncode, result.stderr, result.stdout)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("aether: error: "), lines[0]


def run_on_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """The installed aether with a pseudo-terminal as stdout and stderr (Rich draws then);
    everything it wrote, decoded."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([AETHER, *args], cwd=cwd, env=env, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", errors="replace")
