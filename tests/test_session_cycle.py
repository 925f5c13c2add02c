"""The full session cycle (docs/lifecycle.md), command by command.

init → spawn several castes (--no-proxy) → a worker killed mid-``--exec`` → pause → HANDOFF.md
→ change the profile → resume: drift reported, pinned models kept, the killed worker ``lost``,
``--respawn`` on the same model → archive → verify → reset keeps every learning, decision and
instinct → restore brings the colony back identical (canonical JSON).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from aether.handoff import parse_handoff
from aether.json_text import canonical_json
from tests.conftest import RunAether
from tests.helpers import AETHER, clean_env, edit_profile_model, state_of


def ok(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, (result.args, result.returncode, result.stderr, result.stdout)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _kill_mid_exec(project: Path) -> str:
    """Start `spawn --exec` on a long command, wait until it runs, SIGKILL the whole group."""
    proc = subprocess.Popen(
        [
            AETHER,
            "spawn",
            "--caste",
            "builder",
            "--task",
            "long build",
            "--no-proxy",
            "--exec",
            "--",
            "sleep",
            "60",
        ],
        cwd=project,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            running = [
                w
                for w in state_of(project)["workers"]
                if w.get("task") == "long build" and w["status"] == "running"
            ]
            if running:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the --exec worker never showed up as running")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert running[0]["started_at"]
    return str(running[0]["id"])


def test_full_session_cycle(run_aether: RunAether, project: Path) -> None:
    ok(run_aether("init", "Full cycle colony", "--json"))
    knowledge = {
        ("learning", "flock, not pid files"),
        ("decision", "Typer for the CLI"),
        ("instinct", "test the edge first"),
    }
    for kind, text in sorted(knowledge):
        ok(run_aether("memory", "add", kind, text, "--json"))
    spawned = {}
    for caste in ("builder", "scout", "watcher", "chaos"):
        w = ok(
            run_aether("spawn", "--caste", caste, "--task", f"{caste} work", "--no-proxy", "--json")
        )
        spawned[w["id"]] = w
    killed = _kill_mid_exec(project)

    # pause: the handoff names every worker with its caste, model and the profile hash
    paused = ok(run_aether("pause", "--note", "cycle test", "--json"))
    text = (project / ".aether/HANDOFF.md").read_text()
    doc = parse_handoff(text)
    assert doc.profile_hash == paused["profile_hash"] and doc.profile_hash
    assert doc.caste_models["builder"] == "claude-sonnet-4-5"
    listed = {w.id: w for w in doc.workers}
    assert set(listed) == {*spawned, killed}
    for wid, w in spawned.items():
        assert listed[wid].caste == w["caste"] and listed[wid].model == w["model"]
        assert f"| {wid} | {w['caste']} | {w['model']} |" in text
    assert doc.profile_hash in text

    # the profile changes while paused: builder now routes elsewhere
    edit_profile_model(project, "builder", "claude-sonnet-4-5", "kimi-k2.5")
    resumed = ok(run_aether("resume", "--respawn", "--no-proxy", "--json"))
    assert {"caste": "builder", "at_pause": "claude-sonnet-4-5", "now": "kimi-k2.5"} in resumed[
        "profile"
    ]["drift"]
    orphans = {o["id"]: o["status"] for o in resumed["orphans"]}
    assert orphans[killed] == "lost"
    assert all(orphans[wid] == "never_started" for wid in spawned)
    respawned = {r["lost_id"]: r for r in resumed["respawned"]}
    assert respawned[killed]["ok"] is True
    new = respawned[killed]["worker"]
    assert new["model"] == "claude-sonnet-4-5"  # the pinned model, not the profile's new one
    assert new["caste"] == "builder" and new["task"] == "long build"
    assert new["respawn_of"] == killed
    state = state_of(project)
    by_id = {w["id"]: w for w in state["workers"]}
    assert by_id[killed]["status"] == "lost" and by_id[killed]["replaced_by"] == new["id"]
    assert state["status"] == "active"

    # archive, verify, reset (knowledge survives), restore (identical)
    chamber = ok(run_aether("archive", "--json"))["name"]
    assert ok(run_aether("archive", "verify", chamber, "--json"))["ok"] is True
    archived = json.loads(
        (project / ".aether/chambers" / chamber / "data/COLONY_STATE.json").read_text()
    )
    # the respawned worker may still be running: reset refuses unless told
    refused = run_aether("reset", "--yes", "--json")
    assert refused.returncode == 61 and new["id"] in refused.stderr
    ok(run_aether("reset", "--yes", "--force", "--json"))
    assert state_of(project)["workers"] == []
    items = ok(run_aether("memory", "list", "--json"))["items"]
    assert {(i["kind"], i["text"]) for i in items} == knowledge
    ok(run_aether("archive", "restore", chamber, "--json"))
    assert canonical_json(state_of(project)) == canonical_json(archived)
    items = ok(run_aether("memory", "list", "--json"))["items"]
    assert {(i["kind"], i["text"]) for i in items} == knowledge


def test_worker_respawn_function(run_aether: RunAether, project: Path) -> None:
    """`aether worker respawn ID` (the lead attaches the command; the use case is tested here)."""
    import pytest

    from aether.errors import WorkerNotFound, WorkerStateConflict
    from aether.ops.workers.respawn import respawn_worker
    from aether.workspace import Workspace

    ok(run_aether("init", "respawn colony", "--json"))
    w = ok(run_aether("spawn", "--caste", "scout", "--task", "look", "--no-proxy", "--json"))
    ws = Workspace(project)
    with pytest.raises(WorkerStateConflict):
        respawn_worker(ws, w["id"], no_proxy=True)  # still spawned: maybe alive
    with pytest.raises(WorkerNotFound):
        respawn_worker(ws, "w-nope", no_proxy=True)
    ok(run_aether("pause", "--json"))
    ok(run_aether("resume", "--json"))
    outcome = respawn_worker(ws, w["id"], no_proxy=True)
    assert outcome.worker is not None
    assert outcome.worker["model"] == w["model"] and outcome.worker["respawn_of"] == w["id"]
    with pytest.raises(WorkerStateConflict):
        respawn_worker(ws, w["id"], no_proxy=True)  # already replaced
