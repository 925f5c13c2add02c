"""``aether archive``, ``archive list|verify|restore`` through the installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.helpers import (
    AETHER,
    assert_clean_error,
    clean_env,
    data_snapshot,
    inject_workers,
    state_of,
    worker,
)


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, (result.returncode, result.stderr, result.stdout)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def chambers(project: Path) -> list[str]:
    return sorted(p.name for p in (project / ".aether/chambers").iterdir())


def test_archive_copies_and_checksums_everything(run_aether: RunAether, colony: Path) -> None:
    run_aether("memory", "add", "learning", "flock beats pid files")
    run_aether("pause", "--note", "n")
    out = as_json(run_aether("archive", "--name", "Before Big Refactor", "--json"))
    assert out["verified"] is True
    assert out["name"].startswith("before-big-refactor-")
    root = colony / ".aether/chambers" / out["name"]
    manifest = json.loads((root / "manifest.json").read_text())
    assert set(manifest["files"]) >= {
        "data/COLONY_STATE.json",
        "memory/learnings.json",
        "HANDOFF.md",
        "activity.log",
        "model-profiles.yaml",
    }
    assert manifest["colony_id"] == state_of(colony)["colony_id"]
    assert manifest["goal"] == "Test colony goal"
    assert manifest["counts"]["learnings"] == 1
    assert manifest["aether_version"] and manifest["format"] == 1
    for rel, meta in manifest["files"].items():
        import hashlib

        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == meta["sha256"]
        if rel != "activity.log":  # the archive logs itself after copying
            assert (root / rel).read_bytes() == (colony / ".aether" / rel).read_bytes()
    assert not [p for p in (colony / ".aether/chambers").iterdir() if p.name.startswith(".")]


def test_list_and_verify(run_aether: RunAether, colony: Path) -> None:
    name = as_json(run_aether("archive", "--json"))["name"]
    listed = as_json(run_aether("archive", "list", "--json"))
    assert [c["name"] for c in listed["chambers"]] == [name]
    assert listed["chambers"][0]["goal"] == "Test colony goal"
    human = run_aether("archive", "list")
    assert name[:20] in human.stdout.replace("\n", "") or "test-colony" in human.stdout
    assert as_json(run_aether("archive", "verify", name, "--json"))["ok"] is True


@pytest.mark.parametrize("change", ["tamper", "delete", "extra"])
def test_verify_and_restore_refuse_a_tampered_chamber(
    run_aether: RunAether, colony: Path, change: str
) -> None:
    run_aether("memory", "add", "decision", "keep it")
    name = as_json(run_aether("archive", "--json"))["name"]
    root = colony / ".aether/chambers" / name
    if change == "tamper":
        with (root / "data/COLONY_STATE.json").open("a") as fh:
            fh.write(" ")
    elif change == "delete":
        (root / "memory/decisions.json").unlink()
    else:
        (root / "data/smuggled.json").write_text("{}")
    result = run_aether("archive", "verify", name)
    assert_clean_error(result, 63)
    assert {"tamper": "checksum mismatch", "delete": "missing", "extra": "not in the manifest"}[
        change
    ] in result.stderr
    before = data_snapshot(colony)
    assert_clean_error(run_aether("archive", "restore", name), 63)
    assert data_snapshot(colony) == before


@pytest.mark.parametrize("name", ["../../etc", "/etc", "..", ".hidden", "a/b", "x\\y", ""])
def test_bad_chamber_names(run_aether: RunAether, colony: Path, name: str) -> None:
    before = data_snapshot(colony)
    for args in (("archive", "verify", name), ("archive", "restore", name)):
        assert_clean_error(run_aether(*args), 64)
    assert data_snapshot(colony) == before


def test_archive_name_that_is_a_path_is_refused(run_aether: RunAether, colony: Path) -> None:
    before = data_snapshot(colony)
    assert_clean_error(run_aether("archive", "--name", "../../etc"), 64)
    assert data_snapshot(colony) == before


def test_unknown_chamber(run_aether: RunAether, colony: Path) -> None:
    assert_clean_error(run_aether("archive", "verify", "nope-20260101T000000Z"), 62)


def test_archive_without_colony(run_aether: RunAether) -> None:
    assert_clean_error(run_aether("archive"), 10)


def test_restore_refuses_a_colony_with_working_state(run_aether: RunAether, colony: Path) -> None:
    name = as_json(run_aether("archive", "--json"))["name"]
    inject_workers(colony, [worker("w-1", "builder", "claude-sonnet-4-5")])
    before = data_snapshot(colony)
    result = run_aether("archive", "restore", name)
    assert_clean_error(result, 61)
    assert "--force" in result.stderr
    assert data_snapshot(colony) == before
    out = as_json(run_aether("archive", "restore", name, "--force", "--json"))
    assert out["safety_chamber"].startswith("before-restore-")
    assert state_of(colony)["workers"] == []
    # the safety chamber holds the colony as it was, worker included
    safety = colony / ".aether/chambers" / out["safety_chamber"] / "data/COLONY_STATE.json"
    assert json.loads(safety.read_text())["workers"][0]["id"] == "w-1"
    assert as_json(run_aether("archive", "verify", out["safety_chamber"], "--json"))["ok"]


def test_restore_merges_memory_and_never_drops_newer_items(
    run_aether: RunAether, colony: Path
) -> None:
    run_aether("memory", "add", "learning", "old learning")
    name = as_json(run_aether("archive", "--json"))["name"]
    run_aether("memory", "add", "learning", "learned after the archive")
    archived_state = (colony / ".aether/chambers" / name / "data/COLONY_STATE.json").read_bytes()
    out = as_json(run_aether("archive", "restore", name, "--json"))
    assert out["memory_added"] == 0
    texts = {i["text"] for i in as_json(run_aether("memory", "list", "--json"))["items"]}
    assert texts == {"old learning", "learned after the archive"}
    assert (colony / ".aether/data/COLONY_STATE.json").read_bytes() == archived_state
    assert out["backup"] and Path(out["backup"]).is_file()


def test_restore_into_a_lost_state(run_aether: RunAether, colony: Path) -> None:
    name = as_json(run_aether("archive", "--json"))["name"]
    archived = (colony / ".aether/chambers" / name / "data/COLONY_STATE.json").read_bytes()
    (colony / ".aether/data/COLONY_STATE.json").unlink()
    as_json(run_aether("archive", "restore", name, "--json"))
    assert (colony / ".aether/data/COLONY_STATE.json").read_bytes() == archived


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: a real full disk (needs root and mount; skipped otherwise)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_leaves_no_half_chamber(run_aether: RunAether, small_fs: Path) -> None:
    project = small_fs / "p"
    project.mkdir()
    assert run_aether("init", "full disk colony", cwd=project).returncode == 0
    # an activity log large enough that a second copy cannot fit
    with (project / ".aether/activity.log").open("a") as fh:
        fh.write(("x" * 1023 + "\n") * 600)
    before = data_snapshot(project)
    result = run_aether("archive", cwd=project)
    assert_clean_error(result, 24)
    assert data_snapshot(project) == before
    assert list((project / ".aether/chambers").iterdir()) == []
    assert as_json(run_aether("archive", "list", "--json", cwd=project))["chambers"] == []
    assert as_json(run_aether("status", "--json", cwd=project))["goal"] == "full disk colony"


def test_read_only_aether_dir(run_aether: RunAether, small_fs: Path) -> None:
    project = small_fs / "p"
    project.mkdir()
    assert run_aether("init", "read-only colony", cwd=project).returncode == 0
    before = data_snapshot(project)
    ro = subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], capture_output=True)
    if ro.returncode != 0:
        pytest.skip("cannot remount read-only")
    try:
        for args in (("pause",), ("archive",), ("memory", "add", "learning", "x")):
            result = run_aether(*args, cwd=project, env=clean_env(AETHER_LOCK_TIMEOUT="1"))
            assert_clean_error(result, 25)
        assert data_snapshot(project) == before
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], capture_output=True)


def test_large_archive_progress_callback() -> None:
    """The CLI draws a bar from this callback; the op reports monotonic byte counts."""
    from aether.chamber import build_chamber
    from aether.state.store import Store
    from aether.workspace import Workspace

    root = Path(os.environ.get("TMPDIR", "/tmp"))
    import tempfile

    with tempfile.TemporaryDirectory(dir=root) as d:
        project = Path(d)
        assert (
            subprocess.run(
                [AETHER, "init", "big"], cwd=project, env=clean_env(), capture_output=True
            ).returncode
            == 0
        )
        (project / ".aether/activity.log").write_bytes(b"y" * (3 * 1024 * 1024 + 5))
        ws = Workspace(project)
        seen: list[tuple[int, int]] = []
        with Store(ws).lock():
            chamber = build_chamber(
                ws, Store(ws).load().state, label=None, progress=lambda d, t: seen.append((d, t))
            )
        total = seen[-1][1]
        assert seen[-1][0] == total == sum(f["bytes"] for f in chamber.manifest["files"].values())
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_restore_refuses_to_replace_another_colony(run_aether: RunAether, colony: Path) -> None:
    name = as_json(run_aether("archive", "--json"))["name"]
    archived_id = state_of(colony)["colony_id"]
    # a new colony made in the same place since: no workers or plan, but not the archived one
    assert run_aether("init", "a different goal", "--force").returncode == 0
    new_id = state_of(colony)["colony_id"]
    assert new_id != archived_id
    before = data_snapshot(colony)
    result = run_aether("archive", "restore", name)
    assert_clean_error(result, 61)
    assert "another colony" in result.stderr and "--force" in result.stderr
    assert data_snapshot(colony) == before
    out = as_json(run_aether("archive", "restore", name, "--force", "--json"))
    assert state_of(colony)["colony_id"] == archived_id
    safety = colony / ".aether/chambers" / out["safety_chamber"] / "data/COLONY_STATE.json"
    assert json.loads(safety.read_text())["colony_id"] == new_id


def test_restore_refuses_a_state_this_aether_cannot_load(
    run_aether: RunAether, colony: Path
) -> None:
    import hashlib

    name = as_json(run_aether("archive", "--json"))["name"]
    chamber = colony / ".aether/chambers" / name
    state_path = chamber / "data/COLONY_STATE.json"
    doc = json.loads(state_path.read_text())
    doc["version"] = "9.0"  # written by a newer aether; the manifest is made to agree
    state_path.write_text(json.dumps(doc))
    manifest = json.loads((chamber / "manifest.json").read_text())
    manifest["files"]["data/COLONY_STATE.json"] = {
        "sha256": hashlib.sha256(state_path.read_bytes()).hexdigest(),
        "bytes": state_path.stat().st_size,
    }
    (chamber / "manifest.json").write_text(json.dumps(manifest))
    assert as_json(run_aether("archive", "verify", name, "--json"))["ok"]
    before = data_snapshot(colony)
    result = run_aether("archive", "restore", name, "--force")
    assert_clean_error(result, 63)
    assert "newer" in result.stderr and name in result.stderr
    assert data_snapshot(colony) == before
