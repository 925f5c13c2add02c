"""``aether migrate`` writes the same bytes as the code this file was recorded with.

A guard for speed work on the migration path: each case installs an old colony, runs
``aether migrate`` (then ``status`` and ``pause``, which write the handoff and a rotated
backup) with the clock frozen, and compares a SHA-256 of every file under ``.aether/`` and of
each command's output with tests/golden/migration-equality.json, recorded before the work
(``AETHER_UPDATE_FIXTURES=1`` rewrites it: only when a change of output is intended).

Cases: every fixture in fixtures/legacy-states/, the benchmark's generated 3.0 colonies
(compact and as the old tool wrote them, up to 10,000 events: the archive), edge-case events
(unsorted keys, floats, NaN, huge integers, control characters, extra keys), a migration onto
memory files already there, and the real anchors in ../shared/anchor-states/ when present.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.bench_migrate import as_the_old_tool_wrote_it, synthetic_3_0
from tests.helpers import REPO, SHARED, clean_env, run_cli

GOLD = Path(__file__).parent / "golden" / "migration-equality.json"
FIXTURES = REPO / "fixtures" / "legacy-states"
ANCHORS = SHARED / "anchor-states"
NOW = "2026-03-01T12:00:00Z"
LATER = "2026-03-02T08:30:00Z"

Install = Callable[[Path], None]


def _copy_input(source: Path) -> Install:
    def install(data: Path) -> None:
        if source.is_dir():
            for f in sorted(source.iterdir()):
                shutil.copy(f, data / f.name)
        else:
            shutil.copy(source, data / "COLONY_STATE.json")

    return install


def _write(doc: Any, indent: int | None = None) -> Install:
    def install(data: Path) -> None:
        text = json.dumps(doc, indent=indent, allow_nan=True) + ("\n" if indent else "")
        (data / "COLONY_STATE.json").write_text(text, encoding="utf-8")

    return install


def _edge_doc() -> dict[str, Any]:
    doc = as_the_old_tool_wrote_it(1_200, 60)
    odd: list[Any] = [
        {"worker": "queen", "type": "z", "timestamp": "2026-02-01T00:00:00Z", "zeta": 1, "a": 2},
        {"timestamp": "2026-02-01T00:00:01Z", "type": "f", "details": {"x": 1e-05, "y": 1.5e300}},
        {"timestamp": "2026-02-01T00:00:02Z", "type": "n", "nan": float("nan"), "inf": -1e999},
        {"timestamp": "2026-02-01T00:00:03Z", "type": "big", "n": 10**40, "neg": -(10**30)},
        {"timestamp": "2026-02-01T00:00:04Z", "type": "ctl", "details": "tab\there\x01\x1f\u2028é"},
        {"type": "no-ts", "details": ["list", {"b": 2, "a": 1}], "extra": None, "t": True},
        "2026-02-01T00:00:05Z | odd | worker | pipes | inside | text",
        "not a pipe string at all \x07",
        {"timestamp": "2026-02-01T00:00:06Z", "type": "unicode", "details": "\ud83d\ude00 \u00e9"},
        # the usual four keys (v3_parts' short way) with a value that is not a string
        {"timestamp": "2026-02-01T00:00:07Z", "type": "obj", "worker": "q", "details": {"k": 1}},
        {"timestamp": "2026-02-01T00:00:08Z", "type": "w", "worker": None, "details": "x"},
        {"timestamp": 7, "type": "t", "worker": "q", "details": "d"},
        {"details": "order", "worker": "q", "type": "k", "timestamp": "2026-02-01T00:00:09Z"},
    ]
    doc["events"] = odd * 30 + doc["events"] + odd
    doc["memory"]["phase_learnings"].append(
        {"id": "learning_odd", "phase": 1, "learnings": [{"claim": "Tab\tand é", "n": 1e-05}]}
    )
    doc["memory"]["instincts"] = [{"id": "i1", "trigger": "t", "action": "a", "confidence": 0.7}]
    return doc


def _cases() -> dict[str, tuple[Install, ...]]:
    cases: dict[str, tuple[Install, ...]] = {}
    for path in sorted(FIXTURES.iterdir()):
        if path.name.endswith(".in.json") or path.name.endswith(".in"):
            stem = path.name.removesuffix(".json").removesuffix(".in")
            cases[f"fixture-{stem}"] = (_copy_input(path),)
    cases["synthetic-1000-compact"] = (_write(synthetic_3_0(1_000, 100)),)
    cases["synthetic-10000-compact"] = (_write(synthetic_3_0(10_000, 1_000)),)
    cases["old-tool-10000-indented"] = (_write(as_the_old_tool_wrote_it(10_000, 1_000), 2),)
    cases["edge-events"] = (_write(_edge_doc(), 2),)
    # a second colony migrated onto the memory files the first one left (merge, duplicates)
    second = synthetic_3_0(2_000, 200)
    second["goal"] = "A second colony"
    second["memory"]["instincts"] = [{"id": "i1", "trigger": "t", "action": "a"}]
    cases["onto-existing-memory"] = (_write(synthetic_3_0(1_000, 100)), _write(second, 2))
    return cases


def _anchor_cases() -> dict[str, tuple[Install, ...]]:
    if not ANCHORS.is_dir():
        return {}
    return {
        f"anchor-{p.name}": (_copy_input(p),)
        for p in sorted(ANCHORS.iterdir())
        if p.name.startswith("v") and (p.is_dir() or p.suffix == ".json")
    }


CASES = _cases()
ANCHOR_CASES = _anchor_cases()


def _digest(data: bytes, project: Path) -> str:
    return hashlib.sha256(data.replace(str(project).encode(), b"<project>")).hexdigest()


def _tree(project: Path) -> dict[str, str]:
    """SHA-256 of every file aether wrote under .aether/ (the lock holder's note has a pid)."""
    root = project / ".aether"
    return {
        str(p.relative_to(root)): _digest(p.read_bytes(), project)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock.holder")
    }


def outcome(installs: tuple[Install, ...], project: Path) -> dict[str, Any]:
    data = project / ".aether" / "data"
    data.mkdir(parents=True)
    record: dict[str, Any] = {}
    for i, install in enumerate(installs):
        install(data)
        env = clean_env(AETHER_NOW=NOW if i == 0 else LATER)
        ran = run_cli("migrate", cwd=project, env=env)
        record[f"migrate-{i}"] = [ran.returncode, _digest(ran.stdout.encode(), project)]
    record["after-migrate"] = _tree(project)
    again = run_cli("migrate", cwd=project, env=env)
    record["migrate-again"] = [again.returncode, _digest(again.stdout.encode(), project)]
    for command in ("status", "pause"):
        ran = run_cli(command, cwd=project, env=env)
        record[command] = [ran.returncode, _digest(ran.stdout.encode(), project)]
    record["after-pause"] = _tree(project)
    return record


def _gold() -> dict[str, Any]:
    return json.loads(GOLD.read_text(encoding="utf-8")) if GOLD.exists() else {}


def _check(name: str, installs: tuple[Install, ...], project: Path) -> None:
    actual = outcome(installs, project)
    if os.environ.get("AETHER_UPDATE_FIXTURES") == "1":
        gold = _gold()
        gold[name] = actual
        GOLD.write_text(json.dumps(gold, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = _gold().get(name)
    assert expected is not None, f"no recorded outcome for {name} in {GOLD.name}"
    assert actual == expected


def test_the_cases_cover_the_archive_and_every_fixture() -> None:
    gold = _gold()
    assert set(CASES) <= set(gold)
    assert len([n for n in CASES if n.startswith("fixture-")]) >= 9
    assert "data/events.archive.jsonl" in gold["old-tool-10000-indented"]["after-migrate"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_migrate_writes_the_recorded_bytes(name: str, tmp_path: Path) -> None:
    _check(name, CASES[name], tmp_path / "project")


@pytest.mark.skipif(not ANCHOR_CASES, reason=f"{ANCHORS} is absent (the real anchors)")
@pytest.mark.parametrize("name", sorted(ANCHOR_CASES) or ["none"])
def test_anchors_migrate_to_the_recorded_bytes(name: str, tmp_path: Path) -> None:
    _check(name, ANCHOR_CASES[name], tmp_path / "project")
