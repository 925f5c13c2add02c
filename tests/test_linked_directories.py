"""Nothing written outside the project through a symbolically linked directory.

Every writer takes the colony lock, and taking it refuses a link on the way to a directory the
writer uses: the colony's own (``.aether/data``, ``backups``, ``memory``, ``cache``,
``chambers``, ``handoff-history``) and, for ``aether claude install|uninstall``, ``.claude`` and
below. ``.aether`` itself may be a link (the colony lives where it points). Caches written
without the lock are simply not written through a link.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.helpers import assert_clean_error, data_snapshot, snapshot


def link_elsewhere(project: Path, rel: str, outside: Path) -> Path:
    """Replace ``project/rel`` (moved into ``outside`` if it is there) with a link to it."""
    path = project / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        shutil.copytree(path, outside, dirs_exist_ok=True)
        shutil.rmtree(path)
    else:
        outside.mkdir(parents=True, exist_ok=True)
    path.symlink_to(outside, target_is_directory=True)
    return outside


@pytest.mark.parametrize(
    ("rel", "args"),
    [
        (".claude", ("claude", "install")),
        (".claude/agents", ("claude", "install")),
        (".claude/hooks", ("claude", "install")),
        (".aether/data/backups", ("pause", "--note", "x")),
        (".aether/data/backups/pre-migration", ("memory", "add", "learning", "x")),
        (".aether/cache", ("memory", "add", "learning", "x")),
        (".aether/chambers", ("archive",)),
        (".aether/memory", ("memory", "add", "learning", "x")),
    ],
    ids=["claude", "agents", "hooks", "backups", "pre-migration", "cache", "chambers", "memory"],
)
def test_a_writer_refuses_a_linked_directory_and_writes_nothing_anywhere(
    colony: Path, run_aether: RunAether, tmp_path: Path, rel: str, args: tuple[str, ...]
) -> None:
    outside = link_elsewhere(colony, rel, tmp_path / "outside")
    before, before_outside = data_snapshot(colony), snapshot(outside)
    result = run_aether(*args)
    assert_clean_error(result, 26)
    assert rel in result.stderr and "symbolic link" in result.stderr
    assert snapshot(outside) == before_outside
    assert data_snapshot(colony) == before


def test_resume_refuses_a_linked_handoff_history(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    assert run_aether("pause", "--note", "before the link").returncode == 0
    outside = link_elsewhere(colony, ".aether/handoff-history", tmp_path / "outside")
    before = data_snapshot(colony)
    assert_clean_error(run_aether("resume"), 26)
    assert snapshot(outside) == {}
    assert data_snapshot(colony) == before


def test_install_with_force_refuses_a_linked_backup_directory(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    agents = colony / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "aether-builder.md").write_text("---\nname: aether-builder\n---\nMine.\n")
    outside = link_elsewhere(colony, ".aether/data/backups/claude", tmp_path / "outside")
    assert_clean_error(run_aether("claude", "install", "--force"), 26)
    assert snapshot(outside) == {}
    assert (agents / "aether-builder.md").read_text().endswith("Mine.\n")


def test_a_linked_cache_is_not_written_but_routing_goes_on(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    outside = link_elsewhere(colony, ".aether/cache", tmp_path / "outside")
    for name in list(outside.iterdir()):
        name.unlink()
    result = run_aether("route", "write the parser")
    assert result.returncode == 0, result.stderr
    assert list(outside.iterdir()) == []


def test_a_linked_colony_directory_itself_is_where_the_colony_lives(
    project: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """``.aether`` as a link is a choice of where the colony lives, found and written there."""
    elsewhere = tmp_path / "store" / ".aether"
    elsewhere.mkdir(parents=True)
    (project / ".aether").symlink_to(elsewhere, target_is_directory=True)
    assert run_aether("init", "a colony kept elsewhere").returncode == 0
    assert run_aether("memory", "add", "learning", "kept elsewhere").returncode == 0
    assert (elsewhere / "data" / "COLONY_STATE.json").is_file()
    assert (elsewhere / "memory" / "learnings.json").is_file()
