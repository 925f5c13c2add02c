"""``aether migrate`` through the installed entry point: anchors, dry-run, check, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from aether.state.model import ColonyState
from tests.conftest import RunAether
from tests.helpers import ANCHORS, anchor_paths, assert_clean_error, needs_shared, snapshot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "legacy-states"


def install(source: Path, project: Path) -> Path:
    """Put a legacy state (a file, or a six-file folder) where a colony's state lives."""
    data = project / ".aether" / "data"
    data.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        for f in source.iterdir():
            shutil.copy(f, data / f.name)
    else:
        shutil.copy(source, data / "COLONY_STATE.json")
    return data / "COLONY_STATE.json"


@needs_shared
@pytest.mark.parametrize("source", anchor_paths(), ids=lambda p: p.name)
def test_every_anchor_migrates_once_and_then_is_a_no_op(
    source: Path, project: Path, run_aether: RunAether
) -> None:
    state_file = install(source, project)
    original = state_file.read_bytes()
    done = run_aether("migrate", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["written"] and report["needed"] and report["to_version"] == "4.0"
    assert report["plan"][-1]["to"] == "4.0"
    state = ColonyState.model_validate_json(state_file.read_bytes())
    assert state.version == "4.0" and state.serial == 1
    backup = Path(report["backup"])
    assert (backup / "COLONY_STATE.json").read_bytes() == original
    if source.is_dir():
        for sibling in source.iterdir():
            assert (backup / sibling.name).read_bytes() == sibling.read_bytes()
            assert (state_file.parent / sibling.name).exists(), "siblings stay in place"
    before = snapshot(project)
    again = run_aether("migrate")
    assert again.returncode == 0 and "already format 4.0" in again.stdout
    assert snapshot(project) == before, "a second run wrote something"
    assert run_aether("status").returncode == 0


@needs_shared
def test_human_report_names_plan_counts_and_backup(project: Path, run_aether: RunAether) -> None:
    install(next(ANCHORS.glob("v3.0-chamber-executing.*.json")), project)
    done = run_aether("migrate")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "format 3.0 -> 4.0" in out and "1. 3.0 -> 4.0:" in out
    assert "4 phases (11 tasks)" in out and "5 events" in out
    assert "6 memory items moved to .aether/memory/ (6 new)" in out
    assert "model_profile" in out and "pre-migration backup (never rotated)" in out
    memory = project / ".aether" / "memory"
    assert len(json.loads((memory / "learnings.json").read_text())["items"]) == 5


def test_dry_run_and_check_change_no_byte(project: Path, run_aether: RunAether) -> None:
    install(FIXTURES / "v1-six-file.in", project)
    before = snapshot(project)
    dry = run_aether("migrate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "--- COLONY_STATE.json (format 1.0)" in dry.stdout
    assert "+++ COLONY_STATE.json (format 4.0)" in dry.stdout
    assert '+  "version": "4.0"' in dry.stdout
    assert "+ decision: Keep the bash entry point" in dry.stdout
    dry_json = run_aether("migrate", "--dry-run", "--json")
    payload = json.loads(dry_json.stdout)
    assert payload["written"] is False and payload["diff"].startswith("---")
    check = run_aether("migrate", "--check")
    assert_clean_error(check, 1)
    assert "migration to 4.0 is needed" in check.stderr
    status = run_aether("status", "--json")  # read-only commands upgrade in memory only
    assert json.loads(status.stdout)["upgraded_from"] == "1.0"
    assert snapshot(project) == before, "a read-only path wrote or created a file"
    both = run_aether("migrate", "--dry-run", "--check")
    assert_clean_error(both, 21)


def test_check_passes_on_a_current_colony(colony: Path, run_aether: RunAether) -> None:
    before = snapshot(colony)
    assert run_aether("migrate", "--check").returncode == 0
    assert json.loads(run_aether("migrate", "--json").stdout)["needed"] is False
    assert snapshot(colony) == before


def test_a_writing_command_persists_the_upgrade_after_the_same_backup(
    project: Path, run_aether: RunAether
) -> None:
    state_file = install(FIXTURES / "v2.0-full.in.json", project)
    original = state_file.read_bytes()
    done = run_aether("pause", "--note", "Written by a later command")
    assert done.returncode == 0, done.stderr
    assert json.loads(state_file.read_text())["version"] == "4.0"
    assert json.loads(state_file.read_text())["status"] == "paused"
    backups = list((project / ".aether/data/backups/pre-migration").glob("2.0-*"))
    assert len(backups) == 1 and (backups[0] / "COLONY_STATE.json").read_bytes() == original
    texts = [
        i["text"]
        for i in json.loads((project / ".aether/memory/learnings.json").read_text())["items"]
    ]
    assert "Cache keys must include the model" in texts


def test_the_pre_migration_backup_is_the_old_file_itself(
    project: Path, run_aether: RunAether
) -> None:
    """The backup is a hard link to the file migrate read (the upgrade replaces the state with
    a new file, so the old one lives on under the backup's name alone): byte for byte the
    original, and untouched by the writes that follow."""
    import os

    state_file = install(FIXTURES / "v3.0-object-events.in.json", project)
    original = state_file.read_bytes()
    inode = state_file.stat().st_ino
    done = run_aether("migrate", "--json")
    assert done.returncode == 0, done.stderr
    backup = Path(json.loads(done.stdout)["backup"]) / "COLONY_STATE.json"
    assert backup.stat().st_ino == inode and os.stat(backup).st_nlink == 1
    assert state_file.stat().st_ino != inode
    for argv in (("pause", "--note", "after the migration"), ("resume",)):
        assert run_aether(*argv).returncode == 0
    assert backup.read_bytes() == original


def test_migrate_pauses_the_cyclic_garbage_collector_and_restores_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off while the colony is loaded, upgraded and written (nothing there is a cycle), back
    on afterwards, also when the migration fails."""
    import gc

    import aether.state.store as store
    from aether.errors import AetherError
    from aether.ops.migrate_state import migrate_colony
    from aether.state.reading import load_document
    from aether.workspace import Workspace

    install(FIXTURES / "v3.0-object-events.in.json", project)
    seen: list[bool] = []
    real = load_document  # what the store calls, by its own name for it

    def watched(ws: Workspace, raw: bytes) -> object:
        seen.append(gc.isenabled())
        return real(ws, raw)

    monkeypatch.setattr(store, "load_document", watched)
    assert gc.isenabled()
    assert migrate_colony(Workspace(project)).written
    assert seen == [False] and gc.isenabled()
    (project / ".aether/data/COLONY_STATE.json").write_text('{"version": "3.0", "goal": 42}')
    with pytest.raises(AetherError):
        migrate_colony(Workspace(project))
    assert seen == [False, False] and gc.isenabled()


BAD = [
    ("truncated", b'{"version": "3.0", "goal": "half', 12),
    ("array", b"[1, 2, 3]", 16),
    ("string", b'"COLONY"', 16),
    ("foreign", b'{"compilerOptions": {"strict": true}}', 16),
    ("wrong-type", b'{"version": "3.0", "goal": 42}', 19),
    ("wrong-type-plan", b'{"version": "2.0", "plan": {"phases": "none"}}', 19),
    ("unknown-version", b'{"version": "2.5", "goal": "g"}', 18),
    ("numeric-version", b'{"version": 7}', 18),
    ("null-version", b'{"version": null, "goal": "g"}', 18),
    ("newer", b'{"version": "5.0", "goal": "g"}', 17),
    ("duplicate-current", b'{"version": "4.0", "goal": "a", "goal": "b"}', 14),
]


@pytest.mark.parametrize(("name", "content", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_its_own_code_and_nothing_written(
    project: Path, run_aether: RunAether, name: str, content: bytes, code: int
) -> None:
    data = project / ".aether" / "data"
    data.mkdir(parents=True)
    (data / "COLONY_STATE.json").write_bytes(content)
    before = snapshot(project)
    modes: list[tuple[str, ...]] = [("migrate",)]
    if name in ("truncated", "wrong-type", "newer"):
        modes += [("migrate", "--dry-run"), ("migrate", "--check")]
    for args in modes:
        assert_clean_error(run_aether(*args), code)
        assert snapshot(project) == before, args


def test_a_50_mb_state_is_refused_untouched(project: Path, run_aether: RunAether) -> None:
    data = project / ".aether" / "data"
    data.mkdir(parents=True)
    big = b'{"version": "3.0", "goal": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    (data / "COLONY_STATE.json").write_bytes(big)
    result = run_aether("migrate")
    assert_clean_error(result, 15)
    assert (data / "COLONY_STATE.json").stat().st_size == len(big)
    assert sorted(p.name for p in data.iterdir()) == ["COLONY_STATE.json"]


def test_json_output_is_one_object(project: Path, run_aether: RunAether) -> None:
    install(FIXTURES / "v3.0-drift.in.json", project)
    done = run_aether("migrate", "--json")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert payload["counts"]["memory_items"] == 2 and "3.0.run_id" in payload["legacy_kept"]


def _profile_with(project: Path, endpoint: str, standalone: bool) -> None:
    from aether.routing import __file__ as routing_init

    text = (Path(routing_init).parent / "default-profile.yaml").read_text()
    assert "endpoint: http://127.0.0.1:4000" in text, "default profile changed shape"
    text = text.replace("endpoint: http://127.0.0.1:4000", f"endpoint: {endpoint}")
    if standalone:
        text = text.replace(
            f"  endpoint: {endpoint}\n", f"  endpoint: {endpoint}\n  standalone: true\n", 1
        )
        assert "standalone: true" in text, "default profile changed shape"
    (project / ".aether").mkdir(exist_ok=True)
    (project / ".aether" / "model-profiles.yaml").write_text(text)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (
            None,
            "does not exist: run `aether profile init` and set proxy.endpoint to "
            "http://localhost:4000",
        ),
        (("http://localhost:4000", False), "agrees with it"),
        (("http://localhost:4000/", False), "agrees with it"),
        (
            ("http://127.0.0.1:9999", False),
            "its proxy.endpoint is http://127.0.0.1:9999, not http://localhost:4000",
        ),
        (("http://localhost:4000", True), "routing was on but proxy.standalone is true"),
    ],
)
def test_old_model_profile_is_checked_against_the_current_profile(
    tmp_path: Path, profile: tuple[str, bool] | None, expected: str
) -> None:
    from aether.ops.migrate_state import profile_carry_over
    from aether.workspace import Workspace

    if profile is not None:
        _profile_with(tmp_path, *profile)
    old = {
        "active_profile": "default",
        "proxy_endpoint": "http://localhost:4000",
        "routing_enabled": True,
    }
    note = profile_carry_over(Workspace(tmp_path), old)
    assert "carried into profile_binding" in note
    assert expected in note, note


def test_dry_run_shows_exactly_the_file_migrate_writes_and_last_updated_survives(
    project: Path, run_aether: RunAether
) -> None:
    """Issue 12: a 3.0 file's last_updated was replaced by the migration time and survived
    nowhere, and the dry run showed another value than the one written."""
    source = FIXTURES / "v3.0-object-events.in.json"
    state_file = install(source, project)
    original = json.loads(source.read_text())["last_updated"]
    preview = run_aether("migrate", "--dry-run", "--json")
    assert preview.returncode == 0, preview.stderr
    target = json.loads(preview.stdout)["target"]
    assert run_aether("migrate").returncode == 0
    written = state_file.read_text()
    # byte for byte, but for the time of the write (stamped twice: updated_at, the migration)
    planned, state = json.loads(target), json.loads(written)
    written = written.replace(state["updated_at"], planned["updated_at"])
    written = written.replace(state["migrations"][-1]["at"], planned["migrations"][-1]["at"])
    assert written == target
    assert state["legacy"]["3.0"]["last_updated"] == original
    assert state["serial"] == 1 and state["updated_at"] != original
    diff_lines = json.loads(preview.stdout)["diff"].splitlines()
    assert '+  "serial": 1,' in diff_lines


def _mount_tmpfs(directory: Path, pages: int) -> None:
    """Put ``directory`` (and what it holds) on a tmpfs of ``pages`` 4 KiB pages."""
    import subprocess

    saved = directory.with_name(directory.name + ".saved")
    shutil.copytree(directory, saved)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={pages * 4}k", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        shutil.rmtree(saved)
        pytest.skip(f"this machine does not allow mounting a tmpfs: {done.stderr.strip()}")
    shutil.copytree(saved, directory, dirs_exist_ok=True)
    shutil.rmtree(saved)


def _leave_free(directory: Path, pages: int) -> None:
    """Fill the file system under ``directory`` until exactly ``pages`` pages are free."""
    import os

    vfs = os.statvfs(directory)
    assert vfs.f_frsize == 4096, vfs
    filler = (vfs.f_bavail - pages) * vfs.f_frsize
    (directory / "filler.bin").write_bytes(b"\0" * filler)
    assert os.statvfs(directory).f_bavail == pages


@pytest.mark.parametrize("links", [True, False], ids=["backup-linked", "backup-copied"])
def test_a_migration_whose_state_write_fails_changes_nothing(
    project: Path, run_aether: RunAether, monkeypatch: pytest.MonkeyPatch, links: bool
) -> None:
    """On a full file system `migrate` said "nothing was changed" after merging the memory
    files and leaving a backup folder. The data directory here is a tiny tmpfs with room for
    the pre-migration backup but not for the upgraded state (one page); the memory directory
    is elsewhere, with room to spare. The backup is a hard link, which needs no room at all
    (no page free), or, where the file system makes no links, a copy (one page free)."""
    import errno
    import os
    import subprocess

    state_file = install(FIXTURES / "v2.0-full.in.json", project)
    data = state_file.parent
    assert len(state_file.read_bytes()) <= 4096  # a copy of it: one page
    (data / "COLONY_STATE.json.lock").write_bytes(b"")
    (data / "COLONY_STATE.json.lock.holder").write_text("{}")  # rewritten in its own page
    if not links:

        def no_link(*args: object, **kwargs: object) -> None:
            raise OSError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_link)
    _mount_tmpfs(data, pages=64)
    try:
        _leave_free(data, pages=0 if links else 1)
        before = snapshot(project)
        failed = run_aether("migrate")
        after = snapshot(project)
        dirs = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_dir())
    finally:
        subprocess.run(["umount", "-l", str(data)], capture_output=True)
    assert_clean_error(failed, 24)
    assert "no space" in failed.stderr
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert changed == [".aether/data/COLONY_STATE.json.lock.holder"], changed
    assert dirs == [".aether", ".aether/data"], "a folder was left behind"


def _large_3_0(directory: Path) -> Path:
    """A 3.0 colony of 250 events (the state keeps 100) and 5 learnings."""
    from benchmarks.bench_migrate import synthetic_3_0

    path = directory / "large-3.0.json"
    path.write_text(json.dumps(synthetic_3_0(250, 5)), encoding="utf-8")
    return path


@pytest.mark.parametrize("source", ["v2.0-full", "3.0 beyond the event cap"])
def test_a_failed_migration_write_undoes_every_part(
    project: Path,
    run_aether: RunAether,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    source: str,
) -> None:
    """The same without a mount (any machine): the write of the upgraded state fails at the
    file layer (ENOSPC), after the backup, the memory files and (beyond the cap) the events
    archive's lines were prepared."""
    import errno
    import os

    state_file = install(
        FIXTURES / "v2.0-full.in.json" if source == "v2.0-full" else _large_3_0(tmp_path),
        project,
    )
    data = state_file.parent
    real_open, real_write = os.open, os.write
    failing: set[int] = set()

    def open_(path: str | os.PathLike[str], flags: int, mode: int = 0o777, **kw: object) -> int:
        fd = real_open(path, flags, mode, **kw)  # type: ignore[arg-type]
        name = Path(path)
        if name.parent == data and name.name.startswith(".COLONY_STATE.json."):
            failing.add(fd)
        return fd

    def write(fd: int, payload: bytes) -> int:
        if fd in failing:
            failing.discard(fd)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, payload)

    before = snapshot(project)
    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "write", write)
    failed = run_aether("migrate")
    monkeypatch.undo()
    assert_clean_error(failed, 24)
    after = snapshot(project)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not [k for k in changed if not k.endswith((".lock", ".lock.holder"))], changed
    assert not (project / ".aether/memory").exists() and not (data / "backups").exists()
    assert not (data / "events.archive.jsonl").exists()
    done = run_aether("migrate", "--json")  # and with the disk back, it migrates
    assert done.returncode == 0 and json.loads(done.stdout)["counts"]["memory_items_new"] > 0


