"""aether's Codex hooks without Codex: ``.codex/hooks.json`` merged and taken out, the launcher
``.codex/hooks/aether-hook``, ``aether hook --runtime codex`` fed measured inputs, doctor.

The real Codex binary runs them in tests/proxy/test_codex_hooks.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import RunAether
from tests.helpers import AETHER, assert_clean_error, clean_env
from tests.test_codex_setup import env, install, user_files

HOOKS = Path(".codex") / "hooks.json"
LAUNCHER = Path(".codex") / "hooks" / "aether-hook"
#: a user's own hooks file, in a layout aether would not write (4-space indent, no newline)
USER_HOOKS = (
    '{\n    "hooks": {\n        "PreToolUse": [\n            {\n'
    '                "matcher": "shell",\n'
    '                "hooks": [{"type": "command", "command": "./guard.sh"}]\n            }\n'
    '        ]\n    },\n    "note": "mine"\n}'
)


def aether_commands(doc: dict[str, Any]) -> dict[str, list[str]]:
    return {
        event: [h["command"] for g in groups for h in g["hooks"] if "aether-hook" in h["command"]]
        for event, groups in doc["hooks"].items()
    }


def test_install_merges_the_hooks_keeps_the_users_and_uninstall_restores_the_bytes(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    (colony / ".codex").mkdir()
    (colony / HOOKS).write_text(USER_HOOKS)
    first = install(run_aether, tmp_path)
    doc = json.loads((colony / HOOKS).read_text())
    launcher = f"{colony}/{LAUNCHER}"
    assert aether_commands(doc) == {
        "PreToolUse": [f"{launcher} pre-agent"],
        "SessionStart": [f"{launcher} session-start"],
        "SubagentStart": [f"{launcher} subagent-start"],
        "SubagentStop": [f"{launcher} subagent-stop"],
        "Stop": [f"{launcher} turn-end"],
        "SessionEnd": [f"{launcher} session-end"],
    }
    # the user's group comes first, untouched; aether's spawn hook matches the spawn only, as
    # Codex names it on its v1 and its multi_agent_v2 path
    assert doc["hooks"]["PreToolUse"][0] == json.loads(USER_HOOKS)["hooks"]["PreToolUse"][0]
    assert doc["hooks"]["PreToolUse"][1]["matcher"] == "spawn_agent|collaborationspawn_agent"
    assert doc["note"] == "mine"
    assert os.access(colony / LAUNCHER, os.X_OK)
    # the trust lines name the hooks where they are: the user's group is index 0
    assert f"{colony}/.codex/hooks.json:pre_tool_use:1:0" in first["trust_block"]
    before = user_files(colony)
    second = install(run_aether, tmp_path)
    assert second["changed"] is False and user_files(colony) == before
    removed = run_aether("codex", "uninstall", env=env(tmp_path))
    assert removed.returncode == 0, removed.stderr
    assert "Took aether's hooks out of .codex/hooks.json" in removed.stdout
    assert (colony / HOOKS).read_text() == USER_HOOKS  # byte for byte
    assert not (colony / LAUNCHER).exists() and not (colony / ".codex" / "hooks").exists()
    assert sorted(p.name for p in (colony / ".codex").iterdir()) == ["hooks.json"]


def test_a_hooks_file_aether_created_goes_and_one_edited_since_keeps_the_users_part(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    install(run_aether, tmp_path)
    doc = json.loads((colony / HOOKS).read_text())
    doc["hooks"]["Stop"].insert(0, {"hooks": [{"type": "command", "command": "./after.sh"}]})
    (colony / HOOKS).write_text(json.dumps(doc))
    assert run_aether("codex", "uninstall", env=env(tmp_path)).returncode == 0
    left = json.loads((colony / HOOKS).read_text())
    assert left == {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "./after.sh"}]}]}}
    (colony / HOOKS).unlink()
    install(run_aether, tmp_path)
    assert run_aether("codex", "uninstall", env=env(tmp_path)).returncode == 0
    # .codex/ was there before this install: it stays, empty (the file aether created went)
    assert list((colony / ".codex").iterdir()) == []


def test_a_malformed_hooks_file_is_refused_in_one_line_and_nothing_is_written(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    (colony / ".codex").mkdir()
    for text, says in [
        ('{"hooks": ', "not valid JSON"),
        ('{"hooks": []}', "'hooks' is not an object"),
        ('{"hooks": {"Stop": {}}}', "'hooks.Stop' is not a list"),
        ('{"a": 1, "a": 2}', "the key 'a' appears twice"),
    ]:
        (colony / HOOKS).write_text(text)
        before = user_files(colony)
        result = run_aether("codex", "install", env=env(tmp_path))
        assert_clean_error(result, 80)
        assert says in result.stderr and "nothing was written" in result.stderr, result.stderr
        assert user_files(colony) == before
        assert not (colony / ".aether" / "codex-install.json").exists()


# --- the launcher ------------------------------------------------------------------------------


def _launch(
    colony: Path, event: str, payload: dict[str, Any] | str, **extra: str
) -> subprocess.CompletedProcess[str]:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(colony), **extra}
    return subprocess.run(
        ["/bin/sh", str(colony / LAUNCHER), event],
        input=data,
        capture_output=True,
        text=True,
        env=environment,
        cwd="/",
        timeout=60,
    )


def _spawn(agent_type: str) -> dict[str, Any]:
    return {
        "hook_event_name": "PreToolUse",
        "session_id": "s-1",
        "cwd": "/",
        "tool_name": "spawn_agent",
        "tool_input": {"agent_type": agent_type, "message": "write the parser"},
    }


def test_the_launcher_refuses_an_aether_spawn_it_cannot_route_and_lets_the_rest_be(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    install(run_aether, tmp_path)
    missing = _launch(colony, "pre-agent", _spawn("aether-builder"))  # no aether on PATH
    assert missing.returncode == 2 and missing.stdout == ""
    assert "the aether command was not found" in missing.stderr
    assert "could not be routed: not started" in missing.stderr
    other = _launch(colony, "pre-agent", _spawn("explorer"))  # not aether's: passes untouched
    assert (other.returncode, other.stdout, other.stderr) == (0, "", "")
    start = _launch(colony, "session-start", {"hook_event_name": "SessionStart"})
    assert start.returncode == 0 and "aether command was not found" in start.stderr
    failing = tmp_path / "failing-aether"
    failing.write_text("#!/bin/sh\necho 'boom' >&2\nexit 3\n")
    failing.chmod(0o755)
    broke = _launch(colony, "pre-agent", _spawn("aether-builder"), AETHER_BIN=str(failing))
    assert broke.returncode == 2 and f"{failing} exited 3 (boom)" in broke.stderr
    broke = _launch(colony, "subagent-stop", _spawn("aether-builder"), AETHER_BIN=str(failing))
    assert broke.returncode == 0 and f"{failing} exited 3 (boom)" in broke.stderr
    which = subprocess.run(
        ["/bin/sh", str(colony / LAUNCHER), "--which"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "AETHER_BIN": AETHER},
        timeout=30,
    )
    assert which.stdout.strip() == AETHER


def test_the_launcher_runs_aether_from_its_project_and_session_start_briefs(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    install(run_aether, tmp_path)
    payload = {
        "hook_event_name": "SessionStart",
        "session_id": "s-1",
        "cwd": str(colony),
        "source": "startup",
        "model": "cx-main",
    }
    # run from "/": the launcher finds the colony of the project it belongs to
    done = _launch(colony, "session-start", payload, AETHER_BIN=AETHER, AETHER_SERVER="off")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)["hookSpecificOutput"]
    assert answer["hookEventName"] == "SessionStart"
    assert "Goal: Test colony goal" in answer["additionalContext"]
    state = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())
    (session,) = [w for w in state["workers"] if w["runtime"]["role"] == "main"]
    assert session["runtime"]["kind"] == "codex" and session["runtime"]["session_id"] == "s-1"


# --- aether hook --runtime codex ----------------------------------------------------------------


def _hook(run_aether: RunAether, event: str, payload: dict[str, Any]) -> Any:
    result = run_aether(
        "hook", event, "--runtime", "codex", "--json", input=json.dumps(payload), env=clean_env()
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_subagent_start_flags_a_model_other_than_the_assigned_one(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """The builder's agent file names claude-sonnet-4-5; Codex's SubagentStart says the child
    runs on kimi-k2.5 (an input as Codex 0.171.0 writes it): flagged."""
    install(run_aether, tmp_path)
    base = {"session_id": "s-1", "cwd": str(colony), "agent_id": "t-1"}
    start = {**base, "hook_event_name": "SubagentStart", "agent_type": "aether-builder"}
    out = _hook(run_aether, "subagent-start", {**start, "model": "kimi-k2.5"})
    assert any("Codex started it on kimi-k2.5" in n for n in out["notes"])
    state = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())
    (worker,) = [w for w in state["workers"] if w["id"] == out["worker_id"]]
    assert worker["model"] == "claude-sonnet-4-5" and worker["resolved_model"] == "kimi-k2.5"
    assert worker["model_mismatch"] is True and worker["runtime"]["kind"] == "codex"
    assert any(e["type"] == "model_mismatch" for e in state["events"])


def test_turn_end_writes_the_handoff_without_an_event_and_session_end_pauses(
    colony: Path, run_aether: RunAether
) -> None:
    base = {"session_id": "s-1", "cwd": str(colony), "model": "cx-main"}
    _hook(run_aether, "session-start", {**base, "hook_event_name": "SessionStart"})
    handoff = colony / ".aether" / "HANDOFF.md"
    handoff.unlink(missing_ok=True)
    events = len(
        json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())["events"]
    )
    _hook(
        run_aether, "turn-end", {**base, "hook_event_name": "Stop", "last_assistant_message": "x"}
    )
    state = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())
    assert handoff.is_file() and state["status"] == "active" and len(state["events"]) == events
    _hook(run_aether, "session-end", {**base, "hook_event_name": "SessionEnd", "reason": "other"})
    state = json.loads((colony / ".aether" / "data" / "COLONY_STATE.json").read_text())
    assert state["status"] == "paused" and "Codex session s-1 ended" in handoff.read_text()


def test_an_event_codex_has_no_hook_for_is_one_line(run_aether: RunAether, colony: Path) -> None:
    result = run_aether("hook", "agent-result", "--runtime", "codex", input="{}")
    assert result.returncode == 0 and "unknown hook event 'agent-result' for codex" in result.stderr


def test_doctor_reports_the_codex_hooks_untrusted_then_trusted(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    first = install(run_aether, tmp_path)
    environment = env(tmp_path, AETHER_BIN=AETHER)

    def checks() -> dict[str, Any]:
        out = run_aether("doctor", "--no-proxy", "--json", env=environment)
        return {c["check"]: c for c in json.loads(out.stdout)["checks"]}

    config = tmp_path / "codex-home" / "config.toml"
    config.parent.mkdir()
    config.write_text(first["provider_block"])
    found = checks()
    assert found["codex"]["level"] == "ok"
    assert found["codex hook trust"]["level"] == "warning"
    assert len(found["codex hook trust"]["untrusted"]) == 6
    assert found["codex hooks"]["level"] == "ok" and found["codex hooks"]["aether"] == AETHER
    config.write_text(first["provider_block"] + "\n" + first["trust_block"])
    assert checks()["codex hook trust"]["level"] == "ok"


def test_the_trust_hash_is_the_one_codex_lists() -> None:
    """``currentHash`` values Codex 0.171.0's app-server (``hooks/list``) gave for these
    handlers (the real-binary check is tests/proxy/test_codex_hooks.py)."""
    from aether.runtimes.codex.hooks import trust_hash

    measured: list[tuple[str, str | None, dict[str, Any], str]] = [
        ("PreToolUse", "spawn_agent", {"type": "command", "command": "echo pre"}, "798b190b"),
        (
            "SessionStart",
            None,
            {"type": "command", "command": "echo hi", "timeout": 30},
            "59cef8dd",
        ),
        # SessionEnd: Codex lists 3 s for a timeout of 30 or 5, and 1 s for none
        ("SessionEnd", None, {"type": "command", "command": "echo a", "timeout": 30}, "05cfbaf3"),
        ("SessionEnd", None, {"type": "command", "command": "echo b", "timeout": 5}, "7fdcfde7"),
        ("SessionEnd", None, {"type": "command", "command": "echo c"}, "9d8a250c"),
    ]
    for event, matcher, handler, prefix in measured:
        assert trust_hash(event, matcher, handler).startswith(f"sha256:{prefix}"), handler


def test_the_briefing_and_the_handoff_say_how_codex_spawns_and_re_runs_a_worker(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """A Codex main model spawns with ``spawn_agent`` and ``agent_type``, and a re-run names
    the worker it replaces in its ``message`` (what pre-agent reads as the task): the briefing
    and HANDOFF.md say so, not Claude Code's Agent tool and ``subagent_type``."""
    install(run_aether, tmp_path)
    first = {"session_id": "s-1", "cwd": str(colony), "model": "cx-main"}
    opened = _hook(run_aether, "session-start", {**first, "hook_event_name": "SessionStart"})
    briefing = opened["text"]
    assert 'Spawn aether workers with the spawn_agent tool, agent_type "aether-<caste>"' in briefing
    assert "subagent_type" not in briefing and "Agent tool" not in briefing
    start = {**first, "hook_event_name": "SubagentStart", "agent_id": "t-1"}
    _hook(run_aether, "subagent-start", {**start, "agent_type": "aether-builder"})
    _hook(run_aether, "session-end", {**first, "hook_event_name": "SessionEnd", "reason": "other"})
    handoff = (colony / ".aether" / "HANDOFF.md").read_text()
    assert "1. Start Codex in the project" in handoff
    assert (
        "a Codex subagent by spawning it again with the spawn_agent tool (its message saying "
        '"replaces ID")' in handoff
    )
    assert "Claude Code" not in handoff and "Agent tool" not in handoff
    second = {**first, "session_id": "s-2", "hook_event_name": "SessionStart"}
    briefing = _hook(run_aether, "session-start", second)["text"]
    assert 're-run one with the spawn_agent tool (message saying "replaces <id>")' in briefing
    assert "Agent tool" not in briefing


