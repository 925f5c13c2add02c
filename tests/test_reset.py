"""``aether reset``: archive first, clear working state, keep user knowledge."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import RunAether
from tests.helpers import assert_clean_error, data_snapshot, inject_workers, state_of, worker


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, (result.returncode, result.stderr, result.stdout)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _teach(run_aether: RunAether) -> None:
    for kind, text in (("learning", "L one"), ("decision", "D one"), ("instinct", "I one")):
        assert run_aether("memory", "add", kind, text).returncode == 0


def test_reset_without_terminal_or_yes_is_refused(run_aether: RunAether, colony: Path) -> None:
    before = data_snapshot(colony)
    assert_clean_error(run_aether("reset"), 65)
    assert_clean_error(run_aether("archive", "--reset"), 65)
    assert data_snapshot(colony) == before


def test_dry_run_changes_nothing(run_aether: RunAether, colony: Path) -> None:
    _teach(run_aether)
    inject_workers(colony, [worker("w-1", "builder", "claude-sonnet-4-5")])
    before = data_snapshot(colony)
    out = as_json(run_aether("reset", "--dry-run", "--json"))
    assert out["dry_run"] is True and out["chamber"] is None
    assert {c["what"] for c in out["cleared"]} >= {"workers", "plan", "session", "events"}
    assert {k["what"] for k in out["kept"]} >= {"memory", "profile", "chambers"}
    assert out["memory_items"] == 3
    assert data_snapshot(colony) == before
    assert "Would clear" in run_aether("reset", "--dry-run").stdout


def test_reset_archives_first_and_keeps_memory(run_aether: RunAether, colony: Path) -> None:
    _teach(run_aether)
    inject_workers(colony, [worker("w-1", "builder", "claude-sonnet-4-5", "completed")])
    (colony / ".aether/data/breaker.json").write_text("{}\n")
    (colony / ".aether/data/events.archive.jsonl").write_text("{}\n")
    memory_before = {p.name: p.read_bytes() for p in (colony / ".aether/memory").iterdir()}
    old = state_of(colony)
    out = as_json(run_aether("reset", "--yes", "--json"))
    chamber = colony / ".aether/chambers" / out["chamber"]["name"]
    assert json.loads((chamber / "data/COLONY_STATE.json").read_text())["workers"][0]["id"] == "w-1"
    assert (chamber / "data/breaker.json").exists()
    assert as_json(run_aether("archive", "verify", out["chamber"]["name"], "--json"))["ok"]
    new = state_of(colony)
    assert new["colony_id"] == old["colony_id"] and new["goal"] == old["goal"]
    assert new["workers"] == [] and new["plan"]["phases"] == []
    assert new["session"]["id"] != old["session"]["id"]
    assert old["session"]["id"] in new["session"]["previous_ids"]
    assert [e["type"] for e in new["events"]] == ["colony.reset"]
    assert not (colony / ".aether/data/breaker.json").exists()
    assert not (colony / ".aether/data/events.archive.jsonl").exists()
    assert {p.name: p.read_bytes() for p in (colony / ".aether/memory").iterdir()} == memory_before
    assert (colony / ".aether/model-profiles.yaml").exists()


def test_reset_export(run_aether: RunAether, colony: Path, tmp_path: Path) -> None:
    _teach(run_aether)
    target = tmp_path / "knowledge.json"
    out = as_json(run_aether("reset", "--yes", "--export", str(target), "--json"))
    assert out["export"] == str(target)
    assert len(json.loads(target.read_text())["items"]) == 3
    # an existing export file stops the reset before anything happens
    before = data_snapshot(colony)
    assert_clean_error(run_aether("reset", "--yes", "--export", str(target)), 21)
    assert data_snapshot(colony) == before


def test_forget_memory_needs_the_colony_typed_back(run_aether: RunAether, colony: Path) -> None:
    _teach(run_aether)
    before = data_snapshot(colony)
    assert_clean_error(run_aether("reset", "--yes", "--forget-memory"), 65)
    assert_clean_error(
        run_aether("reset", "--yes", "--forget-memory", "--confirm-colony", "wrong"), 65
    )
    assert data_snapshot(colony) == before
    colony_id = state_of(colony)["colony_id"]
    out = as_json(
        run_aether("reset", "--yes", "--forget-memory", "--confirm-colony", colony_id, "--json")
    )
    assert out["memory_forgotten"] is True
    assert as_json(run_aether("memory", "list", "--json"))["items"] == []
    # ... and it is all in the chamber, which restore merges back
    chamber = out["chamber"]["name"]
    assert as_json(run_aether("archive", "restore", chamber, "--json"))["memory_added"] == 3
    assert len(as_json(run_aether("memory", "list", "--json"))["items"]) == 3


def test_archive_reset_resets_only_after_the_archive(run_aether: RunAether, colony: Path) -> None:
    _teach(run_aether)
    inject_workers(colony, [worker("w-1", "builder", "claude-sonnet-4-5")])
    out = as_json(run_aether("archive", "--reset", "--name", "milestone", "--yes", "--json"))
    assert out["name"].startswith("milestone-") and out["reset"]["chamber"]["name"] == out["name"]
    assert state_of(colony)["workers"] == []
    assert len(list((colony / ".aether/chambers").iterdir())) == 1


def test_reset_refuses_while_an_exec_worker_runs_and_the_worker_keeps_its_exit_code(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """Issue 12: resetting under a running `spawn --exec` made that spawn fail with exit 56
    and lose the child's exit code."""
    import time

    from tests.helpers import AETHER, clean_env

    go = tmp_path / "go"
    script = f"while [ ! -e {go} ]; do sleep 0.05; done; exit 3"
    worker = subprocess.Popen(
        [AETHER, "spawn", "--caste", "scout", "--no-proxy", "--exec", "--", "sh", "-c", script],
        cwd=colony,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    state_file = colony / ".aether" / "data" / "COLONY_STATE.json"
    deadline = time.monotonic() + 30
    while '"running"' not in state_file.read_text():
        assert time.monotonic() < deadline and worker.poll() is None
        time.sleep(0.05)
    before = state_file.read_bytes()
    refused = run_aether("reset", "--yes")
    assert_clean_error(refused, 61)
    assert "may still be running" in refused.stderr and "--force" in refused.stderr
    assert state_file.read_bytes() == before  # nothing changed, nothing archived
    assert run_aether("reset", "--yes", "--force").returncode == 0
    go.touch()
    _out, err = worker.communicate(timeout=30)
    assert worker.returncode == 3, err  # the child's own exit code, not 56
    assert "no longer in this colony" in err and "Traceback" not in err
    log = (colony / ".aether" / "activity.log").read_text().splitlines()
    finished = [json.loads(line) for line in log if '"worker_exec_finished"' in line]
    assert finished[-1]["exit_code"] == 3 and finished[-1]["recorded"] is False
