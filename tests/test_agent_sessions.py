"""Agent sessions on one colony without the real client (docs/claude-code.md): the session
registry, dead sessions found by their process, the worker tree, colony discovery through git
worktrees, lost workers closed, handed back or closed after waiting. The same behaviour under
the real Claude Code: tests/proxy/test_claude_sessions.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.helpers import (
    clean_env,
    git,
    run_standalone,
    session_records,
    state_of,
    subagent_records,
)

SESSION_A = "aaaaaaaa-0000-4000-8000-000000000001"
SESSION_B = "bbbbbbbb-0000-4000-8000-000000000002"


def hook_input(event: str, session: str, **fields: Any) -> str:
    return json.dumps(
        {
            "session_id": session,
            "transcript_path": "/nonexistent/session.jsonl",
            "cwd": "/",
            "hook_event_name": event,
            **fields,
        }
    )


@pytest.fixture
def installed(colony: Path, run_aether: RunAether) -> Path:
    run_standalone(colony)
    assert run_aether("claude", "install").returncode == 0
    return colony


@pytest.fixture
def runtime() -> Any:
    """A stand-in for an agent runtime's process: alive until the test kills it."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def as_session(run_aether: RunAether, event: str, session: str, pid: int, **fields: Any) -> Any:
    """A hook of ``session``, whose runtime process is ``pid`` (Claude Code names it to its hooks
    as CLAUDE_PID)."""
    env = clean_env(CLAUDE_PID=str(pid))
    return run_aether("hook", event, input=hook_input(event, session, **fields), env=env)


def test_a_session_ends_without_pausing_while_another_is_live_and_the_last_one_pauses(
    installed: Path, run_aether: RunAether, runtime: Any
) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        assert as_session(run_aether, "session-start", SESSION_A, runtime.pid).returncode == 0
        assert as_session(run_aether, "session-start", SESSION_B, other.pid).returncode == 0
        ended = as_session(run_aether, "session-end", SESSION_B, other.pid, reason="logout")
        assert ended.returncode == 0 and ended.stderr == ""
        state = state_of(installed)
        assert state["status"] == "active"  # A is still live
        statuses = {s["runtime"]["session_id"]: s["status"] for s in session_records(state)}
        assert statuses == {SESSION_A: "running", SESSION_B: "completed"}
        assert (
            "session bbbbbbbb (ended: logout)" in (installed / ".aether" / "HANDOFF.md").read_text()
        )  # a checkpoint that carries B
        as_session(run_aether, "session-end", SESSION_A, runtime.pid, reason="other")
        assert state_of(installed)["status"] == "paused"  # the last one out
    finally:
        other.kill()
        other.wait()


def test_a_dead_sessions_workers_are_lost_at_the_next_hook_of_any_session(
    installed: Path, run_aether: RunAether, runtime: Any
) -> None:
    as_session(run_aether, "session-start", SESSION_A, runtime.pid)
    start = as_session(
        run_aether,
        "subagent-start",
        SESSION_A,
        runtime.pid,
        agent_id="agent-1",
        agent_type="aether-builder",
    )
    assert start.returncode == 0
    runtime.kill()
    runtime.wait()
    # another session's first hook: the dead one is found at once, not at the next resume
    me = os.getpid()
    as_session(run_aether, "session-start", SESSION_B, me)
    state = state_of(installed)
    by_session = {s["runtime"]["session_id"]: s for s in session_records(state)}
    assert by_session[SESSION_A]["status"] == "lost"
    assert by_session[SESSION_B]["status"] == "running"
    (worker,) = subagent_records(state)
    assert worker["status"] == "lost" and worker["parent_id"] == by_session[SESSION_A]["id"]
    assert any(e["type"] == "session.died" for e in state["events"])
    # its end reported after all (a runtime's word beats the presumption): completed
    stop = as_session(
        run_aether,
        "subagent-stop",
        SESSION_A,
        me,
        agent_id="agent-1",
        agent_type="aether-builder",
        last_assistant_message="All done.\nNext: tests.",
    )
    assert stop.returncode == 0
    (worker,) = subagent_records(state_of(installed))
    assert worker["status"] == "completed" and worker["result"] == "Next: tests."


