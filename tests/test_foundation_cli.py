"""The foundation through the installed entry point: init, status, discovery, bad state files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.helpers import assert_clean_error, clean_env, snapshot

STATE = Path(".aether/data/COLONY_STATE.json")


def test_init_creates_the_documented_layout(project: Path, run_aether: RunAether) -> None:
    result = run_aether("init", "Ship the parser", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and payload["goal"] == "Ship the parser"
    root = project / ".aether"
    for rel in ("data/COLONY_STATE.json", "model-profiles.yaml", "activity.log"):
        assert (root / rel).is_file(), rel
    for rel in ("memory", "chambers", "data"):
        assert (root / rel).is_dir(), rel
    state = json.loads((root / "data/COLONY_STATE.json").read_text())
    assert state["version"] == "4.0"
    assert state["colony_id"] == payload["colony_id"]
    assert state["serial"] == 1
    # canonical on disk: sorted keys, one field / list item per line, trailing newline
    from aether.json_text import state_json

    text = (root / "data/COLONY_STATE.json").read_text()
    assert text == state_json(state)
    assert text.splitlines()[1].startswith('  "colony_id": ')


def test_status_human_and_json(colony: Path, run_aether: RunAether) -> None:
    human = run_aether("status")
    assert human.returncode == 0, human.stderr
    assert "Test colony goal" in human.stdout
    assert "\x1b[" not in human.stdout, "no colour codes when stdout is not a terminal"
    machine = run_aether("status", "--json")
    assert machine.returncode == 0
    payload = json.loads(machine.stdout)  # exactly one JSON object, nothing else on stdout
    assert payload["goal"] == "Test colony goal"
    assert payload["status"] == "active"
    assert machine.stderr == ""


def test_status_never_writes(colony: Path, run_aether: RunAether) -> None:
    before = snapshot(colony)
    assert run_aether("status").returncode == 0
    assert run_aether("status", "--json").returncode == 0
    assert snapshot(colony) == before


def test_init_refuses_to_clobber_and_force_backs_up(colony: Path, run_aether: RunAether) -> None:
    original = (colony / STATE).read_bytes()
    refused = run_aether("init", "Another goal")
    assert_clean_error(refused, 11)
    assert (colony / STATE).read_bytes() == original
    forced = run_aether("init", "Another goal", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    backup = Path(json.loads(forced.stdout)["replaced_backup"])
    assert backup.read_bytes() == original
    new = json.loads((colony / STATE).read_text())
    assert new["goal"] == "Another goal"
    assert new["colony_id"] != json.loads(original)["colony_id"]


def test_init_inside_a_colonys_project_refuses_unless_nested(
    colony: Path, run_aether: RunAether
) -> None:
    """Like git warning about a repository inside another: a second colony below the first
    would silently take over every command run under it."""
    sub = colony / "services" / "api"
    sub.mkdir(parents=True)
    before = snapshot(colony)
    refused = run_aether("init", "A nested goal", cwd=sub)
    assert_clean_error(refused, 11)
    assert str(colony / ".aether") in refused.stderr and "--nested" in refused.stderr
    assert snapshot(colony) == before and not (sub / ".aether").exists()
    # --force replaces a colony here; it does not make a nested one
    assert_clean_error(run_aether("init", "A nested goal", "--force", cwd=sub), 11)
    nested = run_aether("init", "A nested goal", "--nested", "--json", cwd=sub)
    assert nested.returncode == 0, nested.stderr
    assert json.loads(nested.stdout)["root"] == str(sub / ".aether")
    status = json.loads(run_aether("status", "--json", cwd=sub).stdout)
    assert status["state_file"] == str(sub / STATE)


def test_discovery_walks_up_like_git(colony: Path, run_aether: RunAether) -> None:
    deep = colony / "src" / "pkg" / "deep"
    deep.mkdir(parents=True)
    result = run_aether("status", "--json", cwd=deep)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["state_file"] == str(colony / STATE)


def test_dir_option_and_env_override(colony: Path, run_aether: RunAether, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_option = run_aether("--dir", str(colony), "status", "--json", cwd=elsewhere)
    assert by_option.returncode == 0, by_option.stderr
    by_aether_dir = run_aether("--dir", str(colony / ".aether"), "status", "--json", cwd=elsewhere)
    assert by_aether_dir.returncode == 0, by_aether_dir.stderr
    by_env = run_aether("status", "--json", cwd=elsewhere, env=clean_env(AETHER_ROOT=str(colony)))
    assert by_env.returncode == 0, by_env.stderr
    for r in (by_option, by_aether_dir, by_env):
        assert json.loads(r.stdout)["state_file"] == str(colony / STATE)


def test_no_colony_is_a_clean_error(project: Path, run_aether: RunAether) -> None:
    result = run_aether("status")
    assert_clean_error(result, 10)
    as_json = run_aether("status", "--json")
    assert as_json.returncode == 10
    assert json.loads(as_json.stdout)["error"]["kind"] == "no_colony"


def _state_with(colony: Path, doc: object) -> None:
    (colony / STATE).write_text(json.dumps(doc))


BAD_STATES: list[tuple[str, bytes, int, str]] = [
    ("truncated", b'{"version": "4.0", "colony_id": "c", "ser', 12, "not valid JSON"),
    ("empty", b"", 12, "is empty"),
    ("garbage", b"\x00\x01 definitely not json", 12, "not valid JSON"),
    ("not-utf8", b'{"goal": "caf\xe9"}', 13, "not UTF-8"),
    ("duplicate-keys", b'{"version": "4.0", "version": "4.0"}', 14, "twice"),
    ("json-array", b"[1, 2, 3]", 16, "JSON array"),
    ("json-string", b'"hello"', 16, "JSON string"),
    ("foreign-object", b'{"name": "my-npm-package", "dependencies": {}}', 16, "no version"),
    ("newer-version", b'{"version": "9.0", "colony_id": "c"}', 17, "newer"),
    ("unknown-version", b'{"version": "2.5"}', 18, "unknown format version"),
    ("numeric-version", b'{"version": 7}', 18, "unknown format version"),
    ("null-version", b'{"version": null}', 18, "unknown format version"),
]


@pytest.mark.parametrize(
    ("label", "content", "code", "phrase"), BAD_STATES, ids=[b[0] for b in BAD_STATES]
)
def test_bad_state_files_get_their_own_error_and_stay_untouched(
    colony: Path, run_aether: RunAether, label: str, content: bytes, code: int, phrase: str
) -> None:
    (colony / STATE).write_bytes(content)
    before = snapshot(colony)
    for args in (("status",), ("status", "--json")):
        result = run_aether(*args)
        assert result.returncode == code, (label, result.stderr)
        assert phrase in result.stderr, (label, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout
        assert len(result.stderr.strip().splitlines()) == 1
        if "--json" in args:
            assert json.loads(result.stdout)["error"]["exit_code"] == code
        else:
            assert result.stdout == ""
    assert snapshot(colony) == before


def test_wrong_type_in_known_field_is_invalid_not_a_crash(
    colony: Path, run_aether: RunAether
) -> None:
    doc = json.loads((colony / STATE).read_text())
    doc["serial"] = "many"
    _state_with(colony, doc)
    before = snapshot(colony)
    result = run_aether("status")
    assert_clean_error(result, 19)
    assert "serial" in result.stderr
    assert snapshot(colony) == before


def test_too_large_state_is_refused(colony: Path, run_aether: RunAether) -> None:
    result = run_aether("status", env=clean_env(AETHER_MAX_STATE_BYTES="100"))
    assert_clean_error(result, 15)


def test_unknown_keys_survive_a_write(colony: Path, run_aether: RunAether) -> None:
    doc = json.loads((colony / STATE).read_text())
    doc["written_by_a_future_plugin"] = {"keep": ["me", 1]}
    doc["session"]["plugin_field"] = "also kept"
    _state_with(colony, doc)
    # a write through the store (init --force would replace the colony, so use the API)
    from aether.state.store import Store
    from aether.workspace import Workspace

    with Store(Workspace(colony)).transaction() as tx:
        tx.state.add_event("test", "a write")
    after = json.loads((colony / STATE).read_text())
    assert after["written_by_a_future_plugin"] == {"keep": ["me", 1]}
    assert after["session"]["plugin_field"] == "also kept"
    assert after["serial"] == doc["serial"] + 1


def test_version_flag_and_help(run_aether: RunAether) -> None:
    version = run_aether("--version")
    assert version.returncode == 0 and version.stdout.startswith("aether ")
    helped = run_aether("--help")
    assert helped.returncode == 0
    for command in ("init", "status"):
        assert command in helped.stdout


def test_python_dash_m_works(colony: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "aether", "status", "--json"],
        cwd=colony,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["goal"] == "Test colony goal"


def test_usage_errors_are_one_line(run_aether: RunAether) -> None:
    for args in (
        ("init",),
        ("--lock-timeout", "-5", "status"),
        ("--lock-timeout", "soon", "status"),
        ("no-such-command",),
        ("status", "--no-such-option"),
    ):
        result = run_aether(*args)
        assert_clean_error(result, 2)
        assert "--help" in result.stderr
    as_json = run_aether("status", "--no-such-option", "--json")
    assert json.loads(as_json.stdout)["error"]["kind"] == "usage"


def test_bare_aether_prints_help(run_aether: RunAether) -> None:
    result = run_aether()
    assert result.returncode == 0
    assert "Usage: aether" in result.stdout


def test_empty_goal_is_rejected(project: Path, run_aether: RunAether) -> None:
    result = run_aether("init", "   ")
    assert_clean_error(result, 21)
    assert not (project / ".aether" / "data" / "COLONY_STATE.json").exists()
