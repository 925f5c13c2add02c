"""``aether hook EVENT`` without the real client (docs/claude-code.md): hook inputs written by the
tests in the shape Claude Code 2.1.328 sends them (docs/claude-code.md), run through the
installed ``aether``. The same hooks under the real Claude Code: tests/proxy/test_claude_code.py.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.helpers import (
    clean_env,
    one_hook_line,
    run_standalone,
    session_records,
    state_of,
    subagent_records,
    wait_for,
)
from tests.lock_scripts import HOLDER, start_script

HOOKS = [
    "pre-agent",
    "subagent-start",
    "agent-result",
    "subagent-stop",
    "session-start",
    "pre-compact",
    "session-end",
]
SESSION = "9f1c0e2a-0000-4000-8000-00000000cafe"


def hook_input(event: str, **fields: Any) -> str:
    return json.dumps(
        {
            "session_id": SESSION,
            "transcript_path": "/nonexistent/session.jsonl",
            "cwd": "/",
            "hook_event_name": event,
            **fields,
        }
    )


def agent_input(subagent_type: str, prompt: str, tool_use_id: str, **extra: Any) -> str:
    tool_input = {"description": "a task", "prompt": prompt, "subagent_type": subagent_type}
    return hook_input(
        "PreToolUse",
        tool_name="Agent",
        tool_input={**tool_input, **extra},
        tool_use_id=tool_use_id,
    )


def run_hook(
    run_aether: RunAether, event: str, stdin: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_aether("hook", event, input=stdin, env=env)


def state_bytes(project: Path) -> bytes:
    return (project / ".aether" / "data" / "COLONY_STATE.json").read_bytes()


@pytest.fixture
def installed(colony: Path, run_aether: RunAether) -> Path:
    """A colony set up for Claude Code whose profile runs standalone (no proxy to verify
    through), so routing and recording can be tested without one."""
    run_standalone(colony)
    result = run_aether("claude", "install")
    assert result.returncode == 0, result.stderr
    return colony


@pytest.mark.parametrize("event", HOOKS)
@pytest.mark.parametrize("stdin", ["not json", "[1]", ""], ids=["garbage", "array", "empty"])
def test_bad_input_exits_0_with_one_line_and_changes_nothing(
    installed: Path, run_aether: RunAether, event: str, stdin: str
) -> None:
    before = state_bytes(installed)
    one_hook_line(run_hook(run_aether, event, stdin), event)
    assert state_bytes(installed) == before
    log = (installed / ".aether" / "activity.log").read_text().splitlines()
    assert json.loads(log[-1])["event"] == "hook_problem"


@pytest.mark.parametrize("event", HOOKS)
def test_no_colony_exits_0_with_one_line(project: Path, run_aether: RunAether, event: str) -> None:
    line = one_hook_line(run_hook(run_aether, event, hook_input("SessionStart")), event)
    assert "no colony" in line


def test_hook_input_nested_deeper_than_the_parser_goes_is_one_clear_line(
    installed: Path, run_aether: RunAether
) -> None:
    line = one_hook_line(run_hook(run_aether, "pre-agent", "[" * 100_000), "pre-agent")
    assert "nests arrays or objects deeper" in line and "internal error" not in line


def test_an_unknown_event_exits_0_with_one_line(installed: Path, run_aether: RunAether) -> None:
    assert "unknown hook event" in one_hook_line(run_hook(run_aether, "pre-tool", "{}"), "pre-tool")


def test_a_held_lock_delays_a_hook_by_its_bound_only_and_loses_nothing(
    installed: Path, run_aether: RunAether
) -> None:
    holder, _ = start_script(HOLDER, installed, clean_env())
    try:
        before = state_bytes(installed)
        start = time.monotonic()
        result = run_hook(
            run_aether,
            "subagent-start",
            hook_input("SubagentStart", agent_id="a1", agent_type="aether-builder"),
            env=clean_env(AETHER_LOCK_TIMEOUT="0.5"),
        )
        assert "locked" in one_hook_line(result, "subagent-start")
        # AETHER_LOCK_TIMEOUT is honoured (the hooks' own default is 3 s)
        assert time.monotonic() - start < 2.5
        start = time.monotonic()
        ended = run_hook(run_aether, "session-end", hook_input("SessionEnd", reason="other"))
        one_hook_line(ended, "session-end")
        # Claude Code gives SessionEnd hooks ~1.5 s in all; the lock wait is capped below that
        assert time.monotonic() - start < 1.5 + 0.6
        assert state_bytes(installed) == before
    finally:
        holder.kill()
        holder.wait()


def test_a_subagent_type_that_is_not_aethers_passes_untouched(
    installed: Path, run_aether: RunAether
) -> None:
    (installed / ".claude" / "agents" / "aether-mine.md").write_text("---\nname: mine\n---\n")
    before = state_bytes(installed)
    for kind in ("general-purpose", "Explore", "aether-mine", "aether-"):
        result = run_hook(run_aether, "pre-agent", agent_input(kind, "fix the typo", "t1"))
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert state_bytes(installed) == before


def _answer(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)["hookSpecificOutput"]
    return answer


def test_pre_agent_routes_by_the_task_and_records_the_worker(
    installed: Path, run_aether: RunAether
) -> None:
    result = run_hook(
        run_aether,
        "pre-agent",
        agent_input("aether-builder", "fix the typo in the README", "toolu_1", model="opus"),
    )
    answer = _answer(result)
    assert answer["permissionDecision"] == "allow"
    updated = answer["updatedInput"]
    # quick-fix (a typo): the carrier of claude-haiku-4-5, the builder's role first in the task
    assert updated["subagent_type"] == "aether--claude-haiku-4-5"
    assert "model" not in updated
    assert updated["prompt"].startswith("You are a builder worker of an aether colony, running on")
    assert updated["prompt"].endswith("\nYour task:\nfix the typo in the README")
    assert "UNVERIFIED" in answer["permissionDecisionReason"]  # a standalone profile
    (worker,) = subagent_records(state_of(installed))
    assert worker["model"] == "claude-haiku-4-5" and worker["model_source"] == "task-routing"
    assert worker["status"] == "spawned" and worker["verified"] is False
    assert worker["runtime"] == {
        "kind": "claude-code",
        "session_id": SESSION,
        "tool_use_id": "toolu_1",
        "agent_id": None,
        "agent_type": "aether--claude-haiku-4-5",
        "requested_type": "aether-builder",
    }


def test_pre_agent_denies_a_carrier_asked_for_by_name(
    installed: Path, run_aether: RunAether
) -> None:
    """A carrier runs whatever caste aether routes to its model: asked for directly, its caste
    is unknown, so the spawn is denied with the name to ask for instead."""
    result = run_hook(
        run_aether, "pre-agent", agent_input("aether--claude-opus-4-5", "fix a typo", "t1")
    )
    answer = _answer(result)
    assert answer["permissionDecision"] == "deny"
    assert "aether-builder" in answer["permissionDecisionReason"]
    assert subagent_records(state_of(installed)) == []


def test_pre_agent_denies_when_the_routed_definition_is_missing(
    installed: Path, run_aether: RunAether
) -> None:
    (installed / ".claude" / "agents" / "aether--claude-haiku-4-5.md").unlink()
    result = run_hook(run_aether, "pre-agent", agent_input("aether-builder", "fix a typo", "t1"))
    answer = _answer(result)
    assert answer["permissionDecision"] == "deny"
    assert "aether claude install" in answer["permissionDecisionReason"]
    assert subagent_records(state_of(installed)) == []


def test_pre_agent_denies_a_caste_the_profile_no_longer_has(
    installed: Path, run_aether: RunAether
) -> None:
    profile = installed / ".aether" / "model-profiles.yaml"
    profile.write_text(
        "\n".join(line for line in profile.read_text().splitlines() if "  chaos:" not in line)
    )
    answer = _answer(run_hook(run_aether, "pre-agent", agent_input("aether-chaos", "x", "t1")))
    assert answer["permissionDecision"] == "deny" and "chaos" in answer["permissionDecisionReason"]


def transcript(path: Path, models: list[tuple[str, str, int, int]]) -> Path:
    """A subagent transcript: one user line, then (message id, model, in, out) per assistant
    line — a message streamed in two blocks is two lines with one id and one usage."""
    lines = [json.dumps({"type": "user", "message": {"role": "user", "content": "go"}})]
    for ident, model, tokens_in, tokens_out in models:
        message = {
            "id": ident,
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "done"}],
            "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
        }
        lines.append(json.dumps({"type": "assistant", "message": message}))
    lines.append("not json at all")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_subagents_life_is_recorded_and_a_swapped_start_is_corrected(
    installed: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    # two parallel spawns of one definition; Claude Code starts them in the other order
    for tool_use_id in ("toolu_A", "toolu_B"):
        result = run_hook(
            run_aether, "pre-agent", agent_input("aether-builder", "write the lexer", tool_use_id)
        )
        assert _answer(result)["permissionDecision"] == "allow"
    for agent_id in ("agent_1", "agent_2"):  # FIFO: toolu_A <- agent_1, toolu_B <- agent_2
        started = run_hook(
            run_aether,
            "subagent-start",
            hook_input("SubagentStart", agent_id=agent_id, agent_type="aether-builder"),
        )
        assert started.returncode == 0 and started.stderr == ""
    # ... but toolu_A's result names agent_2, and its model is another one
    result = run_hook(
        run_aether,
        "agent-result",
        hook_input(
            "PostToolUse",
            tool_name="Agent",
            tool_use_id="toolu_A",
            tool_input={"subagent_type": "aether-builder"},
            tool_response={
                "status": "async_launched",
                "agentId": "agent_2",
                "resolvedModel": "claude-haiku-4-5",
            },
        ),
    )
    context = json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]
    assert "routing did not hold" in context and "claude-haiku-4-5" in context
    path = transcript(
        tmp_path / "agent-2.jsonl",
        [
            ("msg_1", "claude-sonnet-4-5", 100, 5),
            ("msg_1", "claude-sonnet-4-5", 100, 5),  # the same message, a second block
            ("msg_2", "claude-sonnet-4-5-20250929", 40, 7),  # a dated release: same model
        ],
    )
    stopped = run_hook(
        run_aether,
        "subagent-stop",
        hook_input(
            "SubagentStop",
            agent_id="agent_2",
            agent_type="aether-builder",
            agent_transcript_path=str(path),
        ),
    )
    assert stopped.returncode == 0, stopped.stderr
    workers = {w["runtime"]["tool_use_id"]: w for w in subagent_records(state_of(installed))}
    a, b = workers["toolu_A"], workers["toolu_B"]
    assert a["runtime"]["agent_id"] == "agent_2" and b["runtime"]["agent_id"] == "agent_1"
    assert a["status"] == "completed" and b["status"] == "running"
    assert a["tokens_in"] == 140 and a["tokens_out"] == 12
    assert a["usage_by_model"] == {
        "claude-sonnet-4-5": {
            "tokens_in": 140,
            "tokens_out": 12,
            "input_tokens": 140,
            "cache_read_tokens": 0,
            "cache_creation_tokens": 0,
            "messages": 2,
        }
    }
    assert a["resolved_model"] == "claude-haiku-4-5" and a["model_mismatch"] is True
    assert b["model_mismatch"] is False
    costs = json.loads(run_aether("costs", "--json").stdout)
    assert costs["by_model"]["claude-sonnet-4-5"]["tokens_in"] == 140


def test_an_aether_subagent_nobody_routed_is_recorded_from_its_definition(
    installed: Path, run_aether: RunAether
) -> None:
    started = run_hook(
        run_aether,
        "subagent-start",
        hook_input("SubagentStart", agent_id="agent_9", agent_type="aether-scout"),
    )
    assert started.returncode == 0, started.stderr
    (worker,) = subagent_records(state_of(installed))
    assert worker["caste"] == "scout" and worker["model"] == "claude-haiku-4-5"
    assert worker["model_source"] == "definition" and worker["status"] == "running"
    assert worker["verified"] is False


def test_session_end_pauses_and_session_start_resumes_with_a_briefing(
    installed: Path, run_aether: RunAether
) -> None:
    assert run_aether("memory", "add", "learning", "the parser must accept tabs").returncode == 0
    ended = run_hook(run_aether, "session-end", hook_input("SessionEnd", reason="logout"))
    assert (ended.returncode, ended.stderr) == (0, "")
    assert state_of(installed)["status"] == "paused"
    handoff = (installed / ".aether" / "HANDOFF.md").read_text()
    assert "ended (logout)" in handoff
    started = run_hook(run_aether, "session-start", hook_input("SessionStart", source="startup"))
    assert started.returncode == 0, started.stderr
    briefing = started.stdout
    assert "Goal: Test colony goal" in briefing and "Resumed by aether" in briefing
    assert "the parser must accept tabs" in briefing and '"aether-<caste>"' in briefing
    assert len(briefing) <= 6000
    assert state_of(installed)["status"] == "active"
    assert not (installed / ".aether" / "HANDOFF.md").exists()  # moved to history


def test_session_start_on_an_active_colony_briefs_without_resuming(
    installed: Path, run_aether: RunAether
) -> None:
    before = state_of(installed)
    started = run_hook(run_aether, "session-start", hook_input("SessionStart", source="compact"))
    assert "Goal: Test colony goal" in started.stdout and "Resumed" not in started.stdout
    after = state_of(installed)
    # joined, not resumed: the same colony session, with this agent session registered
    assert after["session"] == before["session"] and after["status"] == "active"
    (session,) = session_records(after)
    assert session["status"] == "running" and session["runtime"]["session_id"] == SESSION
    assert subagent_records(after) == []


def test_pre_compact_writes_a_checkpoint_handoff_without_pausing(
    installed: Path, run_aether: RunAether
) -> None:
    result = run_hook(run_aether, "pre-compact", hook_input("PreCompact", trigger="auto"))
    assert (result.returncode, result.stderr) == (0, "")
    state = state_of(installed)
    assert state["status"] == "active"
    handoff = (installed / ".aether" / "HANDOFF.md").read_text()
    assert "Checkpoint" in handoff and "aether resume --force" in handoff
    assert f'"serial": {state["serial"]}' in handoff


def test_session_hooks_inside_an_aether_worker_leave_the_colony_alone(
    installed: Path, run_aether: RunAether
) -> None:
    before = state_bytes(installed)
    env = clean_env(AETHER_WORKER_ID="w-builder-1")
    for event, name in (("session-end", "SessionEnd"), ("pre-compact", "PreCompact")):
        result = run_hook(run_aether, event, hook_input(name), env=env)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert state_bytes(installed) == before
    assert not (installed / ".aether" / "HANDOFF.md").exists()


def test_a_hook_is_served_by_aether_serve_with_its_stdin(
    installed: Path, run_aether_process: RunAether
) -> None:
    from tests.helpers import AETHER

    env = clean_env()
    server = subprocess.Popen(
        [AETHER, "serve", "--idle-timeout", "60"],
        cwd=installed,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        assert "serving" in server.stderr.readline()
        result = run_hook(
            run_aether_process, "pre-agent", agent_input("aether-scout", "find it", "t9")
        )
        assert _answer(result)["updatedInput"]["subagent_type"] == "aether-scout"
        # the server writes the record right after its answer (before its next job)
        wait_for(lambda: len(subagent_records(state_of(installed))) == 1, "the spawn's record")
        (worker,) = subagent_records(state_of(installed))
        assert worker["runtime"]["tool_use_id"] == "t9"
        # the record was written by the server process, not by the hook's own
        holder = installed / ".aether" / "data" / "COLONY_STATE.json.lock.holder"
        assert json.loads(holder.read_text())["pid"] == server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_transcript_path_that_is_not_a_regular_file_never_makes_the_hook_wait(
    installed: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    import os

    fifo = tmp_path / "agent.jsonl"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    start = time.monotonic()
    result = run_hook(
        run_aether,
        "subagent-stop",
        hook_input(
            "SubagentStop",
            agent_id="a7",
            agent_type="aether-scout",
            agent_transcript_path=str(fifo),
        ),
    )
    assert "transcript not read" in one_hook_line(result, "subagent-stop")
    assert time.monotonic() - start < 10
    (worker,) = subagent_records(state_of(installed))
    assert worker["status"] == "completed" and worker["tokens_in"] is None


def test_a_swap_found_after_the_subagent_stopped_moves_its_tokens_and_mismatch(
    installed: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """The foreground order: SubagentStop before PostToolUse. What agent_2's transcript said
    was recorded on toolu_B's worker; toolu_A's result then shows it was toolu_A's."""
    for tool_use_id in ("toolu_A", "toolu_B"):
        run_hook(run_aether, "pre-agent", agent_input("aether-builder", "write it", tool_use_id))
    for agent_id in ("agent_1", "agent_2"):
        run_hook(
            run_aether,
            "subagent-start",
            hook_input("SubagentStart", agent_id=agent_id, agent_type="aether-builder"),
        )
    path = transcript(tmp_path / "t.jsonl", [("m1", "claude-haiku-4-5", 10, 3)])
    stop = hook_input(
        "SubagentStop",
        agent_id="agent_2",
        agent_type="aether-builder",
        agent_transcript_path=str(path),
    )
    assert run_hook(run_aether, "subagent-stop", stop).returncode == 0
    before = {w["runtime"]["tool_use_id"]: w for w in subagent_records(state_of(installed))}
    assert before["toolu_B"]["model_mismatch"] is True  # recorded on the wrong worker first
    result = hook_input(
        "PostToolUse",
        tool_name="Agent",
        tool_use_id="toolu_A",
        tool_input={"subagent_type": "aether-builder"},
        tool_response={"status": "completed", "agentId": "agent_2"},
    )
    assert run_hook(run_aether, "agent-result", result).returncode == 0
    state = state_of(installed)
    workers = {w["runtime"]["tool_use_id"]: w for w in subagent_records(state)}
    a, b = workers["toolu_A"], workers["toolu_B"]
    assert a["runtime"]["agent_id"] == "agent_2" and a["status"] == "completed"
    assert a["model_mismatch"] is True and a["tokens_out"] == 3
    assert b["runtime"]["agent_id"] == "agent_1" and b["status"] == "running"
    assert b["model_mismatch"] is False and b["tokens_out"] is None
    assert any(e["type"] == "worker_relinked" for e in state["events"])


