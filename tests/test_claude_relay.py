"""The user-level relay ``aether claude install`` adds to ``~/.claude/`` (docs/claude-code.md):
Claude Code reads a project's settings only in the directory it starts in, so a session started
in a subdirectory gets aether's hooks from the relay. Under the real client:
tests/proxy/test_claude_sessions.py."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.helpers import clean_env, run_standalone

RELAY = ".claude/hooks/aether-relay"


@pytest.fixture
def standalone(colony: Path) -> Path:
    run_standalone(colony)
    return colony


def relay_hooks(settings: dict[str, object]) -> list[str]:
    hooks = settings.get("hooks")
    assert isinstance(hooks, dict)
    return [
        h["command"]
        for groups in hooks.values()
        for g in groups
        for h in g["hooks"]
        if "aether-relay" in h["command"]
    ]


def test_install_adds_the_relay_once_and_uninstall_restores_the_users_settings_byte_for_byte(
    standalone: Path, run_aether: RunAether, test_home: Path
) -> None:
    settings = test_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    own = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo mine"}]}]}}
    original = json.dumps(own, indent=4).replace("\n", "\r\n").encode() + b"\r\n"
    settings.write_bytes(original)
    first = json.loads(run_aether("claude", "install", "--json").stdout)
    assert first["relay"]["changed"] is True
    script = test_home / RELAY
    assert os.access(script, os.X_OK) and "aether:managed" in script.read_text()
    data = json.loads(settings.read_text())
    assert len(relay_hooks(data)) == 7 and data["hooks"]["Stop"][0]["hooks"][0]["command"] == (
        "echo mine"
    )
    manifest = test_home / ".claude" / "aether-relay.json"
    assert manifest.stat().st_mode & 0o777 == 0o600
    second = json.loads(run_aether("claude", "install", "--json").stdout)
    assert second["changed"] is False and second["relay"]["changed"] is False
    assert run_aether("claude", "check").returncode == 0
    assert run_aether("claude", "uninstall").returncode == 0
    assert settings.read_bytes() == original
    assert not script.exists() and not manifest.exists()
    assert not (test_home / ".claude" / "hooks").exists()  # created by aether, empty again


def test_the_relay_stays_while_another_project_uses_it(
    standalone: Path, run_aether: RunAether, test_home: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    for where in (standalone, other):
        if where is other:
            assert run_aether("init", "another", cwd=other).returncode == 0
            run_standalone(other)
        assert run_aether("claude", "install", cwd=where).returncode == 0
    assert run_aether("claude", "uninstall", cwd=standalone).returncode == 0
    assert (test_home / RELAY).exists()
    assert run_aether("claude", "uninstall", cwd=other).returncode == 0
    assert not (test_home / RELAY).exists()
    assert not (test_home / ".claude" / "settings.json").exists()  # aether created it


def test_a_malformed_user_settings_file_refuses_the_whole_install(
    standalone: Path, run_aether: RunAether, test_home: Path
) -> None:
    settings = test_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"hooks": [')
    result = run_aether("claude", "install")
    assert result.returncode == 80, result.stderr
    assert settings.read_text() == '{"hooks": ['
    assert not (standalone / ".claude").exists()  # nothing of the project's either
    skipped = run_aether("claude", "install", "--no-relay")
    assert skipped.returncode == 0 and "no relay" in skipped.stderr
    assert settings.read_text() == '{"hooks": ['


def _fake_aether(tmp_path: Path) -> tuple[Path, Path]:
    record = tmp_path / "calls.jsonl"
    fake = tmp_path / "fake-aether"
    fake.write_text(
        "#!/bin/sh\n"
        f'printf \'{{"args": "%s", "dir": "%s", "stdin": "%s"}}\\n\' "$*" '
        f'"$CLAUDE_PROJECT_DIR" "$(cat | head -c 40 | tr -d \'"\\n\')" >> {record}\n'
    )
    fake.chmod(0o755)
    return fake, record


def _run_relay(
    script: Path, start: Path, event: str, stdin: str
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "CLAUDE_PROJECT_DIR": str(start)}
    return subprocess.run(
        ["/bin/sh", str(script), event],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_relay_runs_aether_for_the_project_it_is_in_and_nowhere_else(
    standalone: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    from aether.runtimes.claude import relay

    assert run_aether("claude", "install", "--no-relay").returncode == 0
    fake, record = _fake_aether(tmp_path)
    script = tmp_path / "aether-relay"
    script.write_text(relay.render(str(fake)))
    sub = standalone / "src" / "pkg"
    sub.mkdir(parents=True)
    spawn = '{"tool_input": {"subagent_type": "aether-builder"}}'
    ran = _run_relay(script, sub, "pre-agent", spawn)
    assert (ran.returncode, ran.stderr) == (0, "")
    (call,) = [json.loads(line) for line in record.read_text().splitlines()]
    assert call == {
        "args": "hook pre-agent",
        "dir": str(standalone),
        "stdin": spawn[:40].replace('"', ""),
    }
    # where the project's own hooks are loaded, or outside any project: nothing runs
    assert _run_relay(script, standalone, "pre-agent", spawn).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _run_relay(script, elsewhere, "pre-agent", spawn).returncode == 0
    assert len(record.read_text().splitlines()) == 1
    # no aether to run: an aether spawn is refused (exit 2 blocks it), anything else goes on
    lost = tmp_path / "aether-relay-lost"
    lost.write_text(relay.render(str(tmp_path / "gone")))
    refused = _run_relay(lost, sub, "pre-agent", spawn)
    assert refused.returncode == 2 and "could not be routed" in refused.stderr
    other = _run_relay(lost, sub, "session-start", "{}")
    assert other.returncode == 0


def test_check_reports_a_missing_relay(
    standalone: Path, run_aether: RunAether, test_home: Path
) -> None:
    assert run_aether("claude", "install").returncode == 0
    (test_home / RELAY).unlink()
    checked = run_aether("claude", "check", env=clean_env())
    assert checked.returncode == 1 and "aether-relay: missing" in checked.stdout


def test_outside_any_aether_project_the_relay_starts_no_program(tmp_path: Path) -> None:
    """Every session of the user runs the relay for every hook, most of them in projects
    without aether: there it must cost one shell and nothing more. With only a `grep` that
    leaves a mark on PATH (and no `cat`, `head` or `timeout`), a plain project's hooks end at
    once, marking nothing (the relay's work in an aether project: the test above)."""
    import shutil

    from aether.runtimes.claude import relay

    script = tmp_path / "aether-relay"
    script.write_text(relay.render(str(tmp_path / "no-aether")))
    tools, mark = tmp_path / "tools", tmp_path / "grep-ran"
    tools.mkdir()
    real_grep = shutil.which("grep")
    assert real_grep is not None
    (tools / "grep").write_text(f'#!/bin/sh\n: > "{mark}"\nexec "{real_grep}" "$@"\n')
    (tools / "grep").chmod(0o755)
    plain = tmp_path / "plain" / "src"
    (plain.parent / ".claude").mkdir(parents=True)
    (plain.parent / ".claude" / "settings.json").write_text('{"env": {"A": "b"}}')
    plain.mkdir()
    for start in (plain.parent, plain):
        for event in ("session-start", "pre-agent", "subagent-stop", "session-end"):
            done = subprocess.run(
                ["/bin/sh", str(script), event],
                input='{"tool_input": {"subagent_type": "aether-builder"}}',
                env={"PATH": str(tools), "HOME": "/nonexistent", "CLAUDE_PROJECT_DIR": str(start)},
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), event
    assert not mark.exists()
