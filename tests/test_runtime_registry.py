"""The runtimes' registry and adapters: a kind finds its runtime, a command line its reader, and
looking a runtime up imports nothing of it (the served hooks look one up on every spawn)."""

from __future__ import annotations

import json
import subprocess
import sys

from aether.runtimes import registry
from aether.runtimes.usage import HeadlessRun
from aether.session_report import runtime_name
from tests.helpers import REPO


def test_each_kind_finds_its_runtime_and_any_other_finds_claude_code() -> None:
    kinds = [rt.kind for rt in registry.RUNTIMES]
    assert kinds == ["claude-code", "codex"]
    assert registry.known("codex") is registry.RUNTIMES[1]
    assert registry.known("opencode") is None
    assert registry.runtime("codex").display_name == "Codex"
    assert registry.runtime("") is registry.runtime("opencode") is registry.DEFAULT
    assert registry.DEFAULT.kind == "claude-code"


def test_a_report_names_a_runtime_as_its_package_does() -> None:
    assert runtime_name("claude-code") == "Claude Code"
    assert runtime_name("codex") == "Codex"
    assert runtime_name("opencode") == "opencode"
    assert runtime_name(None) == "agent"


def test_a_headless_command_line_finds_its_runtime_s_reader() -> None:
    env = {"HOME": "/nonexistent"}
    assert registry.headless_reader(["claude", "-p", "hi", "--output-format", "json"], env)
    assert registry.headless_reader(["npx", "codex", "exec", "--json", "hi"], env)
    assert registry.headless_reader(["claude", "-p", "hi"], env) is None
    assert registry.headless_reader(["make", "test"], env) is None


def test_claude_code_s_reader_turns_its_result_line_into_a_headless_run() -> None:
    read = registry.headless_reader(["claude", "-p", "--output-format=json"], {})
    assert read is not None
    line = {
        "type": "result",
        "session_id": "s-1",
        "total_cost_usd": 0.25,
        "modelUsage": {"cc-opus": {"inputTokens": 10, "outputTokens": 5, "costUSD": 0.25}},
    }
    run = read("noise\n" + json.dumps(line) + "\n")
    assert isinstance(run, HeadlessRun)
    assert run.runtime == {"kind": "claude-code-headless", "session_id": "s-1"}
    assert run.by_model["cc-opus"].output_tokens == 5 and run.cost_usd == 0.25
    assert run.main_models is None and run.source == "claude-code"
    assert read(json.dumps({**line, "modelUsage": {}})) is None  # names no model
    assert read("not json") is None


def test_looking_a_runtime_up_imports_nothing_of_it() -> None:
    code = (
        "import sys; from aether.runtimes import registry; "
        "[rt.display_name for rt in registry.RUNTIMES]; registry.runtime('codex'); "
        "print(','.join(sorted(m for m in sys.modules if m.startswith('aether.runtimes.'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(",") == [
        "aether.runtimes.claude",
        "aether.runtimes.claude.adapter",
        "aether.runtimes.codex",
        "aether.runtimes.codex.adapter",
        "aether.runtimes.registry",
    ]
