"""``aether codex install`` with the REAL Codex CLI: the files it writes and the block it
prints are what Codex runs a caste's agent on.

The pinned Codex binary runs headless in a project set up by ``aether codex install`` alone,
with ``CODEX_HOME/config.toml`` holding exactly the provider block install printed, through the
real LiteLLM proxy to the scripted Responses upstream. The upstream's record of which model each
request named is the evidence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.proxy.codex import codex_env, cx_profile, run_codex
from tests.proxy.conftest import MASTER_KEY, RunningProxy
from tests.proxy.responses import ResponsesScript, spawn_agent, wait_agent
from tests.proxy.upstream import Upstream

pytestmark = pytest.mark.proxy


def test_a_spawned_aether_builder_runs_on_the_builders_caste_model(
    project: Path,
    run_aether: RunAether,
    litellm_proxy: RunningProxy,
    upstream: Upstream,
    test_home: Path,
    tmp_path: Path,
) -> None:
    assert run_aether("init", "Ship the frobnicator").returncode == 0
    (project / ".aether" / "model-profiles.yaml").write_text(cx_profile(litellm_proxy.url))
    codex_home = tmp_path / "codex-home"
    env = codex_env(test_home, codex_home, MASTER_KEY)
    installed = run_aether("codex", "install", "--json", env=env)
    assert installed.returncode == 0, installed.stderr
    printed = json.loads(installed.stdout)
    block = printed["provider_block"] + "\n" + printed["trust_block"]
    assert MASTER_KEY not in block
    codex_home.mkdir()
    (codex_home / "config.toml").write_text(block)  # what the user pastes, nothing else
    checked = run_aether("codex", "check", env=env)
    assert checked.returncode == 0, checked.stdout

    upstream.responses.reset(
        ResponsesScript(
            main="cx-main",
            turns=[[spawn_agent("aether-builder", "write the parser")], [wait_agent()]],
        )
    )
    run = run_codex(project, env, "build the parser")
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-3000:])
    # the main model (the block's `model`, the queen's) spawned the builder; the builder's
    # requests named its caste's model (the child's request and the main model's next one
    # race: their order is not fixed), and its answer came back to the main model
    seen = upstream.responses.seen
    assert sorted(s.model for s in seen) == ["cx-builder", "cx-main", "cx-main", "cx-main"]
    (child,) = [s for s in seen if s.model == "cx-builder"]
    assert "write the parser" in child.text
    # the agent file's developer_instructions (the caste's brief) reached the child's model
    assert "You are a builder worker of an aether colony, running on cx-builder" in child.text
    assert "worker finished the task (cx-builder)" in seen[-1].text
