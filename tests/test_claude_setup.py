"""``aether claude install | check | uninstall`` (docs/claude-code.md) and doctor's view of it.

These run the installed ``aether`` only; the real Claude Code client is driven through the
files written here in tests/proxy/test_claude_code.py.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.helpers import AETHER, assert_clean_error, clean_env, data_snapshot, snapshot

EVENTS = {
    "PreToolUse": "pre-agent",
    "PostToolUse": "agent-result",
    "SubagentStart": "subagent-start",
    "SubagentStop": "subagent-stop",
    "SessionStart": "session-start",
    "PreCompact": "pre-compact",
    "SessionEnd": "session-end",
}
SECRET = "sk-never-written-anywhere-9d81"


def install(run_aether: RunAether, *args: str, env: dict[str, str] | None = None) -> Any:
    result = run_aether("claude", "install", *args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def settings(project: Path, name: str = "settings.json") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((project / ".claude" / name).read_text())
    return doc


def front_matter_model(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("model: "):
            return str(json.loads(line[len("model: ") :]))
    raise AssertionError(f"no model in {path}")


USER_SETTINGS = """{
    "permissions": {"allow": ["Bash(npm test)"]},
    "env": {"MY_TOOL_HOME": "/opt/tool"},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Agent", "hooks": [{"type": "command", "command": "my-audit agent"}]}
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
    },
    "model": "opus"
}
"""


def test_install_writes_definitions_launcher_hooks_and_env_and_a_second_install_is_a_no_op(
    colony: Path, run_aether: RunAether
) -> None:
    env = clean_env(LITELLM_MASTER_KEY=SECRET)
    first = install(run_aether, env=env)
    assert first["changed"] is True and first["settings_file"] == ".claude/settings.json"
    agents = colony / ".claude" / "agents"
    assert front_matter_model(agents / "aether-builder.md") == "claude-sonnet-4-5"
    # one carrier per model routing can give a caste besides its own, none per caste and model
    assert front_matter_model(agents / "aether--claude-opus-4-5.md") == "claude-opus-4-5"
    assert sorted(f.name for f in agents.glob("aether--*")) == [
        "aether--claude-haiku-4-5.md",
        "aether--claude-opus-4-5.md",
        "aether--claude-sonnet-4-5.md",
        "aether--kimi-k2-5.md",
    ]
    assert len(list(agents.iterdir())) == 15  # 11 castes, 4 carriers
    assert front_matter_model(agents / "aether-scout.md") == "claude-haiku-4-5"
    assert 'name: "aether-builder"' in (agents / "aether-builder.md").read_text()
    launcher = colony / ".claude" / "hooks" / "aether-hook"
    assert launcher.stat().st_mode & stat.S_IXUSR
    doc = settings(colony)
    for event, name in EVENTS.items():
        (group,) = doc["hooks"][event]
        (hook,) = group["hooks"]
        assert hook["command"] == f'"$CLAUDE_PROJECT_DIR"/.claude/hooks/aether-hook {name}'
        # Claude Code does not wait for this one (docs/claude-code.md, "What a session pays")
        assert hook.get("async", False) is (name == "subagent-start"), name
    assert doc["hooks"]["PreToolUse"][0]["matcher"] == "Agent"
    assert doc["env"] == {
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:4000",
        "ANTHROPIC_DEFAULT_OPUS_MODEL": "claude-opus-4-5",
        "ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-sonnet-4-5",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": "claude-haiku-4-5",
    }
    assert not [p for p, data in snapshot(colony).items() if SECRET.encode() in data]  # no key
    before = user_files(colony)
    second = install(run_aether, env=env)
    assert second["changed"] is False
    assert {f["action"] for f in second["files"]} == {"unchanged"}
    assert user_files(colony) == before
    assert run_aether("claude", "check").returncode == 0


def user_files(project: Path) -> dict[str, bytes]:
    """What a failed or no-op install must leave byte-identical: everything under .claude/,
    the colony state, and aether's install manifest (the activity log, the lock's holder
    note and caches change with every command)."""
    files = {f".claude/{k}": v for k, v in snapshot(project / ".claude").items()}
    for rel in (".aether/data/COLONY_STATE.json", ".aether/claude-install.json"):
        path = project / rel
        if path.exists():
            files[rel] = path.read_bytes()
    return files


def test_uninstall_leaves_the_users_settings_and_agents_byte_identical(
    colony: Path, run_aether: RunAether
) -> None:
    claude = colony / ".claude"
    (claude / "agents").mkdir(parents=True)
    (claude / "settings.json").write_text(USER_SETTINGS)
    (claude / "agents" / "reviewer.md").write_text("---\nname: reviewer\n---\nReview.\n")
    (claude / "agents" / "aether-mine.md").write_text("---\nname: aether-mine\n---\nMine.\n")
    before = snapshot(claude)
    install(run_aether)
    doc = settings(colony)
    assert doc["permissions"] == {"allow": ["Bash(npm test)"]} and doc["model"] == "opus"
    assert doc["env"]["MY_TOOL_HOME"] == "/opt/tool"
    commands = [h["command"] for g in doc["hooks"]["PreToolUse"] for h in g["hooks"]]
    assert commands[0] == "my-audit agent" and len(commands) == 2
    assert doc["hooks"]["Stop"] == [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
    assert (claude / "agents" / "aether-mine.md").read_bytes() == before["agents/aether-mine.md"]
    removed = run_aether("claude", "uninstall", "--json")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["restored_from_backup"] == [".claude/settings.json"]
    assert snapshot(claude) == before
    assert not (colony / ".aether" / "claude-install.json").exists()
    assert_clean_error(run_aether("claude", "uninstall"), 81)


def test_uninstall_after_aether_created_the_settings_removes_everything_it_wrote(
    colony: Path, run_aether: RunAether
) -> None:
    install(run_aether)
    assert run_aether("claude", "uninstall").returncode == 0
    assert not (colony / ".claude").exists()


@pytest.mark.parametrize(
    "text",
    [
        "{ not json",
        '{"hooks": {}, "hooks": {}}',
        "[1, 2]",
        '{"hooks": []}',
        '{"env": {"A": 1}}',
        # read back fine, failed only when written: install stopped half-way, exit 70
        '{"env": {"NOTE": "\\ud800"}}',
        '{"a": ' * 100_000 + "1" + "}" * 100_000,  # deeper than the parser recurses
    ],
    ids=[
        "garbage",
        "duplicate-key",
        "array",
        "hooks-not-object",
        "env-not-strings",
        "lone-surrogate",
        "too-deep",
    ],
)
def test_a_malformed_settings_file_is_refused_and_nothing_is_written(
    colony: Path, run_aether: RunAether, text: str
) -> None:
    (colony / ".claude").mkdir()
    (colony / ".claude" / "settings.json").write_text(text)
    before = user_files(colony)
    result = run_aether("claude", "install")
    assert_clean_error(result, 80)
    assert ".claude/settings.json" in result.stderr
    assert user_files(colony) == before
    assert not (colony / ".claude" / "agents").exists()


def test_a_settings_file_that_is_a_link_is_refused(colony: Path, run_aether: RunAether) -> None:
    (colony / ".claude").mkdir()
    (colony / "elsewhere.json").write_text("{}")
    (colony / ".claude" / "settings.json").symlink_to(colony / "elsewhere.json")
    assert_clean_error(run_aether("claude", "install"), 26)
    assert (colony / "elsewhere.json").read_text() == "{}"


def test_an_edited_definition_is_kept_until_force_and_check_reports_it(
    colony: Path, run_aether: RunAether
) -> None:
    install(run_aether)
    builder = colony / ".claude" / "agents" / "aether-builder.md"
    edited = builder.read_text() + "Always write tests first.\n"
    builder.write_text(edited)
    again = install(run_aether)
    assert again["kept"] == [".claude/agents/aether-builder.md"]
    assert any("aether-builder.md kept" in w for w in again["warnings"])
    assert builder.read_text() == edited
    check = run_aether("claude", "check")
    assert check.returncode == 1 and "aether-builder.md" in check.stdout
    install(run_aether, "--force")
    assert "Always write tests first" not in builder.read_text()
    assert run_aether("claude", "check").returncode == 0


def test_the_list_of_workers_the_main_model_reads_stays_small(
    colony: Path, run_aether: RunAether
) -> None:
    """Claude Code puts every definition in the main model's context on every request, as
    ``- NAME: DESCRIPTION (Tools: All tools)`` (measured, 2.1.328). With the default profile
    (11 castes, 4 models) aether's entries stay under 1.4 KB (they were 7.2 KB with a variant
    per caste and model); docs/performance.md has the whole request measured."""
    install(run_aether)
    listing = ""
    for path in sorted((colony / ".claude" / "agents").glob("aether-*.md")):
        text = path.read_text()
        name = json.loads(text.split("name: ", 1)[1].split("\n", 1)[0])
        description = json.loads(text.split("description: ", 1)[1].split("\n", 1)[0])
        listing += f"- {name}: {description} (Tools: All tools)\n"
    assert listing.count("\n") == 15
    assert len(listing.encode()) <= 1400, len(listing.encode())


def test_a_profile_change_is_found_by_check_and_applied_by_install(
    colony: Path, run_aether: RunAether
) -> None:
    install(run_aether)
    agents = colony / ".claude" / "agents"
    # a variant an earlier aether wrote (one per caste and model): no longer called for
    old_variant = agents / "aether-builder--claude-haiku-4-5.md"
    shutil.copyfile(agents / "aether--claude-haiku-4-5.md", old_variant)
    profile = colony / ".aether" / "model-profiles.yaml"
    text = profile.read_text()
    text = text.replace(
        "builder:       {model: claude-sonnet-4-5, chain: [claude-opus-4-5, claude-haiku-4-5]}",
        "builder:       {model: kimi-k2.5, chain: [claude-sonnet-4-5]}",
    ).replace("castes: [builder, watcher]", "castes: [watcher]")
    profile.write_text(text)
    check = run_aether("claude", "check", "--json")
    assert check.returncode == 1
    differences = json.loads(check.stdout)["differences"]
    assert ".claude/agents/aether-builder.md: differs from what the profile calls for" in (
        differences
    )
    assert any("aether-builder--claude-haiku-4-5.md: no longer" in d for d in differences)
    install(run_aether)
    assert front_matter_model(agents / "aether-builder.md") == "kimi-k2.5"
    assert (agents / "aether--claude-sonnet-4-5.md").exists()
    assert not old_variant.exists()
    assert run_aether("claude", "check").returncode == 0


def test_an_env_value_the_user_set_is_kept_until_force_and_restored_by_uninstall(
    colony: Path, run_aether: RunAether
) -> None:
    (colony / ".claude").mkdir()
    original = '{"env": {"ANTHROPIC_BASE_URL": "http://gateway.internal:8080"}}\n'
    (colony / ".claude" / "settings.json").write_text(original)
    kept = install(run_aether)
    assert any("ANTHROPIC_BASE_URL" in w for w in kept["warnings"])
    assert settings(colony)["env"]["ANTHROPIC_BASE_URL"] == "http://gateway.internal:8080"
    assert run_aether("claude", "check").returncode == 1
    install(run_aether, "--force")
    assert settings(colony)["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4000"
    assert run_aether("claude", "uninstall").returncode == 0
    assert (colony / ".claude" / "settings.json").read_text() == original


def test_local_install_pins_this_aether_and_moves_the_hooks_out_of_the_shared_file(
    colony: Path, run_aether: RunAether
) -> None:
    install(run_aether)
    result = install(run_aether, "--local")
    assert result["settings_file"] == ".claude/settings.local.json"
    local = settings(colony, "settings.local.json")
    assert local["env"]["AETHER_BIN"] == AETHER
    assert set(local["hooks"]) == set(EVENTS)
    assert not (colony / ".claude" / "settings.json").exists()  # aether had created it
    assert run_aether("claude", "check").returncode == 0
    assert run_aether("claude", "uninstall").returncode == 0
    assert not (colony / ".claude").exists()


def test_dry_run_shows_the_change_and_writes_nothing(colony: Path, run_aether: RunAether) -> None:
    before = user_files(colony)
    result = run_aether("claude", "install", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "Would write" in result.stdout and '+  "hooks": {' in result.stdout
    assert user_files(colony) == before


def test_install_needs_a_colony(project: Path, run_aether: RunAether) -> None:
    assert_clean_error(run_aether("claude", "install"), 10)
    assert not (project / ".claude").exists()


def test_doctor_checks_the_integration(colony: Path, run_aether: RunAether) -> None:
    def doctor(env: dict[str, str]) -> dict[str, dict[str, Any]]:
        result = run_aether("doctor", "--no-proxy", "--json", env=env)
        return {c["check"]: c for c in json.loads(result.stdout)["checks"]}

    assert doctor(clean_env())["claude"]["level"] == "info"  # not set up yet
    install(run_aether)
    checks = doctor(clean_env())
    assert checks["claude"]["level"] == "ok"
    assert checks["claude hooks"]["level"] == "ok"
    assert checks["claude overrides"]["level"] == "ok"
    forced = doctor(clean_env(CLAUDE_CODE_SUBAGENT_MODEL="claude-haiku-4-5"))
    assert forced["claude overrides"]["level"] == "fail"
    local = colony / ".claude" / "settings.local.json"
    local.write_text('{"availableModels": ["claude-sonnet-4-5"]}')
    narrowed = doctor(clean_env())["claude overrides"]
    assert narrowed["level"] == "fail" and "claude-opus-4-5" in narrowed["message"]
    local.unlink()
    lost = doctor(
        clean_env(PATH="/usr/bin:/bin", HOME=str(colony / "nohome"), AETHER_BIN="/nowhere")
    )
    assert lost["claude hooks"]["level"] == "fail"
    (colony / ".claude" / "agents" / "aether-scout.md").unlink()
    assert doctor(clean_env())["claude"]["level"] == "fail"


def test_the_launcher_refuses_an_aether_spawn_when_it_cannot_find_aether(
    colony: Path, run_aether: RunAether
) -> None:
    import subprocess

    install(run_aether)
    launcher = colony / ".claude" / "hooks" / "aether-hook"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(colony / "nohome"), "CLAUDE_PROJECT_DIR": "/x"}
    spawn = json.dumps({"tool_input": {"subagent_type": "aether-builder", "prompt": "p"}})
    refused = subprocess.run(
        [str(launcher), "pre-agent"], input=spawn, capture_output=True, text=True, env=env
    )
    assert refused.returncode == 2 and "not found" in refused.stderr
    other = json.dumps({"tool_input": {"subagent_type": "general-purpose", "prompt": "p"}})
    passed = subprocess.run(
        [str(launcher), "pre-agent"], input=other, capture_output=True, text=True, env=env
    )
    assert passed.returncode == 0 and len(passed.stderr.splitlines()) == 1
    ended = subprocess.run(
        [str(launcher), "session-end"], input="{}", capture_output=True, text=True, env=env
    )
    assert ended.returncode == 0
    found = subprocess.run(
        [str(launcher), "--which"],
        capture_output=True,
        text=True,
        env={**env, "AETHER_BIN": AETHER},
    )
    assert found.stdout.strip() == AETHER
    assert os.access(AETHER, os.X_OK)


@pytest.mark.parametrize("runtime", ["claude", "codex"])
def test_the_launcher_looks_for_aether_in_its_order_and_only_in_absolute_path_entries(
    tmp_path: Path, runtime: str
) -> None:
    """``find_aether`` (aether/runtimes/hook_handover.py) walks PATH in the shell itself
    instead of forking for ``$(command -v aether)``: $AETHER_BIN, then the first absolute PATH
    entry holding an executable file ``aether`` (an empty or relative entry would depend on
    the directory the hook runs in), then the project's .venv/ and venv/, then ~/.local/bin."""
    import subprocess

    from aether.runtimes.claude import launcher as claude_launcher
    from aether.runtimes.codex import launcher as codex_launcher

    project = tmp_path / "project"
    script = project / (".claude" if runtime == "claude" else ".codex") / "hooks" / "aether-hook"
    script.parent.mkdir(parents=True)
    render = claude_launcher.render if runtime == "claude" else codex_launcher.render
    script.write_text(render())

    def executable(path: Path, mode: int = 0o755) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(mode)
        return str(path)

    executable(project / "rel" / "aether")  # relative entry: never looked in
    executable(tmp_path / "noexec" / "aether", 0o644)
    (tmp_path / "adir" / "aether").mkdir(parents=True)  # a directory named aether
    on_path = executable(tmp_path / "bin" / "aether")
    home = tmp_path / "home"
    entries = ["", "rel", str(tmp_path / "none"), str(tmp_path / "noexec"), str(tmp_path / "adir")]
    path = ":".join([*entries, f"{tmp_path / 'bin'}/", "/usr/bin:/bin"])

    def which(**env: str) -> str:
        base = {"PATH": path, "HOME": str(home), "CLAUDE_PROJECT_DIR": str(project)}
        done = subprocess.run(
            ["/bin/sh", str(script), "--which"],
            capture_output=True,
            text=True,
            cwd=project,
            env={**base, **env},
            timeout=10,
        )
        return done.stdout.strip() if done.returncode == 0 else f"exit {done.returncode}"

    assert which() == on_path
    pinned = executable(tmp_path / "pinned" / "aether")
    assert which(AETHER_BIN=pinned) == pinned
    assert which(AETHER_BIN=str(tmp_path / "missing")) == on_path
    venv = executable(project / ".venv" / "bin" / "aether")
    assert which(PATH="rel:/usr/bin:/bin") == venv
    Path(venv).unlink()
    pipx = executable(home / ".local" / "bin" / "aether")
    assert which(PATH="/usr/bin:/bin") == pipx
    Path(pipx).unlink()
    assert which(PATH="") == "exit 1"


