"""Locking and atomic writes between real processes: contention, dead holders, killed writers."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import textwrap
import time
from pathlib import Path

from aether.files import TEMP_SUFFIX
from aether.state.model import ColonyState
from aether.state.store import Store
from aether.workspace import Workspace
from tests.conftest import RunAether
from tests.helpers import assert_clean_error, clean_env
from tests.lock_scripts import HOLDER, start_script

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from aether.state.store import Store
    from aether.workspace import Workspace
    store = Store(Workspace(Path(sys.argv[1])))
    print("started", flush=True)
    while True:
        with store.transaction() as tx:
            tx.state.settings.event_cap = 400
            for _ in range(20):
                tx.state.add_event("load", "x" * 400)
    """
)


def _start(script: str, project: Path) -> subprocess.Popen[str]:
    proc, line = start_script(script, project, clean_env())
    assert line in {"locked", "started"}, line
    return proc


def test_live_holder_makes_others_wait_then_fail_naming_it(
    colony: Path, run_aether: RunAether
) -> None:
    holder = _start(HOLDER, colony)
    try:
        started = time.monotonic()
        result = run_aether("--lock-timeout", "0.5", "init", "replace", "--force")
        elapsed = time.monotonic() - started
        assert_clean_error(result, 22)
        assert f"pid {holder.pid}" in result.stderr
        assert "test-holder" in result.stderr
        assert elapsed >= 0.5
        # the environment variable works too
        by_env = run_aether("init", "replace", "--force", env=clean_env(AETHER_LOCK_TIMEOUT="0.2"))
        assert_clean_error(by_env, 22)
    finally:
        holder.kill()
        holder.wait()


def test_sigkilled_holder_delays_nobody(colony: Path, run_aether: RunAether) -> None:
    holder = _start(HOLDER, colony)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    store = Store(Workspace(colony), lock_timeout=5)
    started = time.monotonic()
    with store.lock():
        waited = time.monotonic() - started
    assert waited < 0.1, f"waited {waited:.3f} s on a dead holder"
    result = run_aether("--lock-timeout", "0", "init", "after the crash", "--force")
    assert result.returncode == 0, result.stderr
    # the lock file is never deleted (a deleted lock file lets two holders coexist)
    assert Workspace(colony).lock_file.exists()


def test_killed_writer_never_leaves_a_torn_state(colony: Path) -> None:
    ws = Workspace(colony)
    rng = random.Random(20261121)
    last_serial = Store(ws).load().state.serial
    for _ in range(12):
        writer = _start(WRITER, colony)
        time.sleep(rng.uniform(0.05, 0.4))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        loaded = Store(ws).load()  # parses and validates, or raises
        assert loaded.state.serial >= last_serial
        last_serial = loaded.state.serial
        json.loads(ws.state_file.read_text())
    # whatever temp files the kills left, the next write sweeps them
    with Store(ws).transaction() as tx:
        tx.state.add_event("after", "kills")
    assert not [p for p in ws.data_dir.iterdir() if p.name.endswith(TEMP_SUFFIX)]
    assert Store(ws).load().state.serial == last_serial + 1


def test_every_write_bumps_the_serial_and_keeps_rolling_backups(colony: Path) -> None:
    ws = Workspace(colony)
    store = Store(ws)
    first = store.load().state.serial
    for i in range(15):
        with store.transaction() as tx:
            tx.state.add_event("n", str(i))
    assert store.load().state.serial == first + 15
    backups = sorted(ws.backups_dir.glob("COLONY_STATE.serial-*.json"))
    assert len(backups) == 10
    newest = json.loads(backups[-1].read_text())
    assert newest["serial"] == first + 14


def test_a_failing_caller_writes_nothing(colony: Path) -> None:
    ws = Workspace(colony)
    before = ws.state_file.read_bytes()
    try:
        with Store(ws).transaction() as tx:
            tx.state.goal = "changed"
            raise RuntimeError("caller failed")
    except RuntimeError:
        pass
    assert ws.state_file.read_bytes() == before


def test_then_steps_see_the_committed_state_under_the_lock(colony: Path) -> None:
    """``tx.then`` runs after the write, with the serial bumped, while the lock is held; on
    abort it sees the untouched state; a failing step fails the command after the commit and
    still releases the lock."""
    from filelock import FileLock, Timeout

    ws = Workspace(colony)
    store = Store(ws)
    first = store.load().state.serial
    seen: list[tuple[int, bool]] = []

    def step(state: ColonyState) -> None:
        probe = FileLock(str(ws.lock_file), timeout=0)
        try:
            probe.acquire()
            probe.release()
            held = False
        except Timeout:
            held = True
        on_disk = json.loads(ws.state_file.read_text())["serial"]
        assert on_disk == state.serial
        seen.append((state.serial, held))

    with store.transaction() as tx:
        tx.state.add_event("n", "then")
        tx.then(step)
    with store.transaction() as tx:
        tx.abort = True
        tx.then(step)
    assert seen == [(first + 1, True), (first + 1, True)]

    def broken(state: ColonyState) -> None:
        raise OSError(28, "No space left on device")

    try:
        with store.transaction() as tx:
            tx.state.add_event("n", "committed before the step fails")
            tx.then(broken)
        raise AssertionError("expected the step's error")
    except OSError:
        pass
    assert store.load().state.serial == first + 2  # the state was written first
    with store.transaction() as tx:  # and the lock was released
        tx.abort = True


def test_invalid_change_is_rejected_before_writing(colony: Path) -> None:
    from aether.errors import StateInvalid

    ws = Workspace(colony)
    before = ws.state_file.read_bytes()
    try:
        with Store(ws).transaction() as tx:
            tx.state.serial = -5  # assignment is not validated by pydantic; the commit is
        raise AssertionError("expected StateInvalid")
    except StateInvalid:
        pass
    assert ws.state_file.read_bytes() == before


def test_events_are_bounded_but_never_discarded(colony: Path) -> None:
    ws = Workspace(colony)
    with Store(ws).transaction() as tx:
        tx.state.settings.event_cap = 5
        for i in range(12):
            tx.state.add_event("e", f"event {i}")
    state = Store(ws).load().state
    assert [e.message for e in state.events] == [f"event {i}" for i in range(7, 12)]
    assert state.events_archived == 7
    archived = [json.loads(line) for line in ws.events_archive.read_text().splitlines()]
    assert [e["message"] for e in archived] == [f"event {i}" for i in range(7)]


def test_symlinked_state_is_refused_for_writes(colony: Path, tmp_path: Path) -> None:
    from aether.errors import UnsafePath

    ws = Workspace(colony)
    real = tmp_path / "elsewhere.json"
    real.write_bytes(ws.state_file.read_bytes())
    ws.state_file.unlink()
    ws.state_file.symlink_to(real)
    before = real.read_bytes()
    try:
        with Store(ws).transaction() as tx:
            tx.state.add_event("x")
        raise AssertionError("expected UnsafePath")
    except UnsafePath:
        pass
    assert real.read_bytes() == before
