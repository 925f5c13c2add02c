"""aether's Codex hooks with the REAL Codex CLI (0.171.0) through the real LiteLLM proxy.

Each project is set up by ``aether init`` and ``aether codex install`` alone; ``CODEX_HOME/
config.toml`` holds exactly what install printed — the provider block and the hook-trust lines
— so the hooks run as a user's would, without ``--dangerously-bypass-hook-trust``. The scripted
upstream's record of which model each request named, and the colony's state, are the evidence.
"""

from __future__ import annotations

import json
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.proxy.codex import (
    EXEC_ARGS,
    CodexRun,
    codex_env,
    cx_profile,
    ensure_codex,
    run_codex,
)
from tests.proxy.conftest import MASTER_KEY, RunningProxy, free_port
from tests.proxy.responses import ResponsesScript, spawn_agent, spawn_agent_v2, wait_agent
from tests.proxy.upstream import Upstream

pytestmark = pytest.mark.proxy

GOAL = "Ship the frobnicator"
#: the builder's task goes to cx-other when it names the storage design
KEYWORDS = (
    "    deep-design: {keywords: [architecture, redesign], model: cx-other, castes: [builder]}"
)


def profile(endpoint: str, key_env: str = "LITELLM_MASTER_KEY") -> str:
    text = cx_profile(endpoint).replace(
        "proxy:\n", f"task_routing:\n  enabled: true\n  groups:\n{KEYWORDS}\nproxy:\n"
    )
    return text.replace("key_env: LITELLM_MASTER_KEY", f"key_env: {key_env}")