def test_a_lenient_profile_without_the_caste_denies_its_stale_definition(
    installed: Path, run_aether: RunAether
) -> None:
    profile = installed / ".aether" / "model-profiles.yaml"
    text = profile.read_text().replace("strict: true", "strict: false")
    profile.write_text("\n".join(line for line in text.splitlines() if "  chaos:" not in line))
    answer = _answer(run_hook(run_aether, "pre-agent", agent_input("aether-chaos", "x", "t1")))
    assert (
        answer["permissionDecision"] == "deny"
        and "no chaos caste" in answer["permissionDecisionReason"]
    )
    assert subagent_records(state_of(installed)) == []


def test_the_handoff_note_never_holds_a_secret_from_the_last_message(
    installed: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    key = "proxy-key-value-3f9a1c77"
    session = tmp_path / "session.jsonl"
    said = f"Done. For the record the key is {key} and sk-live-0123456789abcdef."
    message = {"role": "assistant", "content": [{"type": "text", "text": said}]}
    session.write_text(json.dumps({"type": "assistant", "message": message}) + "\n")
    ended = run_hook(
        run_aether,
        "session-end",
        hook_input("SessionEnd", reason="other", transcript_path=str(session)),
        env=clean_env(LITELLM_MASTER_KEY=key),
    )
    assert (ended.returncode, ended.stderr) == (0, "")
    handoff = (installed / ".aether" / "HANDOFF.md").read_text()
    assert "Done. For the record the key is [redacted]" in handoff
    for path in (installed / ".aether").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert key.encode() not in data and b"sk-live-0123456789abcdef" not in data, path


def test_the_hook_table_and_the_installed_hooks_agree() -> None:
    """Each runtime's adapter lists the events its installed hooks run, and each has a handler."""
    from aether.ops.hooks.dispatch import HANDLERS
    from aether.runtimes.claude.adapter import RUNTIME as CLAUDE_CODE
    from aether.runtimes.claude.settings import HOOK_NAMES
    from aether.runtimes.codex.adapter import RUNTIME as CODEX
    from aether.runtimes.codex.hooks import HOOKS as CODEX_HOOKS

    assert set(CLAUDE_CODE.hook_events) == set(HOOK_NAMES) == set(HOOKS)
    assert set(CODEX.hook_events) == {h.name for h in CODEX_HOOKS}
    assert set(HANDLERS) == set(CLAUDE_CODE.hook_events) | set(CODEX.hook_events)


def test_a_bad_path_field_is_dropped_with_a_line_and_the_hook_still_does_its_work(
    installed: Path, run_aether: RunAether
) -> None:
    """A NUL byte in a path made session-end fail before its transaction (no pause, no
    HANDOFF.md) and subagent-stop leave its worker running."""
    started = hook_input("SubagentStart", agent_id="a1", agent_type="aether-builder")
    assert run_hook(run_aether, "subagent-start", started).returncode == 0
    stop = hook_input(
        "SubagentStop",
        agent_id="a1",
        agent_type="aether-builder",
        agent_transcript_path="/tmp/x\0y.jsonl",
    )
    line = one_hook_line(run_hook(run_aether, "subagent-stop", stop), "subagent-stop")
    assert "agent_transcript_path left out" in line
    (worker,) = subagent_records(state_of(installed))
    assert worker["status"] == "completed"
    end = json.loads(hook_input("SessionEnd", reason="other"))
    end["transcript_path"] = "/proc/self/x\0"
    line = one_hook_line(run_hook(run_aether, "session-end", json.dumps(end)), "session-end")
    assert "transcript_path left out" in line
    assert state_of(installed)["status"] == "paused"
    assert (installed / ".aether" / "HANDOFF.md").exists()


def test_a_served_pre_agent_answers_before_it_records_and_records_before_the_next_job(
    installed: Path,
) -> None:
    """Run as ``aether serve`` runs it (aether/cli/server_loop.py): the routed answer is ready
    with the worker not yet recorded — the record is left for after the answer — and once
    that work is done (the server does it before its next job) the worker is there, exactly
    as the hook in its own process records it."""
    from aether.cli.inprocess import run_in_process, run_later

    env = clean_env()
    stdin = agent_input("aether-builder", "fix the typo in the README", "toolu_9").encode()
    ran = run_in_process(
        ["hook", "pre-agent"], env=env, cwd=str(installed), stdin=stdin, later=True
    )
    assert ran.exit == 0, ran.stderr
    answer = json.loads(ran.stdout)["hookSpecificOutput"]
    assert answer["updatedInput"]["subagent_type"] == "aether--claude-haiku-4-5"
    assert subagent_records(state_of(installed)) == []
    assert len(ran.later) == 1
    after = run_later(ran.later, env=env, cwd=str(installed))
    assert (after.exit, after.stdout, after.stderr) == (0, "", "")
    (worker,) = subagent_records(state_of(installed))
    assert worker["model"] == "claude-haiku-4-5" and worker["status"] == "spawned"
    assert worker["runtime"]["tool_use_id"] == "toolu_9"
    # not taken by the caller (a hook in its own process): recorded before the answer
    own = run_in_process(["hook", "pre-agent"], env=env, cwd=str(installed), stdin=stdin)
    assert own.later == () and len(subagent_records(state_of(installed))) == 2


def test_a_record_left_for_later_that_fails_is_a_line_in_the_activity_log(
    installed: Path,
) -> None:
    """The answer went out; the record then cannot be written (the colony lock is held past
    the hook's wait): nothing breaks, the spawn stays routed, and the activity log says so."""
    from aether.cli.inprocess import run_in_process, run_later

    env = clean_env(AETHER_LOCK_TIMEOUT="0.2")
    stdin = agent_input("aether-builder", "fix the typo in the README", "toolu_8").encode()
    ran = run_in_process(
        ["hook", "pre-agent"], env=env, cwd=str(installed), stdin=stdin, later=True
    )
    assert json.loads(ran.stdout)["hookSpecificOutput"]["permissionDecision"] == "allow"
    holder, line = start_script(HOLDER, installed, clean_env())
    try:
        assert line == "locked"
        after = run_later(ran.later, env=env, cwd=str(installed))
    finally:
        holder.kill()
        holder.wait()
    assert after.exit == 0
    assert subagent_records(state_of(installed)) == []
    log = (installed / ".aether" / "activity.log").read_text()
    assert "routed, but not (fully) recorded" in log