def test_a_crlf_settings_file_is_restored_byte_for_byte(
    colony: Path, run_aether: RunAether
) -> None:
    (colony / ".claude").mkdir()
    original = b'{\r\n  "permissions": {"allow": ["Read"]}\r\n}\r\n'
    (colony / ".claude" / "settings.json").write_bytes(original)
    install(run_aether)
    assert run_aether("claude", "uninstall").returncode == 0
    assert (colony / ".claude" / "settings.json").read_bytes() == original


def test_force_backs_up_a_file_it_replaces(colony: Path, run_aether: RunAether) -> None:
    agents = colony / ".claude" / "agents"
    agents.mkdir(parents=True)
    mine = b"---\nname: aether-builder\nmodel: my-own-model\n---\nMy builder.\n"
    (agents / "aether-builder.md").write_bytes(mine)
    kept = install(run_aether)
    assert kept["kept"] == [".claude/agents/aether-builder.md"]
    assert (agents / "aether-builder.md").read_bytes() == mine
    install(run_aether, "--force")
    assert front_matter_model(agents / "aether-builder.md") == "claude-sonnet-4-5"
    backups = colony / ".aether" / "data" / "backups" / "claude"
    assert [p.read_bytes() for p in backups.glob("aether-builder.md.*")] == [mine]


