"""The Claude Code integration with the REAL client (docs/claude-code.md).

Every test runs the pinned Claude Code binary headless (``claude -p``) in a project set up by
``aether claude install``, through the real LiteLLM proxy, to the scripted upstream model
(tests/proxy/upstream.py): its "queen" calls the Agent tool, its workers answer text. What the
upstream receives is the evidence: which model each request named, and what text it carried.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.helpers import subagent_records
from tests.proxy.claude import (
    GOAL,
    ClaudeRun,
    cc_profile,
    claude_env,
    queen_run,
    spawn,
    state_of,
    subagent_models,
)
from tests.proxy.conftest import MASTER_KEY, RunningProxy, free_port
from tests.proxy.upstream import Upstream

#: every test here starts (or uses) the real LiteLLM proxy: `-m "not proxy"` leaves them out
pytestmark = pytest.mark.proxy


def test_a_builder_subagent_runs_on_its_caste_model_and_is_recorded_with_its_tokens(
    cc_project: Path, home: Path, upstream: Upstream, run_aether: RunAether
) -> None:
    run = queen_run(cc_project, home, upstream, [spawn("aether-builder", "write the parser")])
    result = run.result
    assert result["subagent_stats"]["by_type"] == {"aether-builder": 1}
    assert set(result["modelUsage"]) == {"cc-queen", "cc-builder"}
    assert result["permission_denials"] == []
    assert "cc-builder" in subagent_models(upstream)  # the proxy asked upstream for it
    (worker,) = subagent_records(state_of(cc_project))
    profile_hash = json.loads(run_aether("route", "x", "--caste", "builder", "--json").stdout)[
        "profile_hash"
    ]
    assert worker["caste"] == "builder" and worker["model"] == "cc-builder"
    assert worker["model_source"] == "caste-default"
    assert worker["profile_hash"] == profile_hash
    assert worker["verified"] is True and worker["verification"]["method"] == "probe"
    assert worker["resolved_model"] == "cc-builder" and worker["model_mismatch"] is False
    assert worker["status"] == "completed"
    assert worker["runtime"]["kind"] == "claude-code"
    assert worker["runtime"]["agent_id"] and worker["runtime"]["tool_use_id"]
    assert worker["session_id"] == state_of(cc_project)["session"]["id"]
    # tokens come from the subagent's own transcript, and they are what upstream answered
    sent = upstream.usage_by_model()["cc-builder"]
    assert worker["tokens_in"] == sent["input_tokens"]
    assert worker["tokens_out"] == sent["output_tokens"]
    assert worker["usage_by_model"]["cc-builder"]["tokens_out"] == sent["output_tokens"]
    costs = json.loads(run_aether("costs", "--json").stdout)
    assert costs["by_model"]["cc-builder"]["tokens_in"] == sent["input_tokens"]
    assert costs["by_caste"]["builder"]["tokens_out"] == sent["output_tokens"]


def test_task_keywords_route_the_subagent_to_another_model_and_the_record_says_why(
    cc_project: Path, home: Path, upstream: Upstream
) -> None:
    run = queen_run(
        cc_project,
        home,
        upstream,
        [spawn("aether-builder", "redesign the storage architecture", "storage redesign")],
    )
    assert run.result["subagent_stats"]["by_type"] == {"aether--cc-opus": 1}
    assert subagent_models(upstream).count("cc-opus") >= 1
    assert "cc-builder" not in subagent_models(upstream)
    (worker,) = subagent_records(state_of(cc_project))
    assert worker["model"] == "cc-opus" and worker["model_source"] == "task-routing"
    assert "deep-design" in worker["model_reason"] and "'redesign'" in worker["model_reason"]
    assert worker["runtime"]["agent_type"] == "aether--cc-opus"
    assert worker["runtime"]["requested_type"] == "aether-builder"
    # the carrier ran as a builder: its caste's role came first in the task it was given
    carried = [s.text for s in upstream.seen if s.model == "cc-opus"]
    assert any(
        "You are a builder worker of an aether colony" in t and "redesign the storage" in t
        for t in carried
    )
    # Claude Code reports "cc-opus[1m]": the same model, not a mismatch
    assert worker["resolved_model"].startswith("cc-opus")
    assert worker["model_mismatch"] is False and worker["status"] == "completed"


def test_the_agent_tools_model_parameter_cannot_bypass_routing(
    cc_project: Path, home: Path, upstream: Upstream
) -> None:
    asked = {**spawn("aether-builder", "write the lexer"), "model": "opus"}
    queen_run(cc_project, home, upstream, [asked])
    # "opus" (cc-opus) is a model the builder can be routed to, and measured to override a
    # definition's model when passed through; pre-agent drops it
    assert "cc-builder" in subagent_models(upstream)
    assert "cc-opus" not in subagent_models(upstream)
    (worker,) = subagent_records(state_of(cc_project))
    assert worker["model"] == "cc-builder" and worker["model_mismatch"] is False


def _denied(run: ClaudeRun, upstream: Upstream, project: Path) -> str:
    result = run.result
    assert result["subagent_stats"]["spawned"] == 0
    (denial,) = result["permission_denials"]
    assert denial["tool_input"]["subagent_type"] == "aether-builder"
    assert subagent_models(upstream) == []  # no subagent ever reached a model
    assert subagent_records(state_of(project)) == []  # nothing recorded as spawned
    replies = [s.text for s in upstream.seen if s.tool_results]
    reason = next(t for t in replies if "aether refused this spawn" in t)
    return reason


def test_a_proxy_that_is_down_for_aether_denies_the_spawn(
    cc_project: Path, home: Path, upstream: Upstream
) -> None:
    # the profile's proxy (what aether verifies through) is down; Claude Code's own traffic
    # still reaches the real proxy through the env block install wrote
    profile = cc_project / ".aether" / "model-profiles.yaml"
    dead = f"http://127.0.0.1:{free_port()}"
    profile.write_text(cc_profile(dead))
    run = queen_run(cc_project, home, upstream, [spawn("aether-builder", "write the parser")])
    reason = _denied(run, upstream, cc_project)
    assert "connection refused" in reason and dead in reason


def test_a_key_the_proxy_rejects_denies_the_spawn(
    cc_project: Path, home: Path, upstream: Upstream
) -> None:
    run = queen_run(
        cc_project,
        home,
        upstream,
        [spawn("aether-builder", "write the parser")],
        LITELLM_MASTER_KEY="sk-not-the-master-key-123",
    )
    reason = _denied(run, upstream, cc_project)
    assert "sk-not-the-master-key-123" not in reason
    assert "rejected" in reason or "401" in reason


def test_a_forced_subagent_model_is_flagged_as_a_mismatch(
    cc_project: Path, home: Path, upstream: Upstream, run_aether: RunAether
) -> None:
    # measured with 2.1.328: CLAUDE_CODE_SUBAGENT_MODEL alone leaves a definition's model
    # alone; with CLAUDE_CODE_SUBAGENT_MODEL_FORCE it overrides every caste
    queen_run(
        cc_project,
        home,
        upstream,
        [spawn("aether-builder", "write the parser")],
        CLAUDE_CODE_SUBAGENT_MODEL="cc-haiku",
        CLAUDE_CODE_SUBAGENT_MODEL_FORCE="1",
    )
    assert "cc-haiku" in subagent_models(upstream)
    state = state_of(cc_project)
    (worker,) = subagent_records(state)
    assert worker["model"] == "cc-builder"  # what aether assigned
    assert worker["resolved_model"] == "cc-haiku" and worker["model_mismatch"] is True
    assert worker["model_used"] == "cc-haiku"
    assert any(e["type"] == "model_mismatch" for e in state["events"])
    status = json.loads(run_aether("status", "--json").stdout)
    assert status["workers"]["model_mismatches"] == 1
    handoff = (cc_project / ".aether" / "HANDOFF.md").read_text()
    assert "model routing did not hold" in handoff and worker["id"] in handoff
    doctor = run_aether(
        "doctor",
        "--json",
        env={**claude_env(home, MASTER_KEY), "CLAUDE_CODE_SUBAGENT_MODEL": "cc-haiku"},
    )
    checks = {c["check"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert doctor.returncode == 1 and checks["claude overrides"]["level"] == "fail"


def test_session_end_leaves_a_handoff_and_the_next_session_is_briefed_and_resumed(
    cc_project: Path, home: Path, upstream: Upstream, run_aether: RunAether
) -> None:
    first = queen_run(cc_project, home, upstream, [])
    assert first.result["result"] == "the queen is done"
    state = state_of(cc_project)
    assert state["status"] == "paused"  # session-end paused it; nobody typed `aether pause`
    handoff = (cc_project / ".aether" / "HANDOFF.md").read_text()
    assert GOAL in handoff and "the queen is done" in handoff  # its last message is the note
    paused_session = state["session"]["id"]
    assert run_aether("memory", "add", "decision", "frobnicate in batches of 64").returncode == 0

    queen_run(cc_project, home, upstream, [])
    first_request = next(s for s in upstream.seen if s.model == "cc-queen")
    assert GOAL in first_request.text  # the briefing reached the main model
    assert "frobnicate in batches of 64" in first_request.text
    assert "aether-builder" in first_request.text  # and it names the castes to spawn
    state = state_of(cc_project)
    assert state["session"]["previous_ids"][-1] == paused_session  # resumed by session-start
    assert any(e["type"] == "session.resumed" for e in state["events"])
    history = list((cc_project / ".aether" / "handoff-history").glob("HANDOFF-*.md"))
    assert len(history) == 1


def test_a_headless_claude_worker_under_spawn_exec_records_its_models_and_tokens(
    cc_project: Path, home: Path, upstream: Upstream, run_aether: RunAether
) -> None:
    from tests.proxy.claude import ensure_claude

    upstream.reset()
    env = claude_env(home, MASTER_KEY)
    result = run_aether(
        "spawn",
        "--caste",
        "builder",
        "--json",
        "--exec",
        "--",
        str(ensure_claude()),
        "-p",
        "write the parser",
        "--output-format",
        "json",
        "--max-turns",
        "2",
        env=env,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    worker = json.loads(result.stdout)
    assert worker["model"] == "cc-builder" and worker["status"] == "completed"
    sent = upstream.usage_by_model()
    assert set(sent) == {"cc-builder"}  # the worker's own session ran on its caste's model
    assert worker["model_used"] == "cc-builder" and worker["model_mismatch"] is False
    assert worker["tokens_in"] == sent["cc-builder"]["input_tokens"]
    assert worker["tokens_out"] == sent["cc-builder"]["output_tokens"]
    assert worker["cost_usd"] is not None
    # the worker's own session hooks left the colony's session alone
    assert state_of(cc_project)["status"] == "active"


def test_a_users_own_hooks_and_agents_keep_working_beside_aethers_and_uninstall_restores_them(
    project: Path,
    run_aether: RunAether,
    litellm_proxy: RunningProxy,
    upstream: Upstream,
    home: Path,
) -> None:
    assert run_aether("init", GOAL).returncode == 0
    (project / ".aether" / "model-profiles.yaml").write_text(cc_profile(litellm_proxy.url))
    claude = project / ".claude"
    (claude / "agents").mkdir(parents=True)
    user_settings = {
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "Agent",
                    "hooks": [
                        {"type": "command", "command": 'touch "$CLAUDE_PROJECT_DIR/user-hook-ran"'}
                    ],
                }
            ]
        },
        "permissions": {"deny": ["WebFetch"]},
    }
    (claude / "settings.json").write_text(json.dumps(user_settings, indent=4) + "\n")
    (claude / "agents" / "reviewer.md").write_text(
        "---\nname: reviewer\ndescription: reviews code\nmodel: cc-sonnet\n---\nReview it.\n"
    )
    before = {
        p.name: p.read_bytes()
        for p in (claude / "settings.json", claude / "agents" / "reviewer.md")
    }
    assert run_aether("claude", "install").returncode == 0
    run = queen_run(
        project, home, upstream, [spawn("aether-builder", "redesign the storage architecture")]
    )
    assert (project / "user-hook-ran").exists()  # the user's hook ran beside aether's
    assert run.result["subagent_stats"]["by_type"] == {"aether--cc-opus": 1}
    assert "cc-opus" in subagent_models(upstream)  # and aether's redirect still held
    assert run_aether("claude", "uninstall").returncode == 0
    after = {
        p.name: p.read_bytes()
        for p in (claude / "settings.json", claude / "agents" / "reviewer.md")
    }
    assert after == before
