"""``aether memory add|list|export|import`` through the installed entry point."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.helpers import assert_clean_error, data_snapshot, state_of


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, (result.returncode, result.stderr, result.stdout)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_add_list_dedupe(run_aether: RunAether, colony: Path) -> None:
    serial = state_of(colony)["serial"]
    first = as_json(
        run_aether(
            "memory",
            "add",
            "learning",
            "Flock  beats PID files",
            "--phase",
            "2",
            "--confidence",
            "0.8",
            "--json",
        )
    )
    assert first["added"] and first["item"]["phase"] == "2"
    assert first["item"]["confidence"] == 0.8 and first["item"]["source"] == "user"
    again = as_json(run_aether("memory", "add", "learning", "flock beats pid files", "--json"))
    assert again["added"] is False and again["item"]["id"] == first["item"]["id"]
    as_json(run_aether("memory", "add", "decision", "Typer for the CLI", "--json"))
    as_json(run_aether("memory", "add", "instinct", "test the edge first", "--json"))
    listed = as_json(run_aether("memory", "list", "--json"))
    assert listed["counts"] == {"learning": 1, "decision": 1, "instinct": 1, "pattern": 0}
    only = as_json(run_aether("memory", "list", "--kind", "decision", "--json"))
    assert [i["text"] for i in only["items"]] == ["Typer for the CLI"]
    assert "Typer for the CLI" in run_aether("memory", "list").stdout
    assert state_of(colony)["serial"] == serial  # memory never touches the state


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("memory", "add", "opinion", "x"), 21),
        (("memory", "add", "learning", "   "), 21),
        (("memory", "add", "learning", "x", "--confidence", "1.5"), 21),
        (("memory", "add", "learning", "x", "--confidence", "nan"), 21),
        (("memory", "list", "--kind", "nope"), 21),
    ],
)
def test_bad_memory_input(
    run_aether: RunAether, colony: Path, args: tuple[str, ...], code: int
) -> None:
    before = data_snapshot(colony)
    assert_clean_error(run_aether(*args), code)
    assert data_snapshot(colony) == before


def test_memory_without_colony(run_aether: RunAether) -> None:
    assert_clean_error(run_aether("memory", "add", "learning", "x"), 10)


def test_export_import_round_trip(run_aether: RunAether, colony: Path, tmp_path: Path) -> None:
    as_json(run_aether("memory", "add", "learning", "one", "--json"))
    as_json(run_aether("memory", "add", "decision", "two", "--json"))
    export = tmp_path / "out.json"
    out = as_json(run_aether("memory", "export", str(export), "--json"))
    assert out["total"] == 2
    assert_clean_error(run_aether("memory", "export", str(export)), 21)  # no silent overwrite
    other = tmp_path / "other"
    other.mkdir()
    assert run_aether("init", "other", cwd=other).returncode == 0
    as_json(run_aether("memory", "add", "learning", "ONE", "--json", cwd=other))  # same, other case
    imported = as_json(run_aether("memory", "import", str(export), "--json", cwd=other))
    assert imported["read"] == 2 and imported["added"] == 1 and imported["duplicates"] == 1
    again = as_json(run_aether("memory", "import", str(export), "--json", cwd=other))
    assert again["added"] == 0
    texts = sorted(
        i["text"] for i in as_json(run_aether("memory", "list", "--json", cwd=other))["items"]
    )
    assert texts == ["ONE", "two"]


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"kind": "something-else", "format": 1, "items": []}',
        b'{"kind": "aether-memory-export", "format": 99, "items": []}',
        b'{"kind": "aether-memory-export", "format": 1, "items": [{"kind": "learning"}]}',
        b'{"kind": "aether-memory-export", "format": 1, "format": 1, "items": []}',
    ],
)
def test_bad_import_file(
    run_aether: RunAether, colony: Path, tmp_path: Path, content: bytes
) -> None:
    as_json(run_aether("memory", "add", "learning", "keep me", "--json"))
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    before = data_snapshot(colony)
    assert_clean_error(run_aether("memory", "import", str(bad)), 66)
    assert data_snapshot(colony) == before


def test_import_missing_file(run_aether: RunAether, colony: Path, tmp_path: Path) -> None:
    assert_clean_error(run_aether("memory", "import", str(tmp_path / "nope.json")), 66)


def test_a_memory_write_sweeps_what_a_killed_writer_left(
    colony: Path, run_aether: RunAether
) -> None:
    """Found by the crash suite: a pause killed while writing HANDOFF.md left its temp file,
    and the next write — a `memory add`, which takes the lock without the state — kept it."""
    leftovers = [
        colony / ".aether" / ".HANDOFF.md.cb6e191a.aether-tmp",
        colony / ".aether" / "data" / ".COLONY_STATE.json.0a1b2c3d.aether-tmp",
        colony / ".aether" / "memory" / ".learnings.json.deadbeef.aether-tmp",
    ]
    for path in leftovers:
        path.write_text("half a file")
    assert run_aether("memory", "add", "learning", "sweep on every write").returncode == 0
    assert not [p for p in leftovers if p.exists()]
