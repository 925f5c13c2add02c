"""A pinned npm package installed once into the test cache (``~/.cache/aether-tests/``) under a
file lock, for the real agent clients the tests run (Claude Code, Codex). npm does not run the
packages' postinstall steps here: the native binary is called from its platform package. A
missing npm or a failed install fails the test; it never skips."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def install_dir(name: str, version: str, override_variable: str) -> Path:
    override = os.environ.get(override_variable)
    if override:
        return Path(override)
    return Path.home() / ".cache" / "aether-tests" / f"{name}-{version}"


def _installed(directory: Path, binary: Path) -> bool:
    return (directory / ".aether-complete").exists() and (directory / binary).exists()


def ensure_binary(directory: Path, package: str, version: str, binary: Path) -> Path:
    """``directory / binary`` of ``package`` (which must report ``version``), installing it
    when missing; a half-made install from an interrupted run is started over."""
    if _installed(directory, binary):
        return directory / binary
    from filelock import FileLock

    directory.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory) + ".install-lock", timeout=900):
        if _installed(directory, binary):
            return directory / binary
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"npm is not on PATH: the tests of {package} need Node.js and npm")
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", package],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0 or not (directory / binary).exists():
            pytest.fail(f"could not install {package} into {directory}:\n{done.stderr[-3000:]}")
        shown = subprocess.run(
            [str(directory / binary), "--version"], capture_output=True, text=True, timeout=60
        )
        if version not in shown.stdout:
            pytest.fail(f"{binary} --version printed {shown.stdout!r} {shown.stderr!r}")
        (directory / ".aether-complete").write_text(version + "\n")
    return directory / binary
