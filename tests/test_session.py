"""``aether pause`` / ``aether resume`` (docs/sessions.md)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from aether.handoff import parse_handoff
from tests.conftest import RunAether
from tests.helpers import (
    as_json,
    assert_clean_error,
    check_golden,
    clean_env,
    data_snapshot,
    edit_profile_model,
    inject_workers,
    snapshot,
    state_of,
    worker,
    write_state,
)

T0 = "2026-03-01T12:00:00Z"


def at(moment: str) -> dict[str, str]:
    return clean_env(AETHER_NOW=moment)


def test_pause_without_colony(run_aether: RunAether, project: Path) -> None:
    result = run_aether("pause")
    assert_clean_error(result, 10)
    assert not (project / ".aether").exists()


def test_pause_writes_handoff_matching_the_state(run_aether: RunAether, colony: Path) -> None:
    inject_workers(
        colony,
        [
            worker(
                "w-b",
                "builder",
                "claude-sonnet-4-5",
                "running",
                task="build it",
                started_at="2026-03-01T11:30:00Z",
            )
        ],
    )
    out = as_json(run_aether("pause", "--note", "mid-refactor", "--json", env=at(T0)))
    state = state_of(colony)
    assert state["status"] == "paused"
    assert state["session"]["paused_at"] == T0 == out["paused_at"]
    assert state["session"]["note"] == "mid-refactor"
    text = (colony / ".aether/HANDOFF.md").read_text()
    doc = parse_handoff(text)
    assert doc.colony_id == state["colony_id"]
    assert doc.serial == state["serial"]
    assert doc.session_id == state["session"]["id"]
    assert doc.profile_hash == state["session"]["profile_hash_at_pause"]
    assert doc.profile_hash and doc.profile_hash.startswith("p-")
    assert doc.caste_models["builder"] == "claude-sonnet-4-5"
    assert doc.caste_models["chaos"] == "kimi-k2.5"
    assert [w.id for w in doc.workers] == ["w-b"]
    assert "| w-b | builder | claude-sonnet-4-5 | p-test | no | build it | running |" in text
    assert "mid-refactor" in text and "aether resume" in text


def test_pause_twice_refreshes_and_keeps_the_pause_time(
    run_aether: RunAether, colony: Path
) -> None:
    assert run_aether("pause", env=at(T0)).returncode == 0
    before = state_of(colony)
    out = as_json(run_aether("pause", "--json", env=at("2026-03-01T13:00:00Z")))
    assert out["already_paused"] is True
    assert state_of(colony)["session"]["paused_at"] == T0
    assert state_of(colony)["serial"] == before["serial"]  # nothing new: no write
    human = run_aether("pause", "--note", "later note")
    assert "Already paused" in human.stdout
    assert parse_handoff((colony / ".aether/HANDOFF.md").read_text()).note == "later note"


def test_resume_when_not_paused_changes_nothing(run_aether: RunAether, colony: Path) -> None:
    before = snapshot(colony)
    assert_clean_error(run_aether("resume"), 61)
    assert snapshot(colony) == before


def test_resume_starts_a_new_session_and_keeps_the_handoff(
    run_aether: RunAether, colony: Path
) -> None:
    assert run_aether("pause", env=at(T0)).returncode == 0
    old = state_of(colony)["session"]["id"]
    handoff = (colony / ".aether/HANDOFF.md").read_bytes()
    out = as_json(run_aether("resume", "--json", env=at("2026-03-01T12:30:00Z")))
    state = state_of(colony)
    assert state["status"] == "active"
    assert state["session"]["id"] != old and out["session_id"] == state["session"]["id"]
    assert state["session"]["resumed_at"] == "2026-03-01T12:30:00Z"
    assert old in state["session"]["previous_ids"]
    assert out["handoff"]["readable"] and out["handoff"]["age_s"] == 1800
    assert not (colony / ".aether/HANDOFF.md").exists()
    history = list((colony / ".aether/handoff-history").iterdir())
    assert [p.read_bytes() for p in history] == [handoff]
    assert {"check": "handoff", "level": "ok"}.items() <= out["checks"][0].items()


def test_resume_human_output_shows_the_panel(run_aether: RunAether, colony: Path) -> None:
    run_aether("pause", "--note", "was fixing the lexer")
    result = run_aether("resume")
    assert result.returncode == 0, result.stderr
    assert "Test colony goal" in result.stdout and "was fixing the lexer" in result.stdout
    assert "handoff age" in result.stdout


def test_nonsense_handoff_is_reported_and_resume_works(run_aether: RunAether, colony: Path) -> None:
    run_aether("pause")
    (colony / ".aether/HANDOFF.md").write_text("I edited this by hand\n```json\n{oops\n")
    out = as_json(run_aether("resume", "--json"))
    assert out["handoff"]["readable"] is False
    assert "unreadable" in out["handoff"]["problem"]
    assert out["checks"][0]["level"] == "warning"
    assert state_of(colony)["status"] == "active"
    kept = list((colony / ".aether/handoff-history").iterdir())
    assert kept[0].read_text().startswith("I edited this by hand")


def test_handoff_of_another_colony_is_refused(
    run_aether: RunAether, colony: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    assert run_aether("init", "other colony", cwd=other).returncode == 0
    assert run_aether("pause", cwd=other).returncode == 0
    run_aether("pause")
    shutil.copy(other / ".aether/HANDOFF.md", colony / ".aether/HANDOFF.md")
    before = snapshot(colony)
    result = run_aether("resume")
    assert_clean_error(result, 60)
    assert "belongs to colony" in result.stderr
    assert snapshot(colony) == before
    out = as_json(run_aether("resume", "--ignore-handoff", "--json"))
    assert out["status"] == "active"
    assert len(list((colony / ".aether/handoff-history").iterdir())) == 1


def test_stale_handoff_is_reported(run_aether: RunAether, colony: Path) -> None:
    run_aether("pause")
    data = state_of(colony)
    data["serial"] += 3  # the state moved on after the handoff was written
    write_state(colony, data)
    out = as_json(run_aether("resume", "--json"))
    assert out["checks"][0]["level"] == "warning"
    assert "changed after the handoff" in out["checks"][0]["message"]


def test_orphans_are_marked_listed_and_not_rerun(run_aether: RunAether, colony: Path) -> None:
    inject_workers(
        colony,
        [
            worker("w-never", "scout", "claude-haiku-4-5"),
            worker(
                "w-killed",
                "builder",
                "claude-sonnet-4-5",
                "running",
                started_at="2026-03-01T11:10:00Z",
            ),
            worker(
                "w-alive",
                "watcher",
                "claude-sonnet-4-5",
                "running",
                started_at="2026-03-01T11:10:00Z",
                heartbeat_at="2026-03-01T12:20:00Z",
            ),
            worker(
                "w-stale",
                "watcher",
                "claude-sonnet-4-5",
                "running",
                started_at="2026-03-01T11:10:00Z",
                heartbeat_at="2026-03-01T12:05:00Z",
            ),
            worker("w-done", "builder", "claude-sonnet-4-5", "completed"),
        ],
    )
    data = state_of(colony)
    data["settings"]["heartbeat_limit_s"] = 1200
    write_state(colony, data)
    assert run_aether("pause", env=at(T0)).returncode == 0
    # w-stale heartbeated after the pause, but 25 min before resume: over the 20 min limit
    out = as_json(run_aether("resume", "--json", env=at("2026-03-01T12:30:00Z")))
    by_id = {w["id"]: w for w in state_of(colony)["workers"]}
    assert by_id["w-never"]["status"] == "never_started"
    assert by_id["w-killed"]["status"] == "lost"
    assert by_id["w-stale"]["status"] == "lost" and "limit" in by_id["w-stale"]["fail_reason"]
    assert by_id["w-alive"]["status"] == "running"
    assert by_id["w-done"]["status"] == "completed"
    assert sorted(o["id"] for o in out["orphans"]) == ["w-killed", "w-never", "w-stale"]
    assert sorted(p["id"] for p in out["awaiting_respawn"]) == ["w-killed", "w-never", "w-stale"]
    assert out["respawned"] == []
    assert all(w["model"] == m for w, m in ((by_id["w-killed"], "claude-sonnet-4-5"),))
    types = [e["type"] for e in state_of(colony)["events"]]
    assert types.count("worker.lost") == 2 and types.count("worker.never_started") == 1


@pytest.mark.parametrize("how", ["option", "env"])
def test_heartbeat_limit_is_configurable_per_resume(
    run_aether: RunAether, colony: Path, how: str
) -> None:
    inject_workers(
        colony,
        [
            worker(
                "w-stale",
                "watcher",
                "claude-sonnet-4-5",
                "running",
                started_at="2026-03-01T11:10:00Z",
                heartbeat_at="2026-03-01T12:05:00Z",
            ),
        ],
    )
    assert run_aether("pause", env=at(T0)).returncode == 0
    # 25 min since the last heartbeat: alive under the default 3600 s limit, lost under 1200 s
    args = ["resume", "--json"] + (["--heartbeat-limit", "1200"] if how == "option" else [])
    env = at("2026-03-01T12:30:00Z")
    if how == "env":
        env["AETHER_HEARTBEAT_LIMIT"] = "1200"
    out = as_json(run_aether(*args, env=env))
    assert [o["id"] for o in out["orphans"]] == ["w-stale"]
    assert "1200 s limit" in state_of(colony)["workers"][0]["fail_reason"]
    assert state_of(colony)["settings"]["heartbeat_limit_s"] == 3600  # an override, not saved


def test_heartbeat_limit_default_leaves_a_recent_worker_alive(
    run_aether: RunAether, colony: Path
) -> None:
    inject_workers(
        colony,
        [
            worker(
                "w-alive",
                "watcher",
                "claude-sonnet-4-5",
                "running",
                started_at="2026-03-01T11:10:00Z",
                heartbeat_at="2026-03-01T12:05:00Z",
            ),
        ],
    )
    assert run_aether("pause", env=at(T0)).returncode == 0
    out = as_json(run_aether("resume", "--json", env=at("2026-03-01T12:30:00Z")))
    assert out["orphans"] == []
    assert state_of(colony)["workers"][0]["status"] == "running"


def test_bad_heartbeat_limit_changes_nothing(run_aether: RunAether, colony: Path) -> None:
    assert run_aether("pause", env=at(T0)).returncode == 0
    before = data_snapshot(colony)
    result = run_aether("resume", "--heartbeat-limit", "0", env=at(T0))
    assert_clean_error(result, 21)
    assert data_snapshot(colony) == before


def test_force_resume_after_a_crashed_session(run_aether: RunAether, colony: Path) -> None:
    """A session that died without a pause has no known end: a worker with a sign of life
    within the heartbeat limit may still be running and is left alone; older ones are orphans."""
    inject_workers(
        colony,
        [
            # 50 minutes ago, within the default 3600 s limit: may still be alive
            worker(
                "w-r", "builder", "claude-sonnet-4-5", "running", started_at="2026-03-01T11:10:00Z"
            ),
            # last heartbeat 90 minutes ago: lost
            worker(
                "w-old",
                "builder",
                "claude-sonnet-4-5",
                "running",
                started_at="2026-03-01T10:00:00Z",
                heartbeat_at="2026-03-01T10:30:00Z",
            ),
            # spawned 2 hours ago, never started: never_started
            worker("w-ns", "scout", "claude-haiku-4-5", spawned_at="2026-03-01T10:00:00Z"),
            # spawned a minute ago: may be starting right now
            worker("w-new", "scout", "claude-haiku-4-5", spawned_at="2026-03-01T11:59:00Z"),
        ],
    )
    out = as_json(run_aether("resume", "--force", "--json", env=at(T0)))
    assert out["was_paused"] is False
    assert {o["id"]: o["status"] for o in out["orphans"]} == {
        "w-old": "lost",
        "w-ns": "never_started",
    }
    assert all("ended without a pause" in o["reason"] for o in out["orphans"])
    left = [c for c in out["checks"] if c["check"] == "workers" and c["level"] == "info"]
    assert len(left) == 1 and "w-r" in left[0]["message"] and "w-new" in left[0]["message"]
    statuses = {w["id"]: w["status"] for w in state_of(colony)["workers"]}
    assert statuses["w-r"] == "running" and statuses["w-new"] == "spawned"


def test_force_resume_with_a_short_heartbeat_limit(run_aether: RunAether, colony: Path) -> None:
    inject_workers(
        colony,
        [
            worker(
                "w-r", "builder", "claude-sonnet-4-5", "running", started_at="2026-03-01T11:10:00Z"
            )
        ],
    )
    out = as_json(run_aether("resume", "--force", "--heartbeat-limit", "600", "--json", env=at(T0)))
    assert [(o["id"], o["status"]) for o in out["orphans"]] == [("w-r", "lost")]
    assert "3000 s (limit 600 s)" in out["orphans"][0]["reason"]


def test_profile_drift_keeps_pinned_models_unless_adopted(
    run_aether: RunAether, colony: Path
) -> None:
    inject_workers(
        colony,
        [
            worker(
                "w-b", "builder", "claude-sonnet-4-5", "running", started_at="2026-03-01T11:10:00Z"
            ),
            worker(
                "w-s", "scout", "claude-haiku-4-5", "running", started_at="2026-03-01T11:10:00Z"
            ),
        ],
    )
    assert run_aether("pause", env=at(T0)).returncode == 0
    edit_profile_model(colony, "builder", "claude-sonnet-4-5", "kimi-k2.5")
    out = as_json(run_aether("resume", "--json", env=at("2026-03-01T12:10:00Z")))
    assert out["profile"]["hash_at_pause"] != out["profile"]["hash_now"]
    assert out["profile"]["drift"] == [
        {"caste": "builder", "at_pause": "claude-sonnet-4-5", "now": "kimi-k2.5"}
    ]
    assert out["profile"]["pinned_workers"] == [
        {
            "id": "w-b",
            "caste": "builder",
            "model": "claude-sonnet-4-5",
            "profile_model": "kimi-k2.5",
        }
    ]
    by_id = {w["id"]: w for w in state_of(colony)["workers"]}
    assert by_id["w-b"]["model"] == "claude-sonnet-4-5" and by_id["w-b"].get("repin_to") is None
    assert out["awaiting_respawn"][0]["model"] == "claude-sonnet-4-5"
    human = run_aether("resume")  # not paused any more: refused, drift was already reported
    assert human.returncode == 61


def test_adopt_profile_repins_unfinished_workers(run_aether: RunAether, colony: Path) -> None:
    inject_workers(
        colony,
        [
            worker(
                "w-b", "builder", "claude-sonnet-4-5", "running", started_at="2026-03-01T11:10:00Z"
            )
        ],
    )
    assert run_aether("pause", env=at(T0)).returncode == 0
    edit_profile_model(colony, "builder", "claude-sonnet-4-5", "kimi-k2.5")
    out = as_json(run_aether("resume", "--adopt-profile", "--json"))
    assert out["profile"]["adopted"] is True
    w = state_of(colony)["workers"][0]
    assert w["model"] == "claude-sonnet-4-5"  # the record of what it ran on is not rewritten
    assert w["repin_to"] == "kimi-k2.5"
    assert out["awaiting_respawn"][0]["model"] == "kimi-k2.5"


def test_unreadable_profile_does_not_block_pause_or_resume(
    run_aether: RunAether, colony: Path
) -> None:
    (colony / ".aether/model-profiles.yaml").write_text("castes: [unclosed\n")
    out = as_json(run_aether("pause", "--json"))
    assert out["profile_hash"] is None and out["warnings"]
    res = as_json(run_aether("resume", "--json"))
    assert any(c["check"] == "profile" and c["level"] == "warning" for c in res["checks"])


def _git(project: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=project,
        check=True,
        capture_output=True,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_drift_is_information(run_aether: RunAether, colony: Path) -> None:
    _git(colony, "init", "-q", "-b", "main")
    (colony / "a.txt").write_text("1")
    _git(colony, "add", "a.txt")
    _git(colony, "commit", "-q", "-m", "one")
    out = as_json(run_aether("pause", "--json"))
    assert out["git"]["branch"] == "main" and len(out["git"]["head"]) == 40
    doc = parse_handoff((colony / ".aether/HANDOFF.md").read_text())
    assert doc.git is not None and doc.git.head == out["git"]["head"]
    _git(colony, "checkout", "-q", "-b", "feature")
    (colony / "a.txt").write_text("2")
    _git(colony, "commit", "-q", "-am", "two")
    res = as_json(run_aether("resume", "--json"))
    assert any(c.startswith("branch main → feature") for c in res["git_changes"])
    assert any(c.startswith("HEAD ") for c in res["git_changes"])
    assert [c["level"] for c in res["checks"] if c["check"] == "git"] == ["info"]


def test_cli_handoff_golden(run_aether: RunAether, project: Path) -> None:
    env = at(T0)
    assert run_aether("init", "Golden colony", env=env).returncode == 0
    assert run_aether("memory", "add", "decision", "Keep HANDOFF.md small", env=env).returncode == 0
    assert run_aether("pause", "--note", "golden note", env=env).returncode == 0
    text = (project / ".aether/HANDOFF.md").read_text()
    state = state_of(project)
    text = text.replace(state["colony_id"], "colony-ID").replace(
        state["session"]["id"], "session-ID"
    )
    text = re.sub(r"aether \d+\.\d+\.\d+\S*", "aether VERSION", text)
    text = re.sub(r'"profile_hash": "p-[0-9a-f]+"', '"profile_hash": "p-HASH"', text)
    text = re.sub(r"`p-[0-9a-f]+`", "`p-HASH`", text)

    check_golden("handoff_cli.md", text)


def test_a_worker_that_sent_a_report_is_lost_not_never_started(
    run_aether: RunAether, colony: Path
) -> None:
    """`worker report` says the worker ran (it names the model it ran on), even without a
    heartbeat or an --exec start: resume must not call it never_started."""
    spawned = as_json(run_aether("spawn", "--caste", "builder", "--no-proxy", "--json", env=at(T0)))
    wid = spawned["id"]
    reported = run_aether(
        "worker", "report", wid, "--model-used", "claude-sonnet-4-5", "--tokens-in", "10"
    )
    assert reported.returncode == 0, reported.stderr
    assert run_aether("pause", env=at("2026-03-01T12:10:00Z")).returncode == 0
    out = as_json(run_aether("resume", "--json", env=at("2026-03-01T12:20:00Z")))
    record = {w["id"]: w for w in state_of(colony)["workers"]}[wid]
    assert record["status"] == "lost", record
    assert "claude-sonnet-4-5" in record["fail_reason"]
    assert [o["id"] for o in out["orphans"]] == [wid]
