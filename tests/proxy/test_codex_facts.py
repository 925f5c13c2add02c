"""The facts about the Codex CLI that aether builds on (docs/codex.md, "Measured facts"), kept
true by running the REAL pinned Codex binary through the real LiteLLM proxy to the scripted
Responses upstream. The upstream's record of which model each request named is the evidence;
the hooks' stdin is logged by a small command hook.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.proxy.codex import (
    EXEC_ARGS,
    CodexRun,
    codex_env,
    run_codex,
    write_agent,
    write_config,
    write_hooks,
)
from tests.proxy.conftest import MASTER_KEY, RunningProxy
from tests.proxy.responses import ResponsesScript, spawn_agent, wait_agent
from tests.proxy.upstream import Upstream

pytestmark = pytest.mark.proxy

EVENTS = ["SessionStart", "PreToolUse", "SubagentStart", "SubagentStop", "Stop", "SessionEnd"]
BYPASS = "--dangerously-bypass-hook-trust"
#: a hook that logs its event's stdin; for PreToolUse it denies as $DENY says (exit2 or json)
HOOK = """\
import json, os, sys
event = json.loads(sys.stdin.read() or "null")
with open(os.environ["HOOK_LOG"], "a") as log:
    log.write(json.dumps(event) + "\\n")
deny = os.environ.get("DENY", "")
if event and event.get("hook_event_name") == "PreToolUse" and deny == "exit2":
    sys.stderr.write("aether: builders may not spawn\\n")
    sys.exit(2)
if event and event.get("hook_event_name") == "PreToolUse" and deny == "json":
    out = {"permissionDecision": "deny", "permissionDecisionReason": "aether: json says no"}
    print(json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse", **out}}))
"""


class Rig:
    def __init__(self, root: Path, proxy: RunningProxy, upstream: Upstream) -> None:
        self.project = root / "project"
        self.project.mkdir()
        self.codex_home = root / "codex-home"
        self.home = root / "home"
        self.home.mkdir()
        self.log = root / "hooks.log"
        self.proxy = proxy
        self.upstream = upstream
        hook = root / "hook.py"
        hook.write_text(HOOK)
        write_agent(self.project, "aether-scout", "cx-scout")
        groups: dict[str, list[dict[str, Any]]] = {}
        for event in EVENTS:
            group: dict[str, Any] = {
                "hooks": [{"type": "command", "command": f"{sys.executable} {hook}"}]
            }
            if event == "PreToolUse":
                group["matcher"] = "*"
            groups[event] = [group]
        write_hooks(self.project, groups)

    def run(self, *flags: str, trusted: bool = True, deny: str = "") -> CodexRun:
        trust = (self.project,) if trusted else ()
        write_config(self.codex_home, self.proxy.url, "cx-main", trusted=trust)
        env = codex_env(self.home, self.codex_home, MASTER_KEY, HOOK_LOG=str(self.log), DENY=deny)
        run = run_codex(self.project, env, "delegate the scouting", args=[*EXEC_ARGS, *flags])
        assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-3000:])
        return run

    def hooks(self, event: str) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [e for e in lines if e and e.get("hook_event_name") == event]


@pytest.fixture
def rig(tmp_path: Path, litellm_proxy: RunningProxy, upstream: Upstream) -> Rig:
    upstream.responses.reset(
        ResponsesScript(turns=[[spawn_agent("aether-scout", "map the module")], [wait_agent()]])
    )
    return Rig(tmp_path, litellm_proxy, upstream)


def test_a_spawned_agent_runs_on_its_files_model_and_the_hooks_say_so(rig: Rig) -> None:
    run = rig.run(BYPASS)
    # the child's request and the main model's next one come in no fixed order
    assert sorted(rig.upstream.responses.models_seen()) == ["cx-main"] * 3 + ["cx-scout"]
    (pre,) = [e for e in rig.hooks("PreToolUse") if e["tool_name"] == "spawn_agent"]
    assert pre["tool_input"] == {"agent_type": "aether-scout", "message": "map the module"}
    assert pre["model"] == "cx-main" and pre["tool_use_id"]
    (start,) = rig.hooks("SubagentStart")
    assert start["model"] == "cx-scout" and start["agent_type"] == "aether-scout"
    (stop,) = rig.hooks("SubagentStop")
    assert stop["model"] == "cx-scout" and stop["agent_id"] == start["agent_id"]
    assert stop["last_assistant_message"] == "worker finished the task (cx-scout)"
    assert Path(stop["agent_transcript_path"]).is_file()  # the child's rollout
    assert stop["agent_transcript_path"].endswith(f"-{start['agent_id']}.jsonl")
    # the other tools of the namespace come with its name glued on
    assert {e["tool_name"] for e in rig.hooks("PreToolUse")} == {
        "spawn_agent",
        "multi_agent_v1wait_agent",
    }
    (session_start,) = rig.hooks("SessionStart")
    (session_end,) = rig.hooks("SessionEnd")  # there is one, at the end of `codex exec`
    assert session_end["session_id"] == session_start["session_id"]
    assert len(rig.hooks("Stop")) == 1
    (spawned,) = [i for i in run.items("collab_tool_call") if i["tool"] == "spawn_agent"]
    assert spawned["receiver_thread_ids"] == [start["agent_id"]]


@pytest.mark.parametrize(
    ("deny", "reason"),
    [("exit2", "aether: builders may not spawn"), ("json", "aether: json says no")],
)
def test_a_pre_tool_use_denial_stops_the_child_before_it_reaches_a_model(
    rig: Rig, deny: str, reason: str
) -> None:
    rig.run(BYPASS, deny=deny)
    seen = rig.upstream.responses.seen
    assert [s.model for s in seen] == ["cx-main"] * 3  # cx-scout was never asked
    assert f"Tool call blocked by PreToolUse hook: {reason}. Tool: spawn_agent" in seen[1].text
    assert rig.hooks("SubagentStart") == [] and rig.hooks("SubagentStop") == []


def test_hooks_need_the_bypass_flag_and_agents_and_hooks_need_a_trusted_project(
    rig: Rig,
) -> None:
    rig.run()  # trusted, no bypass: the agent file is read, no hook runs
    assert "cx-scout" in rig.upstream.responses.models_seen()
    assert not rig.log.exists()
    rig.upstream.responses.reset(
        ResponsesScript(turns=[[spawn_agent("aether-scout", "map the module")]])
    )
    run = rig.run(BYPASS, trusted=False)  # untrusted: .codex/ is not read at all
    assert rig.upstream.responses.models_seen() == ["cx-main", "cx-main"]
    assert "unknown agent_type 'aether-scout'" in rig.upstream.responses.seen[1].text
    assert "Untrusted project-local configuration is disabled" in run.stderr
    assert not rig.log.exists()


def test_spawn_agents_model_override_accepts_only_codexs_own_catalog(rig: Rig) -> None:
    rig.upstream.responses.reset(
        ResponsesScript(turns=[[spawn_agent("aether-scout", "map it", model="cx-other")]])
    )
    rig.run(BYPASS)
    assert "cx-other" not in rig.upstream.responses.models_seen()
    assert "Unknown model `cx-other` for spawn_agent" in rig.upstream.responses.seen[1].text