class Colony:
    def __init__(
        self,
        project: Path,
        run_aether: RunAether,
        proxy: RunningProxy,
        upstream: Upstream,
        root: Path,
    ) -> None:
        self.project, self.run_aether, self.upstream = project, run_aether, upstream
        self.codex_home = root / "codex-home"
        self.home = root / "home"
        self.home.mkdir()
        self.env = codex_env(self.home, self.codex_home, MASTER_KEY)
        assert run_aether("init", GOAL).returncode == 0
        self.profile = project / ".aether" / "model-profiles.yaml"
        self.profile.write_text(profile(proxy.url))
        installed = run_aether("codex", "install", "--json", env=self.env)
        assert installed.returncode == 0, installed.stderr
        self.installed = json.loads(installed.stdout)
        self.codex_home.mkdir()
        # what the user pastes: the provider block and the trust lines, nothing else
        block = self.installed["provider_block"] + "\n" + self.installed["trust_block"]
        (self.codex_home / "config.toml").write_text(block)
        checked = run_aether("codex", "check", env=self.env)
        assert checked.returncode == 0, checked.stdout

    def run(
        self,
        *turns: list[Any],
        prompt: str = "build it",
        args: tuple[str, ...] = (),
        delays: dict[str, float] | None = None,
        **env: str,
    ) -> CodexRun:
        script = ResponsesScript(main="cx-main", turns=list(turns), delays=delays or {})
        self.upstream.responses.reset(script)
        run = run_codex(self.project, {**self.env, **env}, prompt, args=[*EXEC_ARGS, *args])
        assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-3000:])
        return run

    def state(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(
            (self.project / ".aether" / "data" / "COLONY_STATE.json").read_text()
        )
        return doc

    def subagents(self) -> list[dict[str, Any]]:
        return [
            w for w in self.state()["workers"] if (w.get("runtime") or {}).get("role") != "main"
        ]

    def sessions(self) -> list[dict[str, Any]]:
        """The records of the agent sessions themselves (their main agents)."""
        return [
            w for w in self.state()["workers"] if (w.get("runtime") or {}).get("role") == "main"
        ]

    def kill_while_the_builder_works(self) -> None:
        """A session that spawns a builder, killed while the builder waits on its model (its
        request has reached the upstream, so it is recorded here, not in a later test's record
        when the delay ends): no SessionEnd, no SubagentStop."""
        script = ResponsesScript(
            main="cx-main",
            turns=[[spawn_agent("aether-builder", "write the parser")], [wait_agent()]],
            delays={"cx-builder": 20.0},
        )
        self.upstream.responses.reset(script)
        codex = subprocess.Popen(
            [str(ensure_codex()), *EXEC_ARGS, "build it"],
            cwd=self.project,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                running = [w for w in self.subagents() if w["status"] == "running"]
                if running and "cx-builder" in self.upstream.responses.models_seen():
                    return
                time.sleep(0.2)
            pytest.fail("the builder never started or never asked its model")
        finally:
            codex.kill()
            codex.wait(timeout=30)

    def next_session_finds_the_killed_one_dead(self) -> None:
        """After ``kill_while_the_builder_works``: the next session's SessionStart finds the
        killed session's process gone, marks its builder lost and says so in the briefing."""
        self.run(prompt="carry on")
        first = self.upstream.responses.seen[0]
        (builder,) = self.subagents()
        assert builder["status"] == "lost"
        assert "died without ending" in first.text and builder["id"] in first.text


@pytest.fixture
def colony(
    project: Path,
    run_aether: RunAether,
    litellm_proxy: RunningProxy,
    upstream: Upstream,
    tmp_path: Path,
) -> Colony:
    return Colony(project, run_aether, litellm_proxy, upstream, tmp_path)


def _models(upstream: Upstream) -> list[str]:
    return sorted(upstream.responses.models_seen())


def test_install_prints_the_trust_codex_itself_computes(colony: Colony) -> None:
    """Codex's app-server lists each project hook with its trust key and ``currentHash``: they
    are exactly the lines install printed, and Codex calls all six trusted."""
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"clientInfo": {"name": "t", "version": "1"}},
        },
        {"jsonrpc": "2.0", "method": "initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "hooks/list",
            "params": {"cwds": [str(colony.project)]},
        },
    ]
    server = subprocess.Popen(
        [str(ensure_codex()), "app-server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=colony.env,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write("".join(json.dumps(r) + "\n" for r in requests))
    server.stdin.flush()
    listed: dict[str, Any] | None = None
    deadline = time.monotonic() + 30
    try:
        while listed is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            message = json.loads(line)
            if message.get("id") == 2:
                listed = message["result"]
    finally:
        server.kill()
        server.wait(timeout=10)
    assert listed is not None
    (entry,) = listed["data"]
    hooks = {h["key"]: h for h in entry["hooks"]}
    printed = tomllib.loads(colony.installed["trust_block"])["hooks"]["state"]
    assert {k: v["trusted_hash"] for k, v in printed.items()} == {
        k: h["currentHash"] for k, h in hooks.items()
    }
    assert {h["trustStatus"] for h in hooks.values()} == {"trusted"}
    assert len(hooks) == 6


def test_a_builder_runs_on_its_caste_model_and_is_recorded_with_codexs_model_and_tokens(
    colony: Colony,
) -> None:
    colony.run([spawn_agent("aether-builder", "write the parser")], [wait_agent()])
    seen = colony.upstream.responses.seen
    assert _models(colony.upstream) == ["cx-builder", "cx-main", "cx-main", "cx-main"]
    (child,) = [s for s in seen if s.model == "cx-builder"]
    (worker,) = colony.subagents()
    assert worker["caste"] == "builder" and worker["model"] == "cx-builder"
    assert worker["resolved_model"] == "cx-builder"  # SubagentStart's model: Codex's own word
    assert worker["model_mismatch"] is False and worker["status"] == "completed"
    assert worker["runtime"]["kind"] == "codex" and worker["runtime"]["agent_id"]
    assert worker["runtime"]["agent_type"] == "aether-builder"
    # the tokens are the child's rollout's: what the upstream answered the child
    assert worker["tokens_out"] == child.usage["output_tokens"]
    assert worker["usage_by_model"]["cx-builder"]["tokens_out"] == child.usage["output_tokens"]
    assert worker["result"] and "worker finished the task (cx-builder)" in worker["result"]
    assert worker["verified"] is True


def test_a_keyword_task_is_redirected_to_the_carrier_of_another_model(colony: Colony) -> None:
    colony.run([spawn_agent("aether-builder", "redesign the storage architecture")], [wait_agent()])
    models = colony.upstream.responses.models_seen()
    assert "cx-other" in models and "cx-builder" not in models
    (child,) = [s for s in colony.upstream.responses.seen if s.model == "cx-other"]
    # the carrier ran as a builder: its caste's brief came first in the task
    assert "You are a builder worker of an aether colony" in child.text
    assert "redesign the storage architecture" in child.text
    (worker,) = colony.subagents()
    assert worker["model"] == "cx-other" and worker["model_source"] == "task-routing"
    assert worker["runtime"]["agent_type"] == "aether--cx-other"
    assert worker["runtime"]["requested_type"] == "aether-builder"
    assert worker["resolved_model"] == "cx-other" and worker["model_mismatch"] is False
    assert worker["status"] == "completed" and worker["tokens_out"] > 0


def _denied(colony: Colony) -> str:
    seen = colony.upstream.responses.seen
    assert [s.model for s in seen] == ["cx-main", "cx-main"]  # the child never reached a model
    assert colony.subagents() == []  # nothing recorded as spawned
    events = [e for e in colony.state()["events"] if e["type"] == "spawn.denied"]
    assert len(events) == 1
    assert "Tool call blocked by PreToolUse hook: aether refused this spawn" in seen[1].text
    return seen[1].text


def test_a_proxy_that_is_down_for_aether_denies_the_spawn(colony: Colony) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    colony.profile.write_text(profile(dead))  # Codex's own traffic still reaches the proxy
    colony.run([spawn_agent("aether-builder", "write the parser")])
    reason = _denied(colony)
    assert "connection refused" in reason and dead in reason


def _endpoint(colony: Colony) -> str:
    block = tomllib.loads(colony.installed["provider_block"])
    url: str = block["model_providers"]["aether"]["base_url"]
    return url.removesuffix("/v1")


def test_a_key_the_proxy_rejects_denies_the_spawn(colony: Colony) -> None:
    # aether proves the spawn with the profile's key_env; Codex's own key stays the right one
    colony.profile.write_text(profile(_endpoint(colony), "AETHER_CX_KEY"))
    colony.run([spawn_agent("aether-builder", "write the parser")], AETHER_CX_KEY="sk-not-it-123")
    reason = _denied(colony)
    assert "sk-not-it-123" not in reason
    assert "rejected" in reason or "401" in reason


def test_a_codex_provider_other_than_the_colonys_proxy_denies_the_spawn(colony: Colony) -> None:
    """Codex's provider in config.toml names another base_url than the profile's proxy (here
    the same server without ``/v1``, which LiteLLM serves too): aether cannot prove where the
    child's requests go, so it denies the spawn although the model itself was verified."""
    config = colony.codex_home / "config.toml"
    text = config.read_text()
    url = _endpoint(colony)
    assert f'base_url = "{url}/v1"' in text
    config.write_text(text.replace(f'base_url = "{url}/v1"', f'base_url = "{url}"'))
    colony.run([spawn_agent("aether-builder", "write the parser")])
    reason = _denied(colony)
    assert "not to the colony's proxy" in reason and str(config) in reason


def test_the_session_boundary_pauses_and_the_next_session_is_briefed(colony: Colony) -> None:
    colony.run([spawn_agent("aether-builder", "write the parser")], [wait_agent()])
    state = colony.state()
    assert state["status"] == "paused"  # SessionEnd: the last session out paused the colony
    handoff = (colony.project / ".aether" / "HANDOFF.md").read_text()
    assert GOAL in handoff
    (session,) = colony.sessions()
    assert session["runtime"]["kind"] == "codex" and session["status"] == "completed"
    # the session's own record: its main thread's tokens (its rollout) and its last words
    assert session["model"] == "cx-main" and session["tokens_out"] > 0
    assert session["result"] == "the main agent is done"
    colony.run(prompt="carry on")
    first = colony.upstream.responses.seen[0]
    # SessionStart resumed the colony and its briefing reached the main model
    assert f"Goal: {GOAL}" in first.text and "Resumed by aether" in first.text
    assert colony.state()["status"] == "paused"  # and that session ended too


def test_a_killed_session_is_found_dead_by_the_next_one_and_its_worker_lost(
    colony: Colony,
) -> None:
    """Codex killed while its builder works: no SessionEnd. The next session's SessionStart
    finds the first one's process gone, marks its worker lost and says so in the briefing."""
    colony.kill_while_the_builder_works()
    assert colony.state()["status"] == "active"  # nobody paused it
    colony.next_session_finds_the_killed_one_dead()
    assert sorted(w["status"] for w in colony.sessions()) == ["completed", "lost"]


def test_an_aether_that_fails_never_breaks_the_session_and_its_spawn_is_refused(
    colony: Colony, tmp_path: Path
) -> None:
    """The launcher finds a broken aether (``AETHER_BIN``): every hook says one line and lets
    the session go on; the aether spawn, which could not be routed, is refused (exit 2)."""
    broken = tmp_path / "broken-aether"
    broken.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n")
    broken.chmod(0o755)
    colony.run([spawn_agent("aether-builder", "write the parser")], AETHER_BIN=str(broken))
    seen = colony.upstream.responses.seen
    assert [s.model for s in seen] == ["cx-main", "cx-main"]
    assert f"{broken} exited 3 (cannot start)" in seen[1].text
    assert "this aether worker could not be routed: not started" in seen[1].text
    assert colony.subagents() == []


#: an agent file of the user's own that names itself ``aether-builder`` (Codex finds agents by
#: their ``name``, not their file name) and runs on another model than the profile's builder
MY_BUILDER = """\
name = "aether-builder"
description = "my own builder"
model = "cx-other"
developer_instructions = "You are my own builder, not the colony's."
"""


def test_a_child_codex_runs_on_another_model_than_routed_is_flagged(
    colony: Colony, run_aether: RunAether, tmp_path: Path
) -> None:
    """``codex exec -c agents.aether-builder.config_file=<file>`` — a command-line override
    aether's hooks cannot see — makes Codex 0.171.0 run the spawned builder from that file:
    aether routed and proved cx-builder (its own agent file names it, so the spawn is allowed),
    the child ran on cx-other, and Codex says so at SubagentStart; the worker is flagged."""
    mine = tmp_path / "my-builder.toml"
    mine.write_text(MY_BUILDER)
    override = f"agents.aether-builder.config_file={json.dumps(str(mine))}"
    colony.run(
        [spawn_agent("aether-builder", "write the parser")], [wait_agent()], args=("-c", override)
    )
    # the child really ran on the other model, from the other file
    models = colony.upstream.responses.models_seen()
    assert "cx-other" in models and "cx-builder" not in models
    (child,) = [s for s in colony.upstream.responses.seen if s.model == "cx-other"]
    assert "You are my own builder" in child.text and "write the parser" in child.text
    (worker,) = colony.subagents()
    assert worker["model"] == "cx-builder" and worker["verified"] is True  # what aether routed
    assert worker["resolved_model"] == "cx-other"  # SubagentStart's model: Codex's own word
    assert worker["model_used"] == "cx-other"  # the child's rollout
    assert worker["model_mismatch"] is True and worker["status"] == "completed"
    assert worker["tokens_out"] == child.usage["output_tokens"]
    mismatches = [
        e
        for e in colony.state()["events"]
        if e["type"] == "model_mismatch" and e["data"]["worker_id"] == worker["id"]
    ]
    # flagged at SubagentStart (Codex's model) and again at SubagentStop (the rollout)
    assert [e["message"].split(": ", 1)[1] for e in mismatches] == [
        "Codex started it on cx-other, assigned cx-builder",
        "its transcript shows cx-other, assigned cx-builder",
    ]
    assert [(e["data"]["reported"], e["data"]["assigned"]) for e in mismatches] == [
        (["cx-other"], "cx-builder")
    ] * 2
    assert {e["source"] for e in mismatches} == {"codex"}
    # and the colony's own reports say so
    listed = json.loads(run_aether("workers", "--json", env=colony.env).stdout)
    (row,) = [w for w in listed["workers"] if w["id"] == worker["id"]]
    assert row["model_mismatch"] is True and row["resolved_model"] == "cx-other"
    table = run_aether("workers", env=colony.env).stdout
    (line,) = [line for line in table.splitlines() if worker["id"] in line]
    assert "cx-builder" in line and "cx-other MISMATCH" in line
    status = json.loads(run_aether("status", "--json", env=colony.env).stdout)
    assert status["workers"]["model_mismatches"] == 1
    text = run_aether("status", env=colony.env).stdout
    assert "1 worker(s) reported a model different from the one assigned" in text


def test_multi_agent_v2_spawns_are_routed_and_an_edited_agent_file_denied(colony: Colony) -> None:
    """With ``[features] multi_agent_v2 = true`` Codex 0.171.0 offers ``collaboration.
    spawn_agent`` and its PreToolUse names the tool ``collaborationspawn_agent``, which a
    ``spawn_agent`` matcher does not match: such spawns went by aether's routing, and a builder
    file edited to another model ran on it, recorded from the file with no mismatch. aether's
    matcher names both: the spawn is routed (a keyword task to its carrier), and the edited file
    is denied as on the v1 path."""
    config = colony.codex_home / "config.toml"
    config.write_text(config.read_text() + "\n[features]\nmulti_agent_v2 = true\n")
    # the main model's next request waits: a v2 child is not waited for here
    slow = {"cx-main": 2.0}
    colony.run([spawn_agent_v2("aether-builder", "redesign the storage architecture")], delays=slow)
    assert sorted(colony.upstream.responses.models_seen()) == ["cx-main", "cx-main", "cx-other"]
    (worker,) = colony.subagents()
    assert worker["model"] == "cx-other" and worker["model_source"] == "task-routing"
    assert worker["runtime"]["agent_type"] == "aether--cx-other" and worker["verified"] is True
    assert worker["resolved_model"] == "cx-other" and worker["status"] == "completed"
    builder = colony.project / ".codex" / "agents" / "aether-builder.toml"
    builder.write_text(builder.read_text().replace('model = "cx-builder"', 'model = "cx-other"'))
    colony.run([spawn_agent_v2("aether-builder", "write the parser")], delays=slow)
    seen = colony.upstream.responses.seen
    assert [s.model for s in seen] == ["cx-main", "cx-main"]  # the child never reached a model
    assert "aether refused this spawn of aether-builder" in seen[1].text
    assert "runs on 'cx-other', not 'cx-builder'" in seen[1].text
    assert len(colony.subagents()) == 1  # nothing more recorded as spawned
    assert len([e for e in colony.state()["events"] if e["type"] == "spawn.denied"]) == 1


def test_an_unrouted_builder_on_an_edited_agent_file_is_flagged(colony: Colony) -> None:
    """aether's PreToolUse hook taken out of hooks.json (the others stay trusted) and the
    builder's agent file edited to cx-other: Codex runs the spawn unrouted, on cx-other. The
    worker is recorded UNVERIFIED on the model the profile gives its caste, and flagged — it
    was recorded on the edited file's model, with no mismatch."""
    hooks = colony.project / ".codex" / "hooks.json"
    doc = json.loads(hooks.read_text())
    del doc["hooks"]["PreToolUse"]
    hooks.write_text(json.dumps(doc))
    builder = colony.project / ".codex" / "agents" / "aether-builder.toml"
    builder.write_text(builder.read_text().replace('model = "cx-builder"', 'model = "cx-other"'))
    colony.run([spawn_agent("aether-builder", "write the parser")], [wait_agent()])
    models = colony.upstream.responses.models_seen()
    assert "cx-other" in models and "cx-builder" not in models
    (worker,) = colony.subagents()
    assert worker["verified"] is False and worker["runtime"]["tool_use_id"] is None
    assert worker["model"] == "cx-builder" and worker["resolved_model"] == "cx-other"
    assert worker["model_mismatch"] is True and worker["status"] == "completed"
    events = [e for e in colony.state()["events"] if e["type"] == "model_mismatch"]
    assert events and {e["data"]["worker_id"] for e in events} == {worker["id"]}