def test_a_pid_reused_by_another_process_does_not_keep_a_session_alive(
    installed: Path, run_aether: RunAether, runtime: Any
) -> None:
    as_session(run_aether, "session-start", SESSION_A, runtime.pid)
    state_file = installed / ".aether" / "data" / "COLONY_STATE.json"
    doc = json.loads(state_file.read_text())
    (session,) = [w for w in doc["workers"] if w["caste"] == "queen"]
    session["runtime"]["process"]["start"] += 1  # the same pid, started at another time
    state_file.write_text(json.dumps(doc))
    as_session(run_aether, "session-start", SESSION_B, os.getpid())
    by_session = {s["runtime"]["session_id"]: s for s in session_records(state_of(installed))}
    assert by_session[SESSION_A]["status"] == "lost"


def test_process_identity_sees_a_process_end() -> None:
    from aether.process_identity import ProcessIdentity, find_runtime_process, is_alive

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        me = find_runtime_process(proc.pid)
        assert me is not None and me.pid == proc.pid and is_alive(me) is True
        assert ProcessIdentity.decode(me.encode()) == me
        proc.kill()
        proc.wait()
        assert is_alive(me) is False
    finally:
        if proc.poll() is None:
            proc.kill()
    # a shell between a hook and its runtime is passed through
    child = "import os, time; print(os.getppid(), flush=True); time.sleep(60)"
    shell = subprocess.Popen(
        ["/bin/sh", "-c", f"{sys.executable} -c '{child}'; true"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert shell.stdout is not None
        found = find_runtime_process(int(shell.stdout.readline()))
        assert found is not None and found.pid == os.getpid()
    finally:
        shell.kill()
        shell.wait()


# --- the worker tree -----------------------------------------------------------------------------


def _w(wid: str, parent: str | None = None) -> Any:
    from aether.state.model import Worker

    return Worker(
        id=wid,
        caste="builder",
        model="m",
        model_source="x",
        model_reason="x",
        profile_hash="p",
        spawned_at="2026-01-01T00:00:00Z",
        parent_id=parent,
    )


def test_the_tree_orders_children_under_parents_and_survives_cycles_and_gaps() -> None:
    from aether.worker_tree import descendants, tree_order

    workers = [
        _w("q"),
        _w("b1", "p"),
        _w("p", "q"),
        _w("s", "p"),
        _w("orphan", "compacted"),
        _w("x", "y"),
        _w("y", "x"),
    ]
    order = [(d, w.id) for d, w in tree_order(workers)]
    assert order[:4] == [(0, "q"), (1, "p"), (2, "b1"), (2, "s")]
    assert (0, "orphan") in order  # its parent left the state: a root
    assert sorted(i for _, i in order) == sorted(w.id for w in workers)  # each once
    assert [w.id for w in descendants(workers, "p")] == ["b1", "s"]


# --- worktrees -----------------------------------------------------------------------------


def test_a_linked_worktree_belongs_to_the_main_checkouts_colony(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    (colony / ".gitignore").write_text(".aether/\n")
    (colony / "README").write_text("x\n")
    git("init", "-q", ".", cwd=colony)
    git("add", ".", cwd=colony)
    git("commit", "-qm", "x", cwd=colony)
    worktree = tmp_path / "wt"
    git("worktree", "add", "-q", str(worktree), cwd=colony)
    (worktree / "src").mkdir()
    status = json.loads(run_aether("status", "--json", cwd=worktree / "src").stdout)
    assert status["state_file"] == str(colony / ".aether" / "data" / "COLONY_STATE.json")
    clone = tmp_path / "clone"
    git("clone", "-q", str(colony), str(clone), cwd=tmp_path)
    lost = run_aether("status", cwd=clone)
    assert lost.returncode == 10 and "no colony found" in lost.stderr


# --- lost workers: closed, reported after all, handed back, closed after waiting ----------------


def _lost_builder(run_aether: RunAether, installed: Path, runtime: Any) -> str:
    as_session(run_aether, "session-start", SESSION_A, runtime.pid)
    as_session(
        run_aether,
        "subagent-start",
        SESSION_A,
        runtime.pid,
        agent_id="agent-7",
        agent_type="aether-builder",
    )
    runtime.kill()
    runtime.wait()
    as_session(run_aether, "session-end", SESSION_B, os.getpid(), reason="other")
    (worker,) = subagent_records(state_of(installed))
    assert worker["status"] == "lost"
    return str(worker["id"])


def test_a_lost_worker_is_closed_with_a_reason_or_reported_finished(
    installed: Path, run_aether: RunAether, runtime: Any
) -> None:
    wid = _lost_builder(run_aether, installed, runtime)
    empty = run_aether("worker", "close", wid, "--reason", "  ")
    assert empty.returncode == 21  # InvalidInput
    closed = run_aether("worker", "close", wid, "--reason", "superseded by the new lexer")
    assert closed.returncode == 0, closed.stderr
    worker = subagent_records(state_of(installed))[0]
    assert worker["status"] == "lost" and worker["close_reason"] == "superseded by the new lexer"
    handoff = (installed / ".aether" / "HANDOFF.md").read_text()
    assert handoff  # written at the pause
    again = run_aether("worker", "fail", wid, "--reason", "it crashed after all")
    assert again.returncode == 0, again.stderr  # a lost worker may still say how it ended
    assert subagent_records(state_of(installed))[0]["status"] == "failed"
    running = run_aether("worker", "close", wid, "--reason", "x")
    assert running.returncode == 57  # only lost or never_started workers are closed


def test_a_lost_subagent_is_handed_back_and_undecided_orphans_close_after_three_resumes(
    installed: Path, run_aether: RunAether, runtime: Any
) -> None:
    wid = _lost_builder(run_aether, installed, runtime)
    handed = json.loads(run_aether("worker", "respawn", wid, "--json").stdout)
    assert handed["handed_back"] is True and handed["worker"] is None
    state = state_of(installed)
    assert len(subagent_records(state)) == 1 and subagent_records(state)[0]["rerun_requested_at"]
    for n in range(3):
        resumed = run_aether("resume", "--json")
        assert resumed.returncode == 0, resumed.stderr
        (worker,) = subagent_records(state_of(installed))
        assert bool(worker["closed_at"]) is (n == 2), (n, worker)
        assert run_aether("pause").returncode == 0
    assert "closed by aether" in worker["close_reason"]
    handoff = (installed / ".aether" / "HANDOFF.md").read_text()
    assert wid not in handoff.split("## Workers in flight", 1)[1].split("## ", 1)[0]


def test_costs_say_unknown_where_no_cost_was_reported(colony: Path, run_aether: RunAether) -> None:
    spawned = run_aether("spawn", "--caste", "builder", "--no-proxy", "--json")
    wid = json.loads(spawned.stdout)["id"]
    run_aether("worker", "report", wid, "--model-used", "x-model", "--tokens-in", "10")
    costs = json.loads(run_aether("costs", "--json").stdout)
    assert costs["by_caste"]["builder"]["cost_usd"] is None
    assert costs["by_caste"]["builder"]["cost_unknown"] == 1
    text = run_aether("costs").stdout
    assert "unknown" in text and "0.0000" not in text


def test_only_a_sessions_start_brings_an_ended_session_back(
    installed: Path, run_aether: RunAether, runtime: Any
) -> None:
    as_session(run_aether, "session-start", SESSION_A, runtime.pid)
    as_session(run_aether, "session-end", SESSION_A, runtime.pid, reason="other")
    late = hook_input("SubagentStart", SESSION_A, agent_id="a9", agent_type="aether-builder")
    assert run_aether("hook", "subagent-start", input=late).returncode == 0
    (session,) = session_records(state_of(installed))
    assert session["status"] == "completed"  # a late hook leaves the ended record as it is
    as_session(run_aether, "session-start", SESSION_A, runtime.pid, source="resume")
    (session,) = session_records(state_of(installed))
    assert session["status"] == "running"  # `claude --resume`: the same session, live again


@pytest.mark.parametrize(
    ("kind", "handed_back"),
    [("codex", True), ("claude-code", True), ("codex-headless", False), (None, False)],
)
def test_respawn_hands_back_the_subagent_of_any_runtime_and_spawns_the_rest(
    colony: Path, run_aether: RunAether, kind: str | None, handed_back: bool
) -> None:
    """A lost subagent that a runtime's hooks recorded (Claude Code's or Codex's) is handed back
    to that runtime's next session; a worker of ``aether spawn`` (a headless run's record names
    its own kind, or none) is spawned again. A Codex subagent was spawned again as a record
    nothing runs."""
    from aether.state.model import Worker
    from aether.state.store import Store
    from aether.workspace import discover

    runtime = None if kind is None else {"kind": kind, "session_id": "s-1", "agent_id": "a-1"}
    with Store(discover(None, start=colony)).transaction() as tx:
        worker = Worker(
            id="w-builder-lost1",
            caste="builder",
            model="claude-sonnet-4-5",
            model_source="caste-default",
            model_reason="test",
            profile_hash="",
            session_id=tx.state.session.id,
            spawned_at="2026-12-05T00:00:00Z",
            status="lost",
            runtime=runtime,
        )
        tx.state.workers.append(worker)
    out = run_aether("worker", "respawn", "w-builder-lost1", "--no-proxy", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["handed_back"] is handed_back
    assert (result["worker"] is None) is handed_back
