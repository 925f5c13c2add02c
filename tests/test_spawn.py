"""``aether spawn --no-proxy`` and the pure parts of spawning (no proxy needed)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from aether.errors import BadModelOverride
from aether.routing.fallback import candidates, env_override
from aether.routing.loader import load_profile_file
from aether.routing.resolve import RouteRequest, resolve
from aether.workspace import Workspace
from tests.conftest import RunAether
from tests.helpers import AETHER, assert_clean_error, clean_env, snapshot


def test_no_proxy_is_loud_and_recorded_unverified(colony: Path, run_aether: RunAether) -> None:
    result = run_aether("spawn", "--caste", "Builder", "--no-proxy", "--json")
    assert result.returncode == 0, result.stderr
    w = json.loads(result.stdout)
    assert w["verified"] is False and w["verification"]["method"] == "none"
    assert w["caste"] == "builder" and w["status"] == "spawned" and w["id"].startswith("w-builder")
    assert "UNVERIFIED" in result.stderr
    status = json.loads(run_aether("status", "--json").stdout)
    assert status["workers"]["unverified_active"] == 1


def test_unknown_caste_and_model_record_nothing(colony: Path, run_aether: RunAether) -> None:
    before = snapshot(colony / ".aether" / "data")
    assert_clean_error(run_aether("spawn", "--caste", "nobody", "--no-proxy"), 44)
    assert_clean_error(
        run_aether("spawn", "--caste", "builder", "--model", "gpt-x", "--no-proxy"), 43
    )
    assert snapshot(colony / ".aether" / "data") == before


def test_twenty_concurrent_spawns_are_all_recorded(colony: Path) -> None:
    env = clean_env(AETHER_LOCK_TIMEOUT="60")
    procs = [
        subprocess.Popen(
            [AETHER, "spawn", "--caste", "scout", "--no-proxy", "--json"],
            cwd=colony,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    ids = set()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        ids.add(json.loads(out)["id"])
    state = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())
    assert len(ids) == 20
    assert {w["id"] for w in state["workers"]} == ids


def test_usage_errors(colony: Path, run_aether: RunAether) -> None:
    r = run_aether(
        "spawn", "--caste", "builder", "--no-proxy", "--print-env", "--exec", "--", "true"
    )
    assert r.returncode == 2
    r = run_aether("spawn", "--caste", "builder", "--no-proxy", "--exec")
    assert r.returncode == 2


def _profile(colony: Path) -> tuple[object, object]:
    ws = Workspace(colony)
    loaded = load_profile_file(ws.profile_file, ws.cache_dir)
    return loaded.table, resolve(loaded.table, RouteRequest(caste="builder"))


def test_fallback_chain_and_env_override(colony: Path) -> None:
    table, decision = _profile(colony)
    base = candidates(table, decision, env={})  # type: ignore[arg-type]
    assert base.source == "profile" and base.models[0] == "claude-sonnet-4-5"
    env = {
        "AETHER_MODEL_1": "claude-haiku-4-5",
        "AETHER_MODEL_2": "claude-opus-4-5",
        "AETHER_MODEL_3": "",
    }
    over = candidates(table, decision, env=env)  # type: ignore[arg-type]
    assert over.models == ("claude-haiku-4-5", "claude-opus-4-5") and over.source == "environment"
    assert env_override(table, {}) is None  # type: ignore[arg-type]
    for bad in (
        {"AETHER_MODEL_2": "claude-opus-4-5"},
        {"AETHER_MODEL_1": "no such"},
        {"AETHER_MODEL_1": "unknown-model"},
        {"AETHER_MODEL_9": "claude-opus-4-5"},
    ):
        with pytest.raises(BadModelOverride):
            env_override(table, bad)  # type: ignore[arg-type]


def test_bad_override_exits_46_before_anything(colony: Path, run_aether: RunAether) -> None:
    before = snapshot(colony / ".aether" / "data")
    r = run_aether(
        "spawn", "--caste", "builder", "--no-proxy", env=clean_env(AETHER_MODEL_1="$(rm -rf /)")
    )
    assert_clean_error(r, 46)
    assert snapshot(colony / ".aether" / "data") == before


def test_an_env_override_is_recorded_as_such_not_as_a_fallback(
    colony: Path, run_aether: RunAether
) -> None:
    r = run_aether(
        "spawn",
        "--caste",
        "builder",
        "--no-proxy",
        "--json",
        env=clean_env(AETHER_MODEL_1="claude-haiku-4-5", AETHER_MODEL_2="claude-opus-4-5"),
    )
    assert r.returncode == 0, r.stderr
    w = json.loads(r.stdout)
    assert w["model"] == "claude-haiku-4-5"
    # nothing failed: the profile's choice was replaced, not found unavailable
    assert w["model_source"] == "environment", w["model_reason"]
    assert "unavailable" not in w["model_reason"] and "AETHER_MODEL_n" in w["model_reason"]
    assert w["routing"]["candidates"] == ["claude-haiku-4-5", "claude-opus-4-5"]
    assert w["routing"]["decision_model"] == "claude-sonnet-4-5"
    log = [
        json.loads(line) for line in (colony / ".aether" / "activity.log").read_text().splitlines()
    ]
    decision = [e for e in log if e["event"] == "route_decision"][-1]
    assert decision["candidates"] == ["claude-haiku-4-5", "claude-opus-4-5"]


def test_json_error_on_every_path_and_print_env_excludes_json(
    colony: Path, run_aether: RunAether
) -> None:
    r = run_aether("spawn", "--caste", "builder", "--no-proxy", "--print-env", "--json")
    assert r.returncode == 2 and r.stdout == "" and "--print-env" in r.stderr
    # a spawn that fails before --exec runs anything still prints its one JSON error object
    before = snapshot(colony / ".aether" / "data")
    r = run_aether("spawn", "--caste", "nobody", "--no-proxy", "--json", "--exec", "--", "true")
    assert r.returncode == 44, r.stderr
    assert json.loads(r.stdout)["error"]["kind"] == "unknown_caste"
    r = run_aether("spawn", "--caste", "nobody", "--no-proxy", "--print-env")
    assert_clean_error(r, 44)
    assert r.stdout == ""
    assert snapshot(colony / ".aether" / "data") == before


def test_unverified_workers_show_in_status_and_handoff(colony: Path, run_aether: RunAether) -> None:
    assert run_aether("spawn", "--caste", "scout", "--no-proxy").returncode == 0
    status = run_aether("status")
    assert "without proxy verification" in status.stdout
    assert run_aether("pause").returncode == 0
    handoff = (colony / ".aether" / "HANDOFF.md").read_text()
    assert "not verified against the proxy" in handoff and "--no-proxy" in handoff
