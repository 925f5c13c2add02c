"""``aether spawn --exec`` with the REAL Codex CLI (``codex exec --json``) as the worker.

The pinned Codex binary runs headless through the real LiteLLM proxy to the scripted upstream's
Responses API (tests/proxy/responses.py). What the upstream received — which model each request
named, the tokens it answered — is the evidence the worker's record is checked against.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.proxy.codex import (
    EXEC_ARGS,
    codex_env,
    cx_profile,
    ensure_codex,
    write_agent,
    write_config,
)
from tests.proxy.conftest import MASTER_KEY, RunningProxy
from tests.proxy.responses import ResponsesScript, spawn_agent, wait_agent
from tests.proxy.upstream import Upstream

#: every test here starts (or uses) the real LiteLLM proxy: `-m "not proxy"` leaves them out
pytestmark = pytest.mark.proxy


@pytest.fixture
def cx_project(
    project: Path, run_aether: RunAether, litellm_proxy: RunningProxy, upstream: Upstream
) -> Path:
    assert run_aether("init", "Ship the frobnicator").returncode == 0
    (project / ".aether" / "model-profiles.yaml").write_text(cx_profile(litellm_proxy.url))
    upstream.responses.reset()
    return project


def codex_worker(
    project: Path,
    run_aether: RunAether,
    codex_home: Path,
    home: Path,
    *codex_args: str,
    caste: str = "builder",
) -> dict[str, Any]:
    """``aether spawn --caste CASTE --json --exec -- codex exec --json … ARGS``: the worker."""
    result = run_aether(
        "spawn",
        "--caste",
        caste,
        "--json",
        "--exec",
        "--",
        str(ensure_codex()),
        *EXEC_ARGS,
        *codex_args,
        env=codex_env(home, codex_home, MASTER_KEY),
        timeout=180,
    )
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    worker: dict[str, Any] = json.loads(result.stdout)
    return worker


def test_a_headless_codex_worker_is_recorded_with_the_model_the_upstream_saw_and_its_tokens(
    cx_project: Path,
    run_aether: RunAether,
    litellm_proxy: RunningProxy,
    upstream: Upstream,
    test_home: Path,
    tmp_path: Path,
) -> None:
    codex_home = tmp_path / "codex-home"
    write_config(codex_home, litellm_proxy.url, "cx-main")
    upstream.responses.reset(ResponsesScript(main="cx-builder", cached_tokens=30))
    worker = codex_worker(
        cx_project, run_aether, codex_home, test_home, "-m", "cx-builder", "write the parser"
    )
    assert worker["model"] == "cx-builder" and worker["status"] == "completed"
    sent = upstream.responses.usage_by_model()
    assert set(sent) == {"cx-builder"}  # the worker ran on its caste's model, nothing else
    assert worker["model_used"] == "cx-builder" and worker["model_mismatch"] is False
    assert worker["tokens_in"] == sent["cx-builder"]["input_tokens"]
    assert worker["tokens_out"] == sent["cx-builder"]["output_tokens"]
    used = worker["usage_by_model"]["cx-builder"]
    assert used["cache_read_tokens"] == sent["cx-builder"]["cached_input_tokens"] > 0
    assert worker["runtime"]["kind"] == "codex-headless"
    assert worker["runtime"]["model_source"] == "rollout"
    assert worker["runtime"]["session_id"]  # Codex's thread id: its rollout's name


def test_a_codex_worker_that_ran_on_another_model_is_flagged(
    cx_project: Path,
    run_aether: RunAether,
    litellm_proxy: RunningProxy,
    upstream: Upstream,
    test_home: Path,
    tmp_path: Path,
) -> None:
    """Codex's own config names cx-main and nothing overrides it: the builder (assigned
    cx-builder) really ran on cx-main, and its record says so."""
    codex_home = tmp_path / "codex-home"
    write_config(codex_home, litellm_proxy.url, "cx-main")
    worker = codex_worker(cx_project, run_aether, codex_home, test_home, "write the parser")
    assert upstream.responses.models_seen() == ["cx-main"]
    assert worker["model"] == "cx-builder"
    assert worker["model_used"] == "cx-main" and worker["model_mismatch"] is True
    assert worker["tokens_in"] == upstream.responses.usage_by_model()["cx-main"]["input_tokens"]
    state = json.loads((cx_project / ".aether" / "data" / "COLONY_STATE.json").read_text())
    flagged = [e for e in state["events"] if e["type"] == "model_mismatch"]
    assert flagged and "cx-main" in flagged[-1]["message"]


def test_a_codex_worker_with_a_subagent_records_each_model_with_its_own_tokens(
    cx_project: Path,
    run_aether: RunAether,
    litellm_proxy: RunningProxy,
    upstream: Upstream,
    test_home: Path,
    tmp_path: Path,
) -> None:
    """The builder spawns an ``aether-scout`` subagent (``.codex/agents/aether-scout.toml``
    names cx-scout): the subagent's tokens are not in the main thread's events; its rollout
    gives them, under its own model."""
    codex_home = tmp_path / "codex-home"
    write_config(codex_home, litellm_proxy.url, "cx-builder", trusted=(cx_project,))
    write_agent(cx_project, "aether-scout", "cx-scout")
    upstream.responses.reset(
        ResponsesScript(
            main="cx-builder",
            turns=[[spawn_agent("aether-scout", "map the parser module")], [wait_agent()]],
        )
    )
    worker = codex_worker(cx_project, run_aether, codex_home, test_home, "write the parser")
    sent = upstream.responses.usage_by_model()
    assert set(sent) == {"cx-builder", "cx-scout"}  # the subagent ran on its file's model
    assert worker["model_used"] == "cx-builder" and worker["model_mismatch"] is False
    by_model = worker["usage_by_model"]
    assert set(by_model) == {"cx-builder", "cx-scout"}
    for model, tokens in sent.items():
        assert by_model[model]["tokens_in"] == tokens["input_tokens"], model
        assert by_model[model]["tokens_out"] == tokens["output_tokens"], model
    assert worker["tokens_in"] == sum(t["input_tokens"] for t in sent.values())


def test_a_codex_worker_whose_turn_failed_is_failed_and_says_what_it_ran_on(
    cx_project: Path,
    run_aether: RunAether,
    litellm_proxy: RunningProxy,
    upstream: Upstream,
    test_home: Path,
    tmp_path: Path,
) -> None:
    """``-m broken``: the proxy answers 500, Codex ends with ``turn.failed`` and exit 1. The
    worker is failed; its record still says which model Codex tried (from the rollout)."""
    codex_home = tmp_path / "codex-home"
    write_config(codex_home, litellm_proxy.url, "cx-main")
    result = run_aether(
        "spawn",
        "--caste",
        "builder",
        "--json",
        "--exec",
        "--",
        str(ensure_codex()),
        *EXEC_ARGS,
        "-m",
        "broken",
        "write the parser",
        env=codex_env(test_home, codex_home, MASTER_KEY),
        timeout=180,
    )
    assert result.returncode == 1, result.stderr[-3000:]
    worker = json.loads(result.stdout)
    assert worker["status"] == "failed" and worker["exit_code"] == 1
    assert upstream.responses.models_seen() == []  # nothing reached the upstream
    assert worker["runtime"]["kind"] == "codex-headless"
    assert worker["model_used"] == "broken" and worker["model_mismatch"] is True
    assert worker["tokens_in"] == 0 and worker["tokens_out"] == 0
