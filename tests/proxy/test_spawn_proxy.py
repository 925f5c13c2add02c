"""``aether spawn`` against the real LiteLLM proxy (docs/spawn.md)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.helpers import assert_clean_error, snapshot
from tests.proxy.conftest import (
    CASTE_MODELS,
    MASTER_KEY,
    RunningProxy,
    free_port,
    proxy_env,
    write_profile,
)

#: every test here starts (or uses) the real LiteLLM proxy: `-m "not proxy"` leaves them out
pytestmark = pytest.mark.proxy


def spawn_json(
    run_aether: RunAether, *args: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    result = run_aether("spawn", *args, "--json", env=env or proxy_env())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    data: dict[str, Any] = json.loads(lines[0])
    return data


def workers_of(project: Path) -> list[dict[str, Any]]:
    state = json.loads((project / ".aether" / "data" / "COLONY_STATE.json").read_text())
    workers: list[dict[str, Any]] = state["workers"]
    return workers


def test_each_caste_lands_on_its_model_proven_by_the_probe_header(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    write_profile(colony, litellm_proxy.url)
    for caste, model in CASTE_MODELS.items():
        w = spawn_json(run_aether, "--caste", caste)
        assert w["model"] == model and w["verified"] is True
        assert w["verification"]["method"] == "probe"
        assert w["verification"]["deployment"] == f"openai/{model}"
        assert w["verification"]["deployment_matches"] is True
        assert w["id"].startswith(f"w-{caste}-")
    # a second spawn in the same session: cached, no new probe, still verified
    again = spawn_json(run_aether, "--caste", "Route_Setter")
    assert again["caste"] == "route-setter" and again["model"] == "mock-route-setter"
    assert again["verification"]["method"] == "models-list"
    assert again["verification"]["session_cached"] is True
    assert len(workers_of(colony)) == len(CASTE_MODELS) + 1


def test_wrong_key_records_nothing(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    write_profile(colony, litellm_proxy.url)
    before = snapshot(colony / ".aether" / "data")
    result = run_aether("spawn", "--caste", "builder", env=proxy_env("sk-wrong-key-0000"))
    assert_clean_error(result, 52)
    assert "key rejected" in result.stderr and "sk-wrong" not in result.stderr
    assert snapshot(colony / ".aether" / "data") == before
    missing = run_aether("spawn", "--caste", "builder", env=proxy_env(None))
    assert_clean_error(missing, 51)
    assert snapshot(colony / ".aether" / "data") == before


def test_stopped_proxy_records_nothing(colony: Path, run_aether: RunAether) -> None:
    write_profile(colony, f"http://127.0.0.1:{free_port()}")
    before = snapshot(colony / ".aether" / "data")
    result = run_aether("spawn", "--caste", "builder", env=proxy_env())
    assert_clean_error(result, 50)
    assert "connection refused" in result.stderr
    assert snapshot(colony / ".aether" / "data") == before
    log = (colony / ".aether" / "activity.log").read_text()
    assert '"proxy_failure"' in log and "connection-refused" in log


def test_model_not_served_falls_back_to_the_next(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    write_profile(
        colony, litellm_proxy.url, castes={"builder": ("ghost", ["mock-spare-a", "mock-spare-b"])}
    )
    w = spawn_json(run_aether, "--caste", "builder")
    assert w["model"] == "mock-spare-a" and w["model_source"] == "fallback"
    assert w["routing"]["decision_model"] == "ghost"
    assert [(a["model"], a["outcome"]) for a in w["attempts"]] == [
        ("ghost", "failed"),
        ("mock-spare-a", "ok"),
    ]
    assert "not served" in w["attempts"][0]["error"]
    log = (colony / ".aether" / "activity.log").read_text()
    assert '"fallback"' in log


def test_env_override_replaces_the_chain(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    write_profile(colony, litellm_proxy.url)
    w = spawn_json(
        run_aether,
        "--caste",
        "builder",
        env=proxy_env(AETHER_MODEL_1="ghost", AETHER_MODEL_2="mock-spare-b"),
    )
    assert w["model"] == "mock-spare-b" and w["routing"]["chain_source"] == "environment"
    bad = run_aether("spawn", "--caste", "builder", env=proxy_env(AETHER_MODEL_2="mock-spare-b"))
    assert_clean_error(bad, 46)
    bad = run_aether("spawn", "--caste", "builder", env=proxy_env(AETHER_MODEL_1="nope"))
    assert_clean_error(bad, 46)


def test_all_fail_gives_the_per_model_table(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    write_profile(
        colony,
        litellm_proxy.url,
        attempt_s=0.5,
        castes={"builder": ("broken", ["ratelimited", "slow", "hang", "ctxerr", "ghost"])},
    )
    before = snapshot(colony / ".aether" / "data")
    result = run_aether("spawn", "--caste", "builder", "--json", env=proxy_env())
    assert result.returncode == 55, result.stderr
    error = json.loads(result.stdout)["error"]
    rows = {r["model"]: r for r in error["attempts"]}
    assert list(rows) == ["broken", "ratelimited", "slow", "hang", "ctxerr", "ghost"]
    assert rows["broken"]["status"] == 500 and not rows["broken"]["timed_out"]
    assert rows["ratelimited"]["status"] == 429
    assert rows["slow"]["status"] == 408 and rows["slow"]["timed_out"]
    assert rows["hang"]["status"] is None and rows["hang"]["timed_out"]
    assert rows["ctxerr"]["status"] == 400 and not rows["ctxerr"]["timed_out"]
    assert "not served" in rows["ghost"]["error"]
    data_after = snapshot(colony / ".aether" / "data")
    data_after.pop("breaker.json", None)
    data_after.pop("COLONY_STATE.json.lock.holder", None)  # the breaker took the lock
    before.pop("COLONY_STATE.json.lock.holder", None)
    assert data_after == before  # nothing recorded as spawned (only the breaker counted)
    human = run_aether("spawn", "--caste", "builder", env=proxy_env())
    assert human.returncode == 55 and human.stdout == ""
    table = human.stderr.splitlines()
    assert table[0].split() == ["model", "outcome", "status", "timed", "out", "error"]
    by_model = {line.split()[0]: line.split() for line in table[1:7]}
    assert list(by_model) == ["broken", "ratelimited", "slow", "hang", "ctxerr", "ghost"]
    assert by_model["broken"][1:4] == ["failed", "500", "no"]
    assert by_model["slow"][1:4] == ["failed", "408", "yes"]
    assert by_model["hang"][1:4] == ["failed", "-", "yes"]
    assert by_model["ctxerr"][1:4] == ["failed", "400", "no"]
    assert table[-1].startswith("aether: error: every model in the fallback chain failed")
    assert "Traceback" not in human.stderr
    breaker = json.loads((colony / ".aether" / "data" / "breaker.json").read_text())["models"]
    assert "ctxerr" not in breaker  # a 400 is the request's fault, not the model's
    assert breaker["broken"]["consecutive_failures"] == 2


def test_three_failures_open_the_breaker_across_processes(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    write_profile(
        colony, litellm_proxy.url, castes={"builder": ("broken", ["mock-spare-a"])}, cooldown_s=60
    )
    for n in range(3):
        w = spawn_json(run_aether, "--caste", "builder")
        assert w["model"] == "mock-spare-a"
        assert w["attempts"][0]["status"] == 500, n
    status = json.loads(run_aether("breaker", "status", "--json", env=proxy_env()).stdout)
    assert [(r["model"], r["state"]) for r in status["models"]] == [("broken", "open")]
    # open: skipped without a request, even though mock-spare-a keeps succeeding
    w = spawn_json(run_aether, "--caste", "builder")
    assert w["attempts"][0]["outcome"] == "skipped" and w["attempts"][0]["status"] is None
    assert "breaker open" in w["attempts"][0]["error"]
    reset = run_aether("breaker", "reset", "broken", "--json", env=proxy_env())
    assert json.loads(reset.stdout)["had_state"] is True
    w = spawn_json(run_aether, "--caste", "builder")
    assert w["attempts"][0]["status"] == 500  # tried again after the reset


def test_half_open_after_cooldown_allows_one_probe(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    write_profile(
        colony,
        litellm_proxy.url,
        failures=1,
        cooldown_s=1,
        castes={"builder": ("broken", ["mock-spare-a"])},
    )
    # the breaker reads aether's clock: AETHER_NOW steps past the cooldown, no sleeping
    opened, cooled = (proxy_env(AETHER_NOW=f"2031-05-01T10:00:0{s}Z") for s in (0, 2))
    w = spawn_json(run_aether, "--caste", "builder", env=opened)
    assert w["attempts"][0]["status"] == 500
    w = spawn_json(run_aether, "--caste", "builder", env=opened)
    assert w["attempts"][0]["outcome"] == "skipped"
    w = spawn_json(run_aether, "--caste", "builder", env=cooled)
    assert w["attempts"][0]["status"] == 500  # the one probe, failed: open again
    w = spawn_json(run_aether, "--caste", "builder", env=cooled)
    assert w["attempts"][0]["outcome"] == "skipped"


def test_proxy_cooldown_429_is_not_a_new_breaker_failure(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    write_profile(
        colony, litellm_proxy.url, failures=5, castes={"builder": ("cooling", ["mock-spare-a"])}
    )
    errors = []
    for _ in range(4):
        errors.append(spawn_json(run_aether, "--caste", "builder")["attempts"][0]["error"])
    assert any("cooldown" in e for e in errors), errors
    breaker = json.loads((colony / ".aether" / "data" / "breaker.json").read_text())["models"]
    counted = sum(1 for e in errors if "cooldown" not in e)
    assert breaker["cooling"]["consecutive_failures"] == counted < 4


def test_open_proxy_is_flagged_and_a_stopped_proxy_fails_even_when_cached(
    colony: Path, run_aether: RunAether, open_litellm_proxy: RunningProxy
) -> None:
    write_profile(colony, open_litellm_proxy.url)
    result = run_aether("spawn", "--caste", "scout", "--json", env=proxy_env("sk-anything-1"))
    assert result.returncode == 0, result.stderr
    w = json.loads(result.stdout)
    assert w["verification"]["open_proxy"] is True
    assert "OPEN" in result.stderr
    state = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())
    assert any(e["type"] == "open_proxy" for e in state["events"])
    open_litellm_proxy.stop()
    before = snapshot(colony / ".aether" / "data")
    result = run_aether("spawn", "--caste", "scout", env=proxy_env("sk-anything-1"))
    assert_clean_error(result, 50)
    assert snapshot(colony / ".aether" / "data") == before


def test_exec_passes_the_environment(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy, tmp_path: Path
) -> None:
    write_profile(colony, litellm_proxy.url)
    script = tmp_path / "worker.sh"
    script.write_text(
        '#!/bin/sh\necho "model=$ANTHROPIC_MODEL id=$AETHER_WORKER_ID '
        "base=$ANTHROPIC_BASE_URL tok=${#ANTHROPIC_AUTH_TOKEN} "
        'small=${ANTHROPIC_SMALL_FAST_MODEL:-unset}"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    env = proxy_env(ANTHROPIC_SMALL_FAST_MODEL="some-other-model", ANTHROPIC_MODEL="stale")
    result = run_aether("spawn", "--caste", "watcher", "--exec", "--", str(script), env=env)
    assert result.returncode == 0, result.stderr
    workers = workers_of(colony)
    w = workers[-1]
    assert (
        f"model=mock-watcher id={w['id']} base={litellm_proxy.url} "
        f"tok={len(MASTER_KEY)} small=unset"
    ) in result.stdout
    assert w["status"] == "completed" and w["exit_code"] == 0
    assert w["started_at"] and w["duration_s"] is not None and w["latency_ms"] is not None
    failing = tmp_path / "fail.sh"
    failing.write_text("#!/bin/sh\necho out; exit 3\n")
    failing.chmod(0o755)
    result = run_aether(
        "spawn", "--caste", "watcher", "--json", "--exec", "--", str(failing), env=env
    )
    assert result.returncode == 3
    payload = json.loads(result.stdout)  # the child's stdout went to stderr
    assert payload["status"] == "failed" and payload["exit_code"] == 3
    assert "out" in result.stderr


def test_print_env_is_shell_evaluable_and_never_prints_the_key(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    write_profile(colony, litellm_proxy.url)
    result = run_aether("spawn", "--caste", "oracle", "--print-env", env=proxy_env())
    assert result.returncode == 0, result.stderr
    assert MASTER_KEY not in result.stdout
    assert 'export ANTHROPIC_AUTH_TOKEN="$LITELLM_MASTER_KEY"' in result.stdout
    import subprocess

    shell = subprocess.run(
        [
            "sh",
            "-c",
            result.stdout + '\necho "$ANTHROPIC_MODEL|$AETHER_CASTE|$ANTHROPIC_AUTH_TOKEN"',
        ],
        capture_output=True,
        text=True,
        env={"LITELLM_MASTER_KEY": MASTER_KEY, "PATH": "/bin"},
    )
    assert shell.stdout.strip() == f"mock-oracle|oracle|{MASTER_KEY}"


def test_a_known_fake_key_appears_nowhere(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    fake = "sk-aether-FAKE-key-4242-do-not-leak"
    write_profile(colony, litellm_proxy.url)
    outputs = []
    # rejected key: the error path
    outputs.append(run_aether("spawn", "--caste", "builder", "--json", env=proxy_env(fake)))
    outputs.append(run_aether("spawn", "--caste", "builder", env=proxy_env(fake)))
    # accepted spawns with the fake key lying around in other variables
    env = proxy_env(MY_OTHER_TOKEN=fake, ANTHROPIC_API_KEY=fake)
    for args in (["--json"], ["--print-env"], []):
        outputs.append(run_aether("spawn", "--caste", "builder", *args, env=env))
    outputs.append(
        run_aether(
            "spawn", "--caste", "builder", "--exec", "--", "sh", "-c", "echo worker ran", env=env
        )
    )
    outputs.append(
        run_aether("spawn", "--caste", "builder", "--json", "--exec", "--", "false", env=env)
    )
    # a failing chain: the per-model table (human) and the JSON error
    write_profile(colony, litellm_proxy.url, castes={"builder": ("broken", ["ghost"])})
    outputs.append(run_aether("spawn", "--caste", "builder", env=env))
    outputs.append(run_aether("spawn", "--caste", "builder", "--json", env=env))
    assert [o.returncode for o in outputs[-2:]] == [55, 55]
    write_profile(colony, litellm_proxy.url)
    wid = workers_of(colony)[-1]["id"]
    outputs.append(
        run_aether("worker", "report", wid, "--model-used", "mock-builder", "--json", env=env)
    )
    outputs.append(run_aether("workers", "--json", env=env))
    outputs.append(run_aether("status", "--json", env=env))
    outputs.append(run_aether("breaker", "status", env=env))
    # the session's end and its copies: HANDOFF.md, an archive chamber
    outputs.append(run_aether("pause", env=env))
    assert (colony / ".aether" / "HANDOFF.md").is_file(), outputs[-1].stderr
    outputs.append(run_aether("archive", "--json", env=env))
    assert outputs[-1].returncode == 0, outputs[-1].stderr
    assert any((colony / ".aether" / "chambers").rglob("*"))
    for out in outputs:
        assert fake not in out.stdout + out.stderr
        assert MASTER_KEY not in out.stdout + out.stderr
    for path in (colony / ".aether").rglob("*"):
        if path.is_file():
            assert fake.encode() not in path.read_bytes(), path
    assert MASTER_KEY.encode() not in b"".join(
        p.read_bytes() for p in (colony / ".aether").rglob("*") if p.is_file()
    )


def test_probe_never_still_fails_closed_on_the_model_list(
    colony: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    write_profile(
        colony, litellm_proxy.url, probe="never", castes={"builder": ("ghost", ["mock-spare-b"])}
    )
    w = spawn_json(run_aether, "--caste", "builder")
    assert w["model"] == "mock-spare-b" and w["verification"]["method"] == "models-list"
