"""One colony, two runtimes in turn: a Claude Code session, then a Codex session, then Claude
Code again — the REAL clients (Claude Code 2.1.328, Codex 0.171.0) through the real LiteLLM
proxy, in one project set up by ``aether claude install`` and ``aether codex install``.

Each runtime speaks its own API (Anthropic Messages, OpenAI Responses), so the profile gives the
builder an Anthropic model of the scripted upstream and the scout a Responses one: Claude Code's
queen spawns the builder, Codex's main agent the scout. What carries over is the colony: the
pause one runtime's session ends with is what the other's next session resumes and is briefed
from, and every worker of both is in the same state, routed and recorded with the model its
runtime reported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.proxy import claude
from tests.proxy.codex import codex_env, run_codex
from tests.proxy.conftest import MASTER_KEY, RunningProxy
from tests.proxy.responses import ResponsesScript, spawn_agent, wait_agent
from tests.proxy.upstream import Upstream

pytestmark = pytest.mark.proxy

GOAL = "Ship the frobnicator across two runtimes"


def two_runtime_profile(endpoint: str) -> str:
    """The builder on an Anthropic-Messages model (Claude Code's), the scout on a Responses
    model (Codex's); the queen is Codex's main model (the block `aether codex install` prints
    names it), Claude Code's main model comes from its own environment."""
    anthropic = {"cc-queen": 5, "cc-builder": 3}
    responses = {"cx-main": 5, "cx-scout": 1}
    lines = ["format: 2", "strict: true", "models:"]
    for models, provider in ((anthropic, "anthropic"), (responses, "openai")):
        lines += [
            f"  {m}: {{provider: {provider}, context_window: 200000, "
            f"capabilities: [code, tools], speed: 3, cost: {cost}}}"
            for m, cost in models.items()
        ]
    lines += [
        "castes:",
        "  queen: {model: cx-main, chain: []}",
        "  builder: {model: cc-builder, chain: []}",
        "  scout: {model: cx-scout, chain: []}",
        "proxy:",
        f"  endpoint: {endpoint}",
        "  key_env: LITELLM_MASTER_KEY",
        "  probe: first-use",
        "timeouts: {attempt_s: 20, connect_s: 5}",
    ]
    return "\n".join(lines) + "\n"


def _state(project: Path) -> dict[str, Any]:
    return claude.state_of(project)


def _workers(project: Path, kind: str, role: str | None = None) -> list[dict[str, Any]]:
    return [
        w
        for w in _state(project)["workers"]
        if (w.get("runtime") or {}).get("kind") == kind
        and ((w.get("runtime") or {}).get("role") == "main") == (role == "main")
    ]


def test_one_colony_is_carried_from_claude_code_to_codex_and_back(
    project: Path,
    run_aether: RunAether,
    litellm_proxy: RunningProxy,
    upstream: Upstream,
    home: Path,
    tmp_path: Path,
) -> None:
    assert run_aether("init", GOAL).returncode == 0
    (project / ".aether" / "model-profiles.yaml").write_text(two_runtime_profile(litellm_proxy.url))
    assert run_aether("claude", "install").returncode == 0
    codex_home = tmp_path / "codex-home"
    cx_env = codex_env(home, codex_home, MASTER_KEY)
    installed = run_aether("codex", "install", "--json", env=cx_env)
    assert installed.returncode == 0, installed.stderr
    block = json.loads(installed.stdout)
    codex_home.mkdir()
    (codex_home / "config.toml").write_text(block["provider_block"] + "\n" + block["trust_block"])
    assert run_aether("codex", "check", env=cx_env).returncode == 0

    # 1. Claude Code: the queen spawns a builder, routed to its caste's model and recorded
    claude.queen_run(project, home, upstream, [claude.spawn("aether-builder", "write the parser")])
    assert claude.subagent_models(upstream) == ["cc-builder"]
    (builder,) = _workers(project, "claude-code")
    assert builder["caste"] == "builder" and builder["status"] == "completed"
    assert builder["resolved_model"] == "cc-builder" and builder["model_mismatch"] is False
    assert _state(project)["status"] == "paused"  # Claude Code's SessionEnd paused it

    # 2. Codex: resumes the colony Claude Code paused, and is briefed from it; its scout is
    # routed to the scout's model and recorded beside the builder
    upstream.responses.reset(
        ResponsesScript(
            main="cx-main", turns=[[spawn_agent("aether-scout", "map the code")], [wait_agent()]]
        )
    )
    ran = run_codex(project, cx_env, "carry on")
    assert ran.returncode == 0, (ran.stdout[-2000:], ran.stderr[-3000:])
    first = upstream.responses.seen[0]
    assert f"Goal: {GOAL}" in first.text and "Resumed by aether" in first.text
    assert sorted(upstream.responses.models_seen()) == ["cx-main", "cx-main", "cx-main", "cx-scout"]
    (scout,) = _workers(project, "codex")
    assert scout["caste"] == "scout" and scout["status"] == "completed"
    assert scout["resolved_model"] == "cx-scout" and scout["model_mismatch"] is False
    assert scout["verified"] is True and scout["tokens_out"] > 0
    assert [w["id"] for w in _workers(project, "claude-code")] == [builder["id"]]
    assert _state(project)["status"] == "paused"  # Codex's SessionEnd paused it in turn

    # 3. Claude Code again: resumes what Codex paused, and is briefed from it
    claude.queen_run(project, home, upstream, [], prompt="what next")
    queen_first = next(s for s in upstream.seen if s.model == "cc-queen")
    assert f"Goal: {GOAL}" in queen_first.system + queen_first.text
    sessions = _workers(project, "claude-code", "main") + _workers(project, "codex", "main")
    assert len(sessions) == 3 and {s["status"] for s in sessions} == {"completed"}
    assert _state(project)["status"] == "paused"
