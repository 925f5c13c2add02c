"""The Codex reader (aether/runtimes/codex/usage.py) on event lines and rollouts captured from
the real Codex CLI 0.171.0 (fixtures/codex-0.171.0: a main agent on ``cx-main`` that spawned an
``aether-builder`` subagent on ``cx-builder``; long strings trimmed, paths replaced)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from aether.runtimes.codex.usage import (
    codex_home,
    find_rollout,
    is_codex_exec_json,
    model_usage,
    parse_exec_events,
    read_rollout,
    run_usage,
)
from tests.helpers import REPO

CAPTURED = REPO / "fixtures" / "codex-0.171.0"
MAIN = "01a2421b-cd2e-7960-8439-17dc2a38a90a"
CHILD = "01a2421b-cf12-7090-b3e2-5e0c9ad2a6ed"
#: what the scripted upstream answered in that run, per model (its own record)
UPSTREAM = {
    "cx-main": {"input_tokens": 1850, "cached_input_tokens": 150, "output_tokens": 29},
    "cx-builder": {"input_tokens": 614, "cached_input_tokens": 50, "output_tokens": 9},
}


def events() -> str:
    return (CAPTURED / "exec-spawn.jsonl").read_text()


def home_with(tmp_path: Path, *threads: str) -> Path:
    """A CODEX_HOME whose sessions hold the captured rollouts of ``threads``."""
    home = tmp_path / "codex-home"
    day = home / "sessions" / "2026" / "12" / "04"
    day.mkdir(parents=True)
    for thread in threads:
        (rollout,) = CAPTURED.glob(f"rollout-*-{thread}.jsonl")
        shutil.copy(rollout, day / rollout.name)
    return home


def test_the_events_give_the_thread_the_main_threads_tokens_and_the_children() -> None:
    found = parse_exec_events(events())
    assert found is not None
    assert found.thread_id == MAIN
    assert found.turns == 1 and found.failed_turns == 0
    assert found.children == [CHILD]
    # turn.completed counts the main thread's requests only (the child's are not in it)
    assert found.usage.tokens_in == UPSTREAM["cx-main"]["input_tokens"]
    assert found.usage.cache_read_tokens == UPSTREAM["cx-main"]["cached_input_tokens"]
    assert found.usage.output_tokens == UPSTREAM["cx-main"]["output_tokens"]


def test_no_event_names_a_model_so_the_rollouts_do(tmp_path: Path) -> None:
    assert '"model"' not in events()
    result = run_usage(events(), home_with(tmp_path, MAIN, CHILD))
    assert result is not None
    assert result.thread_id == MAIN and result.main_models == ["cx-main"]
    assert result.children == 1 and result.unattributed is None
    assert set(result.by_model) == set(UPSTREAM)
    for model, sent in UPSTREAM.items():
        usage = result.by_model[model]
        assert usage.tokens_in == sent["input_tokens"], model
        assert usage.cache_read_tokens == sent["cached_input_tokens"], model
        assert usage.output_tokens == sent["output_tokens"], model


def test_a_child_rollout_names_its_role_and_model(tmp_path: Path) -> None:
    home = home_with(tmp_path, CHILD)
    path = find_rollout(home, CHILD)
    assert path is not None
    child = read_rollout(path, time.monotonic() + 5)
    assert child.agent_role == "aether-builder"
    assert child.models == ["cx-builder"]
    assert child.by_model["cx-builder"].messages == 1  # one request, one usage record


def test_without_the_main_rollout_the_tokens_stay_but_no_model_is_claimed(tmp_path: Path) -> None:
    result = run_usage(events(), home_with(tmp_path, CHILD))
    assert result is not None
    assert result.main_models == []
    assert result.unattributed is not None
    assert result.unattributed.tokens_in == UPSTREAM["cx-main"]["input_tokens"]
    assert set(result.by_model) == {"cx-builder"}  # the child's rollout still says its model
    nothing = run_usage(events(), None)
    assert nothing is not None and nothing.by_model == {} and nothing.children == 0


def test_a_main_thread_on_two_models_is_split_as_its_rollout_records_it(tmp_path: Path) -> None:
    day = tmp_path / "sessions" / "2026" / "01" / "02"
    day.mkdir(parents=True)
    thread = "0000aaaa-1111-2222-3333-444455556666"
    lines = [
        {"type": "session_meta", "payload": {"id": thread}},
        {"type": "turn_context", "payload": {"turn_id": "t1", "model": "cx-main"}},
        {"type": "token_usage_record", "payload": {"turn_id": "t1", "usage": usage(100, 5)}},
        {"type": "response_item", "payload": {"type": "message", "content": "x" * 5000}},
        {"type": "turn_context", "payload": {"turn_id": "t2", "model": "cx-other"}},
        {"type": "token_usage_record", "payload": {"turn_id": "t2", "usage": usage(40, 2)}},
        {"type": "token_usage_record", "payload": {"turn_id": "t2", "usage": usage(60, 3)}},
    ]
    text = "\n".join(json.dumps(line, separators=(",", ":")) for line in lines)
    (day / f"rollout-2026-01-02T00-00-00-{thread}.jsonl").write_text(text)
    stdout = "\n".join(
        [
            json.dumps({"type": "thread.started", "thread_id": thread}),
            json.dumps({"type": "turn.completed", "usage": usage(100, 5)}),
            json.dumps({"type": "turn.completed", "usage": usage(100, 5)}),
        ]
    )
    result = run_usage(stdout, tmp_path)
    assert result is not None
    assert result.main_models == ["cx-main", "cx-other"]
    assert {m: (u.tokens_in, u.output_tokens) for m, u in result.by_model.items()} == {
        "cx-main": (100, 5),
        "cx-other": (100, 5),
    }


def usage(tokens_in: int, tokens_out: int, cached: int = 0) -> dict[str, int]:
    return {
        "input_tokens": tokens_in,
        "cached_input_tokens": cached,
        "cache_write_input_tokens": 0,
        "output_tokens": tokens_out,
        "reasoning_output_tokens": 0,
    }


def test_output_that_is_not_codex_events_is_not_read_as_a_codex_run() -> None:
    claude_result = json.dumps({"type": "result", "modelUsage": {"m": {"inputTokens": 3}}})
    assert parse_exec_events(claude_result) is None
    assert parse_exec_events("hello\nnot json {\n[1, 2]\n") is None
    assert parse_exec_events("") is None


def test_bad_lines_and_bad_counts_are_skipped_never_raised() -> None:
    text = "\n".join(
        [
            '{"type": "thread.started", "thread_id": "abc"',  # cut off
            json.dumps(
                {"type": "turn.completed", "usage": {"input_tokens": -5, "output_tokens": True}}
            ),
            json.dumps({"type": "turn.completed", "usage": "lots"}),
            json.dumps({"type": "turn.completed", "usage": usage(10, 2, cached=50)}),
            json.dumps(
                {
                    "type": "item.completed",
                    "item": {
                        "type": "collab_tool_call",
                        "tool": "spawn_agent",
                        "receiver_thread_ids": [7, "t-1"],
                    },
                }
            ),
            json.dumps({"type": "turn.failed", "error": {"message": "boom"}}),
            '{"a":' + "[" * 100000,
        ]
    )
    found = parse_exec_events(text)
    assert found is not None
    assert found.thread_id is None and found.turns == 3 and found.failed_turns == 1
    assert found.children == ["t-1"]
    # cached never counts more than the input it is part of
    assert (found.usage.tokens_in, found.usage.cache_read_tokens) == (10, 10)
    assert found.usage.output_tokens == 2
    assert model_usage(None).tokens_in == 0


def test_a_thread_id_is_never_used_as_a_file_pattern(tmp_path: Path) -> None:
    home = home_with(tmp_path, MAIN)
    assert find_rollout(home, MAIN) is not None
    for bad in ["*", "01a2421b-*", "../../etc/passwd", "", "x" * 200]:
        assert find_rollout(home, bad) is None, bad


def test_a_rollout_that_is_not_a_regular_file_is_not_read(tmp_path: Path) -> None:
    day = tmp_path / "sessions" / "2026" / "12" / "04"
    day.mkdir(parents=True)
    os.mkfifo(day / f"rollout-2026-12-04T17-30-47-{MAIN}.jsonl")
    started = time.monotonic()
    result = run_usage(events(), tmp_path)
    assert time.monotonic() - started < 5  # a FIFO is refused at once, never waited on
    assert result is not None and result.main_models == [] and result.unattributed is not None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["codex", "exec", "--json", "--skip-git-repo-check", "task"], True),
        (["/opt/bin/codex", "exec", "--skip-git-repo-check", "--json", "task"], True),
        (["npx", "codex", "exec", "--experimental-json", "task"], True),
        (["codex", "exec", "task"], False),  # human-readable output: nothing to read
        (["codex", "--json"], False),  # not headless
        (["claude", "-p", "x", "--output-format", "json"], False),
        (["sh", "-c", "codex exec --json task"], False),
        ([], False),
    ],
)
def test_a_codex_exec_json_command_line_is_recognised(argv: list[str], expected: bool) -> None:
    assert is_codex_exec_json(argv) is expected


def test_codex_keeps_its_sessions_in_codex_home_or_under_home() -> None:
    assert codex_home({"CODEX_HOME": "/x/ch", "HOME": "/h"}) == Path("/x/ch")
    assert codex_home({"HOME": "/h"}) == Path("/h/.codex")
    assert codex_home({}) is None
