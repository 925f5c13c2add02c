"""``aether codex install | check | uninstall`` (docs/codex.md, "Set up Codex").

These run aether only; the real Codex binary runs the files written here in
tests/proxy/test_codex_install.py.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from aether.runtimes.codex.agents import toml_multiline, toml_string
from aether.runtimes.definitions import caste_brief
from tests.conftest import RunAether
from tests.helpers import assert_clean_error, clean_env

SECRET = "sk-never-written-anywhere-5c2e"
AGENTS = Path(".codex") / "agents"


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The proxy key set (it must never reach a file or the output), and Codex's home here."""
    return clean_env(LITELLM_MASTER_KEY=SECRET, CODEX_HOME=str(tmp_path / "codex-home"), **extra)


def install(run_aether: RunAether, tmp_path: Path, *args: str) -> Any:
    result = run_aether("codex", "install", *args, "--json", env=env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    return json.loads(result.stdout)


def check(run_aether: RunAether, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    result = run_aether("codex", "check", "--json", env=env(tmp_path))
    assert "Traceback" not in result.stderr + result.stdout
    return result.returncode, json.loads(result.stdout)


def agent(project: Path, name: str) -> dict[str, Any]:
    return tomllib.loads((project / AGENTS / f"{name}.toml").read_text())


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and directory (None) under ``root``: what "byte-identical"
    compares, empty directories included."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def user_files(project: Path) -> dict[str, bytes | None]:
    """What a refused or no-op install must leave as it was: .codex/ and aether's manifest."""
    files = {f".codex/{k}": v for k, v in tree(project / ".codex").items()}
    manifest = project / ".aether" / "codex-install.json"
    if manifest.exists():
        files["manifest"] = manifest.read_bytes()
    return files


def write_codex_config(tmp_path: Path, block: str) -> Path:
    config = tmp_path / "codex-home" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(block)
    return config


def test_install_writes_an_agent_per_caste_and_a_carrier_per_other_model_and_is_idempotent(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    first = install(run_aether, tmp_path)
    assert first["changed"] is True
    names = sorted(p.name for p in (colony / AGENTS).iterdir())
    assert len(names) == 15  # 11 castes, 4 carriers: the same scheme as Claude Code's
    assert [n for n in names if n.startswith("aether--")] == [
        "aether--claude-haiku-4-5.toml",
        "aether--claude-opus-4-5.toml",
        "aether--claude-sonnet-4-5.toml",
        "aether--kimi-k2-5.toml",
    ]
    builder = agent(colony, "aether-builder")
    assert builder == {
        "name": "aether-builder",
        "description": "writes code and tests for one task",
        "model": "claude-sonnet-4-5",
        "developer_instructions": caste_brief("builder", "claude-sonnet-4-5"),
    }
    assert agent(colony, "aether-scout")["model"] == "claude-haiku-4-5"
    assert agent(colony, "aether--kimi-k2-5")["model"] == "kimi-k2.5"
    text = (colony / AGENTS / "aether-builder.toml").read_text()
    assert text.startswith("# aether:managed profile=p-")
    assert "`aether codex install`" in text.splitlines()[0]
    # the block for config.toml: the profile's endpoint and the key's variable, never the key
    block = tomllib.loads(first["provider_block"])
    assert block["model_provider"] == "aether"
    assert block["model_providers"]["aether"] == {
        "name": "aether (LiteLLM proxy)",
        "base_url": "http://127.0.0.1:4000/v1",
        "env_key": "LITELLM_MASTER_KEY",
        "wire_api": "responses",
    }
    assert block["projects"] == {str(colony): {"trust_level": "trusted"}}
    assert first["codex_config"]["found"] is False
    for path in [*colony.rglob("*"), *tmp_path.rglob("*")]:
        if path.is_file() and not path.is_symlink():
            assert SECRET.encode() not in path.read_bytes(), path
    before = user_files(colony)
    second = install(run_aether, tmp_path)
    assert second["changed"] is False
    assert {f["action"] for f in second["files"]} == {"unchanged"}
    assert user_files(colony) == before
    code, report = check(run_aether, tmp_path)
    assert code == 1  # config.toml is not there yet
    assert report["differences"] == [
        f"{tmp_path}/codex-home/config.toml: missing; add the block `aether codex install` prints",
        f"{tmp_path}/codex-home/config.toml: 6 of aether's 6 hooks not trusted (Codex runs none "
        "of them without --dangerously-bypass-hook-trust); `aether codex install` prints the "
        "lines to add",
    ]
    trust = tomllib.loads(first["trust_block"])["hooks"]["state"]
    assert sorted(k.rsplit(":", 3)[1] for k in trust) == [
        "pre_tool_use",
        "session_end",
        "session_start",
        "stop",
        "subagent_start",
        "subagent_stop",
    ]
    assert all(k.startswith(f"{colony}/.codex/hooks.json:") for k in trust)
    write_codex_config(tmp_path, first["provider_block"] + "\n" + first["trust_block"])
    code, report = check(run_aether, tmp_path)
    assert code == 0 and report["ok"] is True and report["differences"] == []
    assert report["hook_trust"]["untrusted"] == []
    assert report["codex_config"] == {
        "path": f"{tmp_path}/codex-home/config.toml",
        "found": True,
        "differences": [],
    }
    text_out = run_aether("codex", "install", env=env(tmp_path)).stdout
    assert "already points Codex at the proxy" in text_out and SECRET not in text_out


def test_a_profile_change_is_found_by_check_and_applied_by_install(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    first = install(run_aether, tmp_path)
    write_codex_config(tmp_path, first["provider_block"] + "\n" + first["trust_block"])
    assert check(run_aether, tmp_path)[0] == 0
    profile = colony / ".aether" / "model-profiles.yaml"
    text = profile.read_text()
    changed = text.replace(
        "builder:       {model: claude-sonnet-4-5, chain: [claude-opus-4-5, claude-haiku-4-5]}",
        "builder:       {model: kimi-k2.5, chain: [claude-sonnet-4-5]}",
    ).replace("endpoint: http://127.0.0.1:4000", "endpoint: http://127.0.0.1:4100/")
    assert changed != text
    profile.write_text(changed)
    code, report = check(run_aether, tmp_path)
    assert code == 1
    assert (
        ".codex/agents/aether-builder.toml: differs from what the profile calls for"
        in (report["differences"])
    )
    (moved,) = [d for d in report["differences"] if "base_url" in d]
    assert "'http://127.0.0.1:4000/v1'" in moved and "'http://127.0.0.1:4100/v1'" in moved
    result = install(run_aether, tmp_path)
    assert agent(colony, "aether-builder")["model"] == "kimi-k2.5"
    assert tomllib.loads(result["provider_block"])["model_providers"]["aether"]["base_url"] == (
        "http://127.0.0.1:4100/v1"
    )
    write_codex_config(tmp_path, result["provider_block"] + "\n" + first["trust_block"])
    assert check(run_aether, tmp_path)[0] == 0


def test_an_edited_agent_file_is_kept_until_force_and_check_reports_it(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    install(run_aether, tmp_path)
    builder = colony / AGENTS / "aether-builder.toml"
    edited = builder.read_text().replace('model = "claude-sonnet-4-5"', 'model = "my-model"')
    builder.write_text(edited)
    again = install(run_aether, tmp_path)
    assert again["kept"] == [".codex/agents/aether-builder.toml"]
    assert any("aether-builder.toml kept" in w for w in again["warnings"])
    assert builder.read_text() == edited
    code, report = check(run_aether, tmp_path)
    assert code == 1
    assert (
        ".codex/agents/aether-builder.toml: aether wrote and someone edited"
        in (report["differences"])
    )
    kept = run_aether("codex", "uninstall", env=env(tmp_path))
    assert kept.returncode == 0 and builder.read_text() == edited
    install(run_aether, tmp_path, "--force")
    assert agent(colony, "aether-builder")["model"] == "claude-sonnet-4-5"
    backups = colony / ".aether" / "data" / "backups" / "codex"
    assert [p.read_text() for p in backups.glob("aether-builder.toml.*")] == [edited]


def test_uninstall_leaves_the_project_byte_identical(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    agents = colony / AGENTS
    agents.mkdir(parents=True)
    (agents / "reviewer.toml").write_text('name = "reviewer"\nmodel = "gpt-5"\n')
    (agents / "aether-mine.toml").write_text('name = "aether-mine"\nmodel = "mine"\n')
    (colony / ".codex" / "empty").mkdir()
    before = tree(colony / ".codex")
    install(run_aether, tmp_path)
    assert (agents / "aether-mine.toml").read_text() == 'name = "aether-mine"\nmodel = "mine"\n'
    removed = run_aether("codex", "uninstall", "--json", env=env(tmp_path))
    assert removed.returncode == 0, removed.stderr
    assert len(json.loads(removed.stdout)["files"]) == 17  # 15 agents, launcher, hooks.json
    assert tree(colony / ".codex") == before
    assert not (colony / ".aether" / "codex-install.json").exists()
    assert_clean_error(run_aether("codex", "uninstall", env=env(tmp_path)), 81)


def test_uninstall_after_aether_created_codex_removes_everything_it_wrote(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    install(run_aether, tmp_path)
    dry = run_aether("codex", "uninstall", "--dry-run", env=env(tmp_path))
    assert dry.returncode == 0 and "Would remove 16 file(s)" in dry.stdout  # and the launcher
    assert "Would take aether's hooks out of .codex/hooks.json" in dry.stdout
    assert len(list((colony / AGENTS).iterdir())) == 15
    assert run_aether("codex", "uninstall", env=env(tmp_path)).returncode == 0
    assert not (colony / ".codex").exists()


@pytest.mark.parametrize(
    "text",
    ["model = [", 'name = "a"\nname = "b"\n', "\0not toml", "# aether:managed profile=x\nx = \n"],
    ids=["unclosed", "duplicate-key", "binary", "marker-no-value"],
)
def test_a_malformed_agent_file_in_the_way_is_refused_and_nothing_is_written(
    colony: Path, run_aether: RunAether, tmp_path: Path, text: str
) -> None:
    agents = colony / AGENTS
    agents.mkdir(parents=True)
    (agents / "aether-builder.toml").write_text(text)
    before = user_files(colony)
    result = run_aether("codex", "install", env=env(tmp_path))
    assert_clean_error(result, 80)
    assert ".codex/agents/aether-builder.toml: not valid TOML" in result.stderr
    assert user_files(colony) == before
    code, report = check(run_aether, tmp_path)
    assert code == 1 and any("not valid TOML" in d for d in report["differences"])
    forced = install(run_aether, tmp_path, "--force")
    assert agent(colony, "aether-builder")["model"] == "claude-sonnet-4-5"
    assert forced["changed"] is True
    backups = colony / ".aether" / "data" / "backups" / "codex"
    assert [p.read_text() for p in backups.glob("aether-builder.toml.*")] == [text]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


CONFIGS: list[tuple[str, str | None, str]] = [
    ("garbage", "model_provider = aether\n", "config.toml: not valid TOML ("),
    ("not-utf8", "model = '\udcff'\n", "config.toml: not UTF-8 text"),
    ("fifo", None, "config.toml: cannot be read"),
    ("other-provider", 'model_provider = "openai"\n', "model_provider is 'openai', not 'aether'"),
    ("no-table", 'model_provider = "aether"\n', "no [model_providers.aether] table"),
    (
        "key-pasted",
        '[model_providers.aether]\nenv_key = "' + SECRET + '"\n',
        "env_key is not a variable name (not shown",
    ),
    (
        "password-in-url",
        '[model_providers.aether]\nbase_url = "http://me:' + SECRET + '@127.0.0.1:4000/v1"\n',
        "base_url carries credentials or a query (not shown)",
    ),
    ("chat-api", '[model_providers.aether]\nwire_api = "chat"\n', "wire_api is 'chat'"),
    ("untrusted", "[projects.'/elsewhere']\ntrust_level = 'trusted'\n", "is not trusted"),
]


@pytest.mark.parametrize(("name", "content", "expected"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_check_reports_what_config_toml_gets_wrong_in_one_line_and_never_a_key(
    colony: Path,
    run_aether: RunAether,
    tmp_path: Path,
    name: str,
    content: str | None,
    expected: str,
) -> None:
    install(run_aether, tmp_path)
    config = tmp_path / "codex-home" / "config.toml"
    config.parent.mkdir(parents=True)
    if content is None:
        _fifo(config)
    else:
        config.write_bytes(content.encode("utf-8", "surrogateescape"))
    code, report = check(run_aether, tmp_path)
    assert code == 1
    found = [d for d in report["differences"] if expected in d]
    assert len(found) == 1, report["differences"]
    assert "\n" not in found[0] and SECRET not in json.dumps(report)
    # install reports the same and writes nothing more
    before = user_files(colony)
    again = install(run_aether, tmp_path)
    assert any(expected in d for d in again["codex_config"]["differences"])
    assert user_files(colony) == before


def test_codex_home_defaults_to_dot_codex_in_home(
    colony: Path, run_aether: RunAether, test_home: Path, tmp_path: Path
) -> None:
    first = install(run_aether, tmp_path)
    config = test_home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text(first["provider_block"] + "\n" + first["trust_block"])
    result = run_aether("codex", "check", env=clean_env())
    assert result.returncode == 0, result.stdout
    assert f"{config} points Codex at the proxy" in result.stdout


def test_an_endpoint_with_credentials_is_refused_and_never_echoed(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    profile = colony / ".aether" / "model-profiles.yaml"
    profile.write_text(
        profile.read_text().replace(
            "endpoint: http://127.0.0.1:4000", "endpoint: http://me:hunter22@127.0.0.1:4000"
        )
    )
    result = run_aether("codex", "install", env=env(tmp_path))
    assert_clean_error(result, 21)
    assert "hunter22" not in result.stderr + result.stdout
    assert not (colony / ".codex").exists()


def test_dry_run_shows_the_change_and_the_block_and_writes_nothing(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    before = user_files(colony)
    result = run_aether("codex", "install", "--dry-run", env=env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Would write" in result.stdout and "create    .codex/agents/aether-builder.toml" in (
        result.stdout
    )
    assert '  env_key = "LITELLM_MASTER_KEY"' in result.stdout and SECRET not in result.stdout
    assert user_files(colony) == before == {}


def test_install_needs_a_colony(project: Path, run_aether: RunAether, tmp_path: Path) -> None:
    assert_clean_error(run_aether("codex", "install", env=env(tmp_path)), 10)
    assert not (project / ".codex").exists()


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        'a "quoted" word and """ three and a trailing quote"',
        "back\\slash \\n not a newline \\u0041",
        "tab\tcontrol\x01\x1f del\x7f cr\r\nnew\nline",
        "unicode: é ✓ 😀",
        "",
        '"',
        "\\",
        "ends with newline\n",
    ],
)
def test_toml_strings_read_back_as_written(text: str) -> None:
    assert tomllib.loads(f"v = {toml_string(text)}")["v"] == text
    assert tomllib.loads(f"v = {toml_multiline(text)}")["v"] == text