def test_check_writes_nothing(colony: Path, run_aether: RunAether) -> None:
    install(run_aether)
    (colony / ".claude" / "agents" / "aether-scout.md").unlink()
    before = user_files(colony)
    assert run_aether("claude", "check").returncode == 1
    assert user_files(colony) == before


def test_an_endpoint_with_credentials_is_never_written_into_the_settings(
    colony: Path, run_aether: RunAether
) -> None:
    profile = colony / ".aether" / "model-profiles.yaml"
    profile.write_text(
        profile.read_text().replace(
            "endpoint: http://127.0.0.1:4000", "endpoint: http://me:hunter22@127.0.0.1:4000"
        )
    )
    result = run_aether("claude", "install")
    assert_clean_error(result, 21)
    assert "hunter22" not in result.stderr
    assert not (colony / ".claude").exists()


def test_aether_proxy_url_is_the_endpoint_claude_install_writes(
    colony: Path, run_aether: RunAether
) -> None:
    """The endpoint in force (AETHER_PROXY_URL over the profile) is the one Claude Code is
    pointed at; one with credentials is refused naming the variable, and never echoed."""
    from tests.helpers import clean_env

    secret = clean_env(AETHER_PROXY_URL="http://me:hunter22@127.0.0.1:4100")
    refused = run_aether("claude", "install", env=secret)
    assert_clean_error(refused, 21)
    assert "AETHER_PROXY_URL" in refused.stderr and "hunter22" not in refused.stderr
    assert not (colony / ".claude").exists()
    env = clean_env(AETHER_PROXY_URL="http://127.0.0.1:4100")
    assert run_aether("claude", "install", env=env).returncode == 0
    settings = json.loads((colony / ".claude" / "settings.json").read_text())
    assert settings["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4100"


def test_a_hook_never_passes_on_a_failing_aethers_exit_code(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """An older aether without `hook`, or a server that went away, exits non-zero; Claude Code
    reads exit 2 as "block". The launcher answers 0 (or refuses an aether spawn)."""
    import subprocess

    install(run_aether)
    fake = tmp_path / "aether"
    fake.write_text("#!/bin/sh\ncat >/dev/null\necho 'No such command hook.' >&2\nexit 2\n")
    fake.chmod(0o755)
    launcher = colony / ".claude" / "hooks" / "aether-hook"
    env = {"PATH": "/usr/bin:/bin", "AETHER_BIN": str(fake), "CLAUDE_PROJECT_DIR": str(colony)}
    for event, stdin, code in (
        ("subagent-stop", '{"agent_type": "aether-builder"}', 0),
        ("pre-agent", '{"tool_input": {"subagent_type": "general-purpose"}}', 0),
        ("pre-agent", '{"tool_input": {"subagent_type": "aether-builder"}}', 2),
    ):
        done = subprocess.run(
            [str(launcher), event], input=stdin, capture_output=True, text=True, env=env
        )
        assert done.returncode == code, (event, stdin, done.stderr)
        # one line, with what the failing aether said in it (it used to be two lines)
        (line,) = done.stderr.splitlines()
        assert f"{fake} exited 2 (No such command hook.)" in line


def test_temp_files_a_killed_install_left_are_swept_and_uninstall_removes_everything(
    colony: Path, run_aether: RunAether
) -> None:
    """A SIGKILLed install or uninstall leaves ``.<name>.<random>.aether-tmp`` files beside
    what it was writing; the next install or uninstall sweeps them (it used to leave them, and
    then uninstall could not remove the directories aether had created)."""
    install(run_aether)
    claude = colony / ".claude"
    backups = colony / ".aether" / "data" / "backups" / "claude"
    backups.mkdir(parents=True, exist_ok=True)
    leftovers = [
        claude / ".settings.json.0badc0de.aether-tmp",
        claude / "agents" / ".aether-builder.md.0badc0de.aether-tmp",
        claude / "hooks" / ".aether-hook.0badc0de.aether-tmp",
        backups / ".settings.json.20261204T000000Z.ab12.0badc0de.aether-tmp",
    ]
    for path in leftovers:
        path.write_text("half a file")
    assert run_aether("claude", "uninstall").returncode == 0
    assert not [p for p in leftovers if p.exists()]
    assert not claude.exists()


@pytest.mark.parametrize("mode", [0o444, 0o664, 0o600])
def test_the_settings_file_keeps_its_mode(colony: Path, run_aether: RunAether, mode: int) -> None:
    """A 0444 settings file became 0644 (and 0664 lost its group bit to the umask)."""
    path = colony / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(USER_SETTINGS)
    path.chmod(mode)
    install(run_aether)
    assert "aether-hook" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert run_aether("claude", "uninstall").returncode == 0
    assert path.read_text() == USER_SETTINGS
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_read_only_claude_directory_changes_nothing_at_all(
    colony: Path, run_aether: RunAether
) -> None:
    """It said "nothing was changed" but had written the manifest and a backup first."""
    from tests.reliability.catalogue import read_only

    (colony / ".claude").mkdir()
    (colony / ".claude" / "settings.json").write_text(USER_SETTINGS)
    before = data_snapshot(colony)
    undo = read_only(".claude")(colony)
    try:
        result = run_aether("claude", "install")
    finally:
        assert undo is not None
        undo()
    assert_clean_error(result, 25)
    assert ".claude" in result.stderr
    assert not (colony / ".aether" / "claude-install.json").exists()
    assert not (colony / ".aether" / "data" / "backups" / "claude").exists()
    assert data_snapshot(colony) == before