def test_an_event_beyond_the_cap_that_does_not_validate_fails_the_load_naming_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No migration step makes such an event today; should one, the load fails as validating
    the whole upgraded state did, naming the event by its place in the file."""
    import aether.state.reading as reading
    from aether.errors import StateInvalid
    from aether.state.migrations import upgrade as real
    from aether.state.store import Store
    from aether.workspace import Workspace

    install(_large_3_0(tmp_path), project)

    def with_a_bad_event(doc: Any, ctx: Any) -> Any:
        result = real(doc, ctx)
        result.state["events"][7]["ts"] = 42
        return result

    monkeypatch.setattr(reading, "upgrade", with_a_bad_event)
    with pytest.raises(StateInvalid) as caught:
        Store(Workspace(project)).load()
    assert "is invalid: events.7.ts: Input should be a valid string" in caught.value.what


def test_the_oldest_events_of_an_old_colony_leave_it_as_archive_lines_when_it_is_read(
    project: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """A 3.0 colony of 250 events, where the state keeps 100: reading it keeps the last 100
    as models and the 150 oldest as the events archive's lines — validated on the way, never
    built into models (a write moves them there anyway: ~40 ms of a 10,000-event migrate).
    Read-only commands show the state as migrate will write it; migrate appends exactly those
    lines and still reports every event."""
    from aether.state.event_archive import event_lines
    from aether.state.migrations import MigrationContext, upgrade
    from aether.state.model import Event
    from aether.state.store import Store
    from aether.workspace import Workspace

    source = _large_3_0(tmp_path)
    install(source, project)
    loaded = Store(Workspace(project)).load()
    assert (len(loaded.state.events), loaded.state.events_archived) == (100, 150)
    assert loaded.events_moved == 150
    ctx = MigrationContext(now="", siblings={}, source_path=source, duplicate_keys=())
    everything = upgrade(json.loads(source.read_text()), ctx).state["events"]
    assert [e.model_dump() for e in loaded.state.events] == [
        Event.model_validate(e).model_dump() for e in everything[150:]
    ]
    expected = event_lines([Event.model_validate(e) for e in everything[:150]])
    assert loaded.archive_on_write == expected

    shown = json.loads(run_aether("status", "--json").stdout)
    assert shown["upgraded_from"] == "3.0" and shown["events_archived"] == 150
    done = run_aether("migrate", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["counts"]["events"], report["counts"]["events_archived"]) == (250, 150)
    assert any("the 150 oldest events move to" in note for note in report["notes"])
    data = project / ".aether/data"
    assert (data / "events.archive.jsonl").read_bytes() == expected
    state = json.loads((data / "COLONY_STATE.json").read_text())
    assert (len(state["events"]), state["events_archived"]) == (100, 150)


def test_migrate_parses_and_validates_the_file_once(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan's lock-free read is the one the write uses when the bytes under the lock are
    the same: a large colony is not parsed, upgraded and validated twice."""
    import aether.state.store as store
    from aether.ops.migrate_state import migrate_colony
    from aether.state.reading import load_document
    from aether.workspace import Workspace

    install(FIXTURES / "v3.0-object-events.in.json", project)
    calls: list[bytes] = []
    real = load_document  # what the store calls, by its own name for it

    def counted(ws: Workspace, raw: bytes) -> object:
        calls.append(raw)
        return real(ws, raw)

    monkeypatch.setattr(store, "load_document", counted)
    result = migrate_colony(Workspace(project))
    assert result.written and len(calls) == 1


@pytest.mark.parametrize("source", ["v3.0-object-events.in.json", "v1-six-file.in"])
def test_a_file_changed_after_the_plan_is_read_again_under_the_lock(
    project: Path, source: str
) -> None:
    """The reuse is only for identical bytes (and never for a v1 file, whose sibling files
    are part of its meaning): what the transaction works on is always the file as it is."""
    from aether.state.store import Store
    from aether.workspace import Workspace

    state_file = install(FIXTURES / source, project)
    store = Store(Workspace(project))
    planned = store.load()
    doc = json.loads(state_file.read_text())
    doc["goal"] = "changed after the plan"
    state_file.write_text(json.dumps(doc))
    with store.transaction(expected=planned) as tx:
        assert tx.state.goal == "changed after the plan"
        tx.abort = True
    if source.startswith("v1"):  # same bytes, changed sibling: still read again
        state_file.write_bytes(planned.raw)
        (state_file.parent / "events.json").write_text('["2026-01-01T00:00:00Z|x|y|sibling"]')
        with store.transaction(expected=planned) as tx:
            assert any("sibling" in e.message for e in tx.state.events)
            tx.abort = True