def test_the_handoff_of_a_colony_both_runtimes_worked_in_names_both(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """A Claude Code session and a Codex session in the same colony: HANDOFF.md says to start
    either, and how each re-runs a worker; not "any directory of it", which only Claude Code's
    sessions are known to reach."""
    install(run_aether, tmp_path)
    claude = {"session_id": "c-1", "cwd": str(colony), "hook_event_name": "SessionStart"}
    started = run_aether("hook", "session-start", input=json.dumps(claude), env=clean_env())
    assert started.returncode == 0, started.stderr
    codex = {"session_id": "x-1", "cwd": str(colony), "model": "cx-main"}
    _hook(run_aether, "session-start", {**codex, "hook_event_name": "SessionStart"})
    start = {**codex, "hook_event_name": "SubagentStart", "agent_id": "t-1"}
    _hook(run_aether, "subagent-start", {**start, "agent_type": "aether-builder"})
    assert run_aether("pause").returncode == 0
    handoff = (colony / ".aether" / "HANDOFF.md").read_text()
    assert "start Claude Code or Codex in the project: its session-start hook" in handoff
    assert "1. Start Claude Code or Codex in the project" in handoff
    assert (
        "a Claude Code subagent by spawning it again with the Agent tool (its description saying "
        '"replaces ID"), a Codex subagent by spawning it again with the spawn_agent tool (its '
        'message saying "replaces ID"), others with' in handoff
    )
    assert "any directory of it" not in handoff
