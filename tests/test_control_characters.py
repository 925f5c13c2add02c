"""Terminal escapes and other control characters in user text are stored exactly and shown
visibly, never sent to a terminal or into HANDOFF.md raw."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunAether
from tests.helpers import clean_env, run_on_terminal

GOAL = "ship \x1b[31mred\x1b[0m \u202eevil\u202c and a bell\x07"
RAW = ("\x1b", "\x07", "\u202e", "\u202c")


def _colony(project: Path, run_aether: RunAether) -> None:
    assert run_aether("init", GOAL).returncode == 0
    assert (
        run_aether(
            "spawn", "--caste", "builder", "--no-proxy", "--task", "fix \x1b[2J it"
        ).returncode
        == 0
    )


def test_the_state_keeps_the_text_exactly(project: Path, run_aether: RunAether) -> None:
    _colony(project, run_aether)
    state = json.loads((project / ".aether" / "data" / "COLONY_STATE.json").read_text())
    assert state["goal"] == GOAL


def test_status_piped_shows_escapes_not_controls(project: Path, run_aether: RunAether) -> None:
    _colony(project, run_aether)
    out = run_aether("status").stdout
    assert "ship \\x1b[31mred\\x1b[0m \\u202eevil\\u202c and a bell\\x07" in out
    assert not any(ch in out for ch in RAW)


def test_status_on_a_terminal_shows_escapes_not_controls(
    project: Path, run_aether: RunAether
) -> None:
    _colony(project, run_aether)
    out = run_on_terminal(["status"], project, clean_env(TERM="dumb"))
    assert "\\x1b[31mred" in out and "\\u202eevil" in out
    assert "\x07" not in out and "\u202e" not in out


def test_handoff_prose_is_escaped_and_its_block_reads_back_exactly(
    project: Path, run_aether: RunAether
) -> None:
    _colony(project, run_aether)
    assert run_aether("pause", "--note", "stopped at \x1b[1mbold\x1b[0m").returncode == 0
    handoff = (project / ".aether" / "HANDOFF.md").read_text()
    assert not any(ch in handoff for ch in RAW)
    assert "stopped at \\x1b[1mbold\\x1b[0m" in handoff
    resumed = run_aether("resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["handoff"]["readable"] is True
    assert json.loads(resumed.stdout)["goal"] == GOAL


def test_hook_notes_show_model_names_from_claude_code_visibly(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """resolvedModel and a transcript's model names come from outside; a hook's note on stderr
    shows their control characters as escapes (they reached the terminal raw)."""
    profile = colony / ".aether" / "model-profiles.yaml"
    profile.write_text(profile.read_text().replace("proxy:\n", "proxy:\n  standalone: true\n"))
    assert run_aether("claude", "install").returncode == 0
    evil = "claude-\x1b[2J\u202eevil\x07"

    def hook(event: str, name: str, **fields: object) -> str:
        doc = {"session_id": "s-1", "cwd": "/", "hook_event_name": name, **fields}
        result = run_aether("hook", event, input=json.dumps(doc))
        assert result.returncode == 0, result.stderr
        return result.stderr

    spawn = {"subagent_type": "aether-builder", "description": "d", "prompt": "write it"}
    hook("pre-agent", "PreToolUse", tool_name="Agent", tool_input=spawn, tool_use_id="t1")
    hook("subagent-start", "SubagentStart", agent_id="a1", agent_type="aether-builder")
    response = {"status": "completed", "agentId": "a1", "resolvedModel": evil}
    noted = hook(
        "agent-result",
        "PostToolUse",
        tool_name="Agent",
        tool_use_id="t1",
        tool_input={"subagent_type": "aether-builder"},
        tool_response=response,
    )
    line = {"message": {"id": "m", "role": "assistant", "model": evil, "usage": {}}}
    transcript = tmp_path / "agent.jsonl"
    transcript.write_text(json.dumps(line) + "\n")
    noted += hook(
        "subagent-stop",
        "SubagentStop",
        agent_id="a1",
        agent_type="aether-builder",
        agent_transcript_path=str(transcript),
    )
    assert noted.count("claude-\\x1b[2J\\u202eevil\\x07") == 2, noted
    assert not any(ch in noted for ch in RAW)
