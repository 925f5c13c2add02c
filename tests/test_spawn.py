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
from tests.conftest import AETHER, RunAether, assert_clean_error, clean_env, snapshot


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
    assert_clean_error(run_aether("spawn", "--caste", "builder", "--model", "gpt-x",
                                  "--no-proxy"), 43)
    assert snapshot(colony / ".aether" / "data") == before


def test_twenty_concurrent_spawns_are_all_recorded(colony: Path) -> None:
    env = clean_env(AETHER_LOCK_TIMEOUT="60")
    procs = [subprocess.Popen([AETHER, "spawn", "--caste", "scout", "--no-proxy", "--json"],
                              cwd=colony, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(20)]
    ids = set()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        ids.add(json.loads(out)["id"])
    state = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())
    assert len(ids) == 20
    assert {w["id"] for w in state["workers"]} == ids


def test_usage_errors(colony: Path, run_aether: RunAether) -> None:
    r = run_aether("spawn", "--caste", "builder", "--no-proxy", "--print-env", "--exec", "--",
                   "true")
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
    env = {"AETHER_MODEL_1": "claude-haiku-4-5", "AETHER_MODEL_2": "claude-opus-4-5",
           "AETHER_MODEL_3": ""}
    over = candidates(table, decision, env=env)  # type: ignore[arg-type]
    assert over.models == ("claude-haiku-4-5", "claude-opus-4-5") and over.source == "environment"
    assert env_override(table, {}) is None  # type: ignore[arg-type]
    for bad in ({"AETHER_MODEL_2": "claude-opus-4-5"}, {"AETHER_MODEL_1": "no such"},
                {"AETHER_MODEL_1": "unknown-model"}, {"AETHER_MODEL_9": "claude-opus-4-5"}):
        with pytest.raises(BadModelOverride):
            env_override(table, bad)  # type: ignore[arg-type]


def test_bad_override_exits_46_before_anything(colony: Path, run_aether: RunAether) -> None:
    before = snapshot(colony / ".aether" / "data")
    r = run_aether("spawn", "--caste", "builder", "--no-proxy",
                   env=clean_env(AETHER_MODEL_1="$(rm -rf /)"))
    assert_clean_error(r, 46)
    assert snapshot(colony / ".aether" / "data") == before
