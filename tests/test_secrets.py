"""Secrets stay in the environment: redaction in every form a value may be printed in, and no
more than that."""

from __future__ import annotations

from pathlib import Path

import pytest

from aether.cli.common import debug_traceback
from aether.redaction import redact
from tests.conftest import RunAether

KEY = "sk-proxy-secret-value-7731"


def test_a_debug_traceback_never_shows_the_key_in_any_form(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LITELLM_MASTER_KEY", KEY + "\r\n")
    monkeypatch.setenv("AETHER_DEBUG", "1")
    try:
        # what http.client says about a header value with a line break: the value, repr'd
        raise ValueError(f"Invalid header value {('Bearer ' + KEY + chr(13) + chr(10))!r}")
    except ValueError as exc:
        debug_traceback(exc)
    printed = capsys.readouterr().err
    assert "Traceback" in printed and "Invalid header value" in printed
    assert KEY not in printed and "7731" not in printed


def test_a_key_under_any_secret_looking_name_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROXY_AUTH", "plain-looking-credential-42")
    assert redact("sent plain-looking-credential-42 along") == "sent [redacted] along"


@pytest.mark.parametrize(
    "text",
    [
        "no task-routing keyword matched",
        "a risk-based plan for the desk-top app",
        "ask-me-later and disk-usage are ordinary words",
    ],
)
def test_ordinary_words_survive_redaction(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    ["key sk-abcdef123456 here", "(sk-abcdef123456)", '"sk-abcdef123456"', "sk-abcdef123456"],
)
def test_a_token_that_looks_like_a_key_is_scrubbed(text: str) -> None:
    assert "abcdef123456" not in redact(text)


def test_route_reasons_in_the_activity_log_read_as_written(
    colony: Path, run_aether: RunAether
) -> None:
    """Issue 12: every route reason read "no task-[redacted] keyword" in activity.log."""
    assert (
        run_aether("spawn", "--caste", "builder", "--task", "write it", "--no-proxy").returncode
        == 0
    )
    log = (colony / ".aether" / "activity.log").read_text()
    assert "no task-routing keyword matched" in log and "[redacted]" not in log


def test_a_lock_timeout_is_never_reported_as_an_unreadable_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 12, item 8: ops caught AetherError around the profile read and relabelled
    whatever came, so a lock timeout or a full disk read as "profile not recorded"."""
    import aether.routing.loader
    from aether.errors import LockTimeout, ProfileInvalid
    from aether.ops.session.profile_snapshot import profile_snapshot
    from aether.workspace import Workspace

    def timeout(*_: object) -> None:
        raise LockTimeout("the colony is locked by pid 1")

    monkeypatch.setattr(aether.routing.loader, "load_profile_file", timeout)
    with pytest.raises(LockTimeout):
        profile_snapshot(Workspace(tmp_path))

    def invalid(*_: object) -> None:
        raise ProfileInvalid("castes.builder: unknown model")

    monkeypatch.setattr(aether.routing.loader, "load_profile_file", invalid)
    assert profile_snapshot(Workspace(tmp_path)).error is not None  # a profile problem: data


def test_the_lock_holder_note_names_the_command_not_its_arguments(
    colony: Path, run_aether_process: RunAether
) -> None:
    typed = "remember sk-pasted-by-mistake-4411 for later"
    assert run_aether_process("memory", "add", "learning", typed).returncode == 0
    holder = colony / ".aether" / "data" / "COLONY_STATE.json.lock.holder"
    import json

    note = json.loads(holder.read_text())
    assert note["command"] == "aether memory add"
    assert holder.stat().st_mode & 0o777 == 0o600
