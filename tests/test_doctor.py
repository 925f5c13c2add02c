"""``aether doctor``: read-only health report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunAether
from tests.helpers import assert_clean_error, data_snapshot, inject_workers, worker


def test_doctor_healthy_colony(run_aether: RunAether, colony: Path) -> None:
    inject_workers(colony, [worker("w-1", "builder", "claude-sonnet-4-5", "lost")])
    before = data_snapshot(colony)
    result = run_aether("doctor", "--no-proxy", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    checks = {c["check"]: c for c in out["checks"]}
    assert checks["state"]["level"] == "ok" and checks["state"]["bytes"] > 0
    assert checks["events"]["cap"] == 100
    assert checks["workers"]["by_status"] == {"lost": 1} and checks["workers"]["level"] == "warning"
    assert checks["lock"]["level"] == "ok"
    assert checks["temp files"]["level"] == "ok"
    assert checks["profile"]["level"] == "ok"
    assert checks["proxy"]["level"] == "skipped"
    assert data_snapshot(colony) == before
    assert "healthy" in run_aether("doctor", "--no-proxy").stdout


def test_doctor_reports_problems(run_aether: RunAether, colony: Path) -> None:
    (colony / ".aether/data/.COLONY_STATE.json.dead.aether-tmp").write_text("x")
    (colony / ".aether/model-profiles.yaml").write_text("castes: [broken\n")
    result = run_aether("doctor", "--json")
    assert result.returncode == 1
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["temp files"]["level"] == "warning"
    assert checks["profile"]["level"] == "fail"
    assert checks["proxy"]["level"] == "skipped"


def test_doctor_unreachable_proxy_is_a_problem_when_the_profile_routes_through_it(
    run_aether: RunAether, colony: Path
) -> None:
    """Issue 12: doctor said healthy with the proxy down while routing was on."""
    path = colony / ".aether/model-profiles.yaml"
    path.write_text(path.read_text().replace("http://127.0.0.1:4000", "http://127.0.0.1:9"))
    result = run_aether("doctor", "--json")
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["proxy"]["level"] == "fail" and checks["proxy"]["reachable"] is False
    assert result.returncode == 1
    path.write_text(path.read_text().replace("proxy:\n", "proxy:\n  standalone: true\n"))
    standalone = run_aether("doctor", "--json")
    assert standalone.returncode == 0, standalone.stdout  # no proxy in use: nothing to reach


def test_doctor_checks_memory(run_aether: RunAether, colony: Path) -> None:
    """Issue 12: doctor said healthy with .aether/memory/ deleted or a memory file corrupt."""
    assert run_aether("memory", "add", "learning", "keep it").returncode == 0
    healthy = json.loads(run_aether("doctor", "--no-proxy", "--json").stdout)
    memory = {c["check"]: c for c in healthy["checks"]}["memory"]
    assert memory["level"] == "ok" and memory["items"]["learning"] == 1
    (colony / ".aether/memory/learnings.json").write_text("{ not json")
    corrupt = run_aether("doctor", "--no-proxy", "--json")
    assert corrupt.returncode == 1
    assert {c["check"]: c for c in json.loads(corrupt.stdout)["checks"]}["memory"][
        "level"
    ] == "fail"
    import shutil

    shutil.rmtree(colony / ".aether/memory")
    gone = run_aether("doctor", "--no-proxy", "--json")
    assert gone.returncode == 1
    message = {c["check"]: c for c in json.loads(gone.stdout)["checks"]}["memory"]["message"]
    assert "missing" in message


def test_doctor_corrupt_state(run_aether: RunAether, colony: Path) -> None:
    (colony / ".aether/data/COLONY_STATE.json").write_text("{trunc")
    result = run_aether("doctor", "--no-proxy", "--json")
    assert result.returncode == 1
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["state"]["level"] == "fail"


def test_doctor_without_colony(run_aether: RunAether) -> None:
    assert_clean_error(run_aether("doctor"), 10)


def test_doctor_names_the_lock_holder_without_waiting(run_aether: RunAether, colony: Path) -> None:
    """The probe asks for the same flock the colony lock takes: a live holder is reported by
    pid and command, immediately; once it is gone the lock is free again."""
    from tests.helpers import clean_env
    from tests.lock_scripts import HOLDER, start_script

    holder, line = start_script(HOLDER, colony, clean_env())
    try:
        assert line == "locked"
        result = run_aether("doctor", "--no-proxy", "--json")
        assert result.returncode == 0, result.stderr
        lock = {c["check"]: c for c in json.loads(result.stdout)["checks"]}["lock"]
        assert lock["held"] is True and lock["level"] == "info"
        assert f"pid {holder.pid}" in lock["message"] and "test-holder" in lock["message"]
    finally:
        holder.kill()
        holder.wait()
    after = json.loads(run_aether("doctor", "--no-proxy", "--json").stdout)["checks"]
    lock = {c["check"]: c for c in after}["lock"]
    assert lock["held"] is False and lock["level"] == "ok"


def test_doctor_profile_check_agrees_with_profile_show(run_aether: RunAether, colony: Path) -> None:
    """doctor reads the profile through the cached loader spawn uses; cold or warm cache, it
    reports the hash and counts `profile show` reports."""
    shown = json.loads(run_aether("profile", "show", "--json").stdout)
    for cache in (colony / ".aether/cache").glob("*"):
        cache.unlink()
    for _cold_then_warm in range(2):
        checks = {
            c["check"]: c
            for c in json.loads(run_aether("doctor", "--no-proxy", "--json").stdout)["checks"]
        }
        assert shown["profile_hash"] in checks["profile"]["message"]
        assert checks["profile"]["models"] == len(shown["models"])
        assert checks["profile"]["castes"] == len(shown["castes"])
