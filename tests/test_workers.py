"""Workers reporting back: report, heartbeat, done, fail, workers, costs; the timeout rule."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from aether.ops.spawn.worker_exec import CEILING_S, DEFAULT_TIMEOUT_S, FLOOR_S, default_exec_timeout
from tests.conftest import RunAether
from tests.helpers import AETHER, assert_clean_error, clean_env


def spawn(run_aether: RunAether, caste: str = "builder") -> str:
    r = run_aether("spawn", "--caste", caste, "--no-proxy", "--json")
    assert r.returncode == 0, r.stderr
    wid: str = json.loads(r.stdout)["id"]
    return wid


def test_lifecycle_and_conflicts(colony: Path, run_aether: RunAether) -> None:
    wid = spawn(run_aether)
    hb = json.loads(run_aether("worker", "heartbeat", wid, "--json").stdout)
    assert hb["status"] == "running" and hb["started_at"] and hb["heartbeat_at"]
    done = json.loads(run_aether("worker", "done", wid, "--json").stdout)
    assert done["status"] == "completed" and done["finished_at"]
    assert_clean_error(run_aether("worker", "heartbeat", wid), 57)
    assert_clean_error(run_aether("worker", "fail", wid, "--reason", "x"), 57)
    assert_clean_error(run_aether("worker", "done", "w-nope"), 56)
    other = spawn(run_aether)
    failed = json.loads(
        run_aether("worker", "fail", other, "--reason", "tests broke", "--json").stdout
    )
    assert failed["status"] == "failed" and failed["fail_reason"] == "tests broke"


def test_report_flags_a_model_mismatch(colony: Path, run_aether: RunAether) -> None:
    wid = spawn(run_aether)
    ok = run_aether(
        "worker",
        "report",
        wid,
        "--model-used",
        "claude-sonnet-4-5",
        "--tokens-in",
        "100",
        "--tokens-out",
        "20",
        "--cost",
        "0.5",
        "--json",
    )
    assert json.loads(ok.stdout)["model_mismatch"] is False
    bad = run_aether("worker", "report", wid, "--model-used", "gpt-4o", "--json")
    data = json.loads(bad.stdout)
    assert data["model_mismatch"] is True and "routing did not hold" in bad.stderr
    status = json.loads(run_aether("status", "--json").stdout)
    assert status["workers"]["model_mismatches"] == 1
    assert any(e["type"] == "model_mismatch" for e in status["events"])
    log = (colony / ".aether" / "activity.log").read_text()
    assert "model_mismatch" in log and "0.5" not in log and '"tokens' not in log


def test_costs_aggregate_per_model_and_caste(colony: Path, run_aether: RunAether) -> None:
    a, b, c = spawn(run_aether), spawn(run_aether), spawn(run_aether, "scout")
    run_aether(
        "worker",
        "report",
        a,
        "--model-used",
        "claude-sonnet-4-5",
        "--tokens-in",
        "10",
        "--tokens-out",
        "1",
        "--cost",
        "0.25",
    )
    run_aether(
        "worker",
        "report",
        b,
        "--model-used",
        "claude-sonnet-4-5",
        "--tokens-in",
        "5",
        "--cost",
        "0.5",
    )
    run_aether("worker", "report", c, "--model-used", "claude-haiku-4-5", "--cost", "0.1")
    costs = json.loads(run_aether("costs", "--json").stdout)
    sonnet = costs["by_model"]["claude-sonnet-4-5"]
    assert (sonnet["tokens_in"], sonnet["tokens_out"], sonnet["cost_usd"]) == (15, 1, 0.75)
    assert costs["by_caste"]["scout"]["cost_usd"] == 0.1
    assert costs["total"]["workers"] == 3
    human = run_aether("costs")
    assert human.returncode == 0 and "per caste" in human.stdout


def test_workers_table_and_json(colony: Path, run_aether: RunAether) -> None:
    wid = spawn(run_aether)
    listed = json.loads(run_aether("workers", "--json").stdout)
    assert [w["id"] for w in listed["workers"]] == [wid]
    assert run_aether("workers").returncode == 0


def test_exec_no_proxy_records_exit_and_latency_history(
    colony: Path, run_aether: RunAether
) -> None:
    r = run_aether(
        "spawn",
        "--caste",
        "scout",
        "--no-proxy",
        "--exec",
        "--",
        "sh",
        "-c",
        'echo "$AETHER_WORKER_ID $ANTHROPIC_MODEL"',
        env=clean_env(),
    )
    assert r.returncode == 0, r.stderr
    state = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())
    w = state["workers"][-1]
    assert f"{w['id']} claude-haiku-4-5" in r.stdout
    assert w["status"] == "completed" and w["exit_code"] == 0
    assert state["latency_history"]["claude-haiku-4-5"][-1]["ok"] is True
    t = run_aether(
        "spawn", "--caste", "scout", "--no-proxy", "--timeout", "1", "--exec", "--", "sleep", "10"
    )
    assert t.returncode == 124
    state = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())
    assert state["workers"][-1]["fail_reason"] == "timed out after 1 s"
    missing = run_aether(
        "spawn", "--caste", "scout", "--no-proxy", "--exec", "--", "/no/such/program"
    )
    assert missing.returncode == 58 and "Traceback" not in missing.stderr
    assert "aether: error: could not start" in missing.stderr  # after the UNVERIFIED warning


def test_default_exec_timeout_rule() -> None:
    assert default_exec_timeout([]) == DEFAULT_TIMEOUT_S
    few = [{"duration_s": 10, "ok": True}] * 4
    assert default_exec_timeout(few) == DEFAULT_TIMEOUT_S
    runs = [{"duration_s": d, "ok": True} for d in range(100, 1100, 100)]  # p90 = 900
    assert default_exec_timeout(runs) == 2700
    assert default_exec_timeout([{"duration_s": 1, "ok": True}] * 5) == FLOOR_S
    assert default_exec_timeout([{"duration_s": 99999, "ok": True}] * 5) == CEILING_S
    assert default_exec_timeout([{"duration_s": 5000, "ok": False}] * 9) == DEFAULT_TIMEOUT_S


def test_exec_environment_is_exactly_as_documented(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    dump = tmp_path / "env.json"
    env = clean_env(
        USER_SETTING="kept",
        ANTHROPIC_SMALL_FAST_MODEL="other",
        CLAUDE_CODE_SUBAGENT_MODEL="other",
        AETHER_MODEL_1="claude-haiku-4-5",
        PYDANTIC_DISABLE_PLUGINS="user-choice",
    )
    r = run_aether(
        "spawn",
        "--caste",
        "builder",
        "--no-proxy",
        "--exec",
        "--",
        sys.executable,
        "-c",
        f"import json, os; json.dump(dict(os.environ), open({str(dump)!r}, 'w'))",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(dump.read_text())
    w = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())["workers"][-1]
    assert {
        k: got[k]
        for k in (
            "ANTHROPIC_MODEL",
            "AETHER_MODEL",
            "AETHER_WORKER_ID",
            "AETHER_CASTE",
            "AETHER_PROFILE_HASH",
            "AETHER_VERIFIED",
        )
    } == {
        "ANTHROPIC_MODEL": w["model"],
        "AETHER_MODEL": w["model"],
        "AETHER_WORKER_ID": w["id"],
        "AETHER_CASTE": "builder",
        "AETHER_PROFILE_HASH": w["profile_hash"],
        "AETHER_VERIFIED": "0",
    }
    assert got["USER_SETTING"] == "kept"
    # aether's start-up tricks never reach the worker: the user's own setting passes unchanged
    assert got["PYDANTIC_DISABLE_PLUGINS"] == "user-choice"
    # variables that could redirect the model are dropped
    for gone in ("ANTHROPIC_SMALL_FAST_MODEL", "CLAUDE_CODE_SUBAGENT_MODEL", "AETHER_MODEL_1"):
        assert gone not in got, gone
    # what aether adds is exactly the documented set
    added = set(got) - set(env)
    assert added == {
        "ANTHROPIC_MODEL",
        "AETHER_MODEL",
        "AETHER_WORKER_ID",
        "AETHER_CASTE",
        "AETHER_PROFILE_HASH",
        "AETHER_VERIFIED",
    }, added


def test_interrupting_exec_stops_the_worker_and_records_it(colony: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"echo $$ > {pidfile}; exec sleep 60"
    proc = subprocess.Popen(
        [AETHER, "spawn", "--caste", "scout", "--no-proxy", "--exec", "--", "sh", "-c", script],
        cwd=colony,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    child = int(pidfile.read_text())
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    with pytest.raises(ProcessLookupError):  # the worker did not outlive aether
        for _ in range(100):
            os.kill(child, 0)
            time.sleep(0.05)
    state = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())
    w = state["workers"][-1]
    assert w["status"] == "failed" and "interrupted (SIGINT)" in w["fail_reason"]
    assert "claude-haiku-4-5" not in state["latency_history"]  # says nothing about the model


@pytest.mark.parametrize("columns", [80, 120])
def test_worker_ids_are_never_cut_on_a_narrow_terminal(
    colony: Path, run_aether: RunAether, columns: int
) -> None:
    """Issue 12: `aether workers` showed `w-archi…` at 80 and 120 columns, an id nobody can
    copy into `worker report` or `respawn`."""
    from tests.helpers import run_on_terminal

    ids = [spawn(run_aether, "archaeologist") for _ in range(2)]
    out = run_on_terminal(["workers"], colony, clean_env(COLUMNS=str(columns), TERM="dumb"))
    for wid in ids:
        assert wid in out, out


def test_costs_add_up_one_model_whatever_name_it_was_reported_under(
    colony: Path, run_aether: RunAether
) -> None:
    """Issue 12: `opus`, `OPUS` and `claude-opus-4-5` were three rows of `aether costs`."""
    for reported in ("opus", "OPUS", "claude-opus-4-5", "anthropic/claude-opus-4-5-20251101"):
        r = run_aether(
            "spawn", "--caste", "builder", "--model", "claude-opus-4-5", "--no-proxy", "--json"
        )
        wid = json.loads(r.stdout)["id"]
        reported_ok = run_aether(
            "worker", "report", wid, "--model-used", reported, "--tokens-in", "10", "--json"
        )
        assert json.loads(reported_ok.stdout)["model_mismatch"] is False, reported
    costs = json.loads(run_aether("costs", "--json").stdout)["by_model"]
    assert list(costs) == ["claude-opus-4-5"]
    assert costs["claude-opus-4-5"]["workers"] == 4
    assert costs["claude-opus-4-5"]["tokens_in"] == 40


def test_an_interruption_while_the_worker_starts_still_stops_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The signal handlers came only once aether waited on the worker: a Ctrl-C in the moment
    between its start and the wait (seen in a CI run under load) left the worker running, in
    its own session, while aether exited."""
    from aether.cli import child

    started = child._start_pumps
    pidfile = tmp_path / "child.pid"

    def interrupted_while_starting(*args: Any, **kwargs: Any) -> Any:
        pumps = started(*args, **kwargs)
        deadline = time.monotonic() + 20
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)  # before aether waits on it
        return pumps

    monkeypatch.setattr(child, "_start_pumps", interrupted_while_starting)
    script = f"echo $$ > {pidfile}; exec sleep 60"
    outcome = child.run_child(
        ["sh", "-c", script], dict(os.environ), 30, keep_tail=False, stdout_to_stderr=False
    )
    assert outcome.interrupted == signal.SIGINT
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(int(pidfile.read_text()), 0)
            time.sleep(0.05)
