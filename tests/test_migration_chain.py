"""The migration chain as plain data, tested without a disk (alembic's habit).

The lossless checker they use is in tests/helpers.py.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from aether.errors import NotColonyState, StateInvalid, StateTooNew, UnknownStateVersion
from aether.memory import item_id
from aether.state.migrations import (
    CURRENT_VERSION,
    STEPS,
    detect_version,
    plan_for,
)
from aether.state.migrations.duplicates import loads_keeping_duplicates
from aether.state.migrations.v3_parts import STATUS_OF, event_of
from aether.state.model import ColonyState
from tests.helpers import (
    ANCHORS,
    SIBLINGS,
    anchor_inputs,
    anchor_paths,
    missing_strings,
    needs_shared,
    upgrade_doc,
)

# --- the registry ------------------------------------------------------------------------------


def test_chain_is_contiguous_and_ends_at_the_current_version() -> None:
    assert STEPS, "the chain has steps"
    for a, b in itertools.pairwise(STEPS):
        assert a.to_version == b.from_version, (a.name, b.name)
    assert STEPS[-1].to_version == CURRENT_VERSION
    assert len({s.from_version for s in STEPS}) == len(STEPS)
    for step in STEPS:
        assert step.summary and "\n" not in step.summary and len(step.summary) < 200
        assert callable(step.fn), f"{step.name}: module {step.module} has no migrate()"


def test_current_version_is_the_schema_the_model_validates() -> None:
    fresh = upgrade_doc({"version": "3.0", "goal": "g", "state": "IDLE"}).state
    assert fresh["version"] == CURRENT_VERSION
    ColonyState.model_validate(fresh)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.0", ["0.0 -> 1.0", "1.0 -> 2.0", "2.0 -> 3.0", "3.0 -> 4.0"]),
        ("2.0", ["2.0 -> 3.0", "3.0 -> 4.0"]),
        ("3.0", ["3.0 -> 4.0"]),
        (CURRENT_VERSION, []),
    ],
)
def test_plan_lists_the_steps_in_order(version: str, expected: list[str]) -> None:
    assert [s.name for s in plan_for(version)] == expected


# --- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "version"),
    [
        ({"$schema": "x", "colony_status": {"state": "IDLE"}}, "0.0"),
        ({"queen_intention": {"goal": "g"}}, "0.0"),
        ({"goal": None, "state": "IDLE", "workers": {}}, "1.0"),
        ({"spawn_outcomes": {}}, "1.0"),
        ({"version": "1.0", "goal": "g"}, "1.0"),
        ({"version": "2.0"}, "2.0"),
        ({"version": "3.0", "model_profile": {}}, "3.0"),
        ({"version": CURRENT_VERSION}, CURRENT_VERSION),
    ],
)
def test_detection_by_key_and_by_shape(doc: dict[str, Any], version: str) -> None:
    assert detect_version(doc) == version


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        ([], NotColonyState),
        ("colony", NotColonyState),
        (None, NotColonyState),
        (3, NotColonyState),
        ({}, NotColonyState),
        ({"name": "my-npm-package", "dependencies": {}}, NotColonyState),
        ({"version": "9.0"}, StateTooNew),
        ({"version": "4.1"}, StateTooNew),
        ({"version": "2.5"}, UnknownStateVersion),
        ({"version": "0.0"}, UnknownStateVersion),
        ({"version": 7}, UnknownStateVersion),
        ({"version": None}, UnknownStateVersion),
        ({"version": "three"}, UnknownStateVersion),
    ],
)
def test_detection_refuses_what_it_cannot_read(doc: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        detect_version(doc)


# --- the anchor corpus -------------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("path", anchor_paths(), ids=lambda p: p.name)
def test_every_anchor_migrates_validates_and_keeps_every_string(path: Path) -> None:
    doc, siblings, duplicates = anchor_inputs(path)
    original = copy.deepcopy(doc)
    result = upgrade_doc(doc, siblings, duplicate_keys=duplicates)
    assert doc == original, "a step mutated its input"
    assert result.steps and result.state["version"] == CURRENT_VERSION
    state = ColonyState.model_validate(result.state)
    assert state.migrations[-1]["from"] == result.from_version
    shadowed = [d["shadowed"] for d in duplicates]
    assert missing_strings([doc, siblings, shadowed], result) == []


@needs_shared
def test_anchor_details_land_where_the_issue_says() -> None:
    chamber = next(ANCHORS.glob("v3.0-chamber-executing.*.json"))
    doc, _, duplicates = anchor_inputs(chamber)
    state = ColonyState.model_validate(upgrade_doc(doc, duplicate_keys=duplicates).state)
    assert (state.status, state.status_detail) == ("paused", "EXECUTING")
    assert state.session.paused_at == "2026-02-15T14:30:00Z"
    assert state.legacy["duplicate_keys"] == [{"path": "$.state", "shadowed": ["READY"]}]
    # the old model_profile block carries over into its current equivalent
    assert state.profile_binding is not None
    assert state.profile_binding.proxy_endpoint == "http://localhost:4000"
    assert state.profile_binding.routing_enabled is True
    assert state.profile_binding.profile_file == ".aether/model-profiles.yaml"
    assert "model_profile" not in state.legacy.get("3.0", {})
    assert [p.id for p in state.plan.phases] == [1, 2, 3, 4]
    assert state.plan.confidence == 80
    six = next(p for p in ANCHORS.iterdir() if p.is_dir())
    doc, siblings, _ = anchor_inputs(six)
    result = upgrade_doc(doc, siblings)
    assert len(result.state["errors"]) == 4
    assert result.siblings_folded == sorted(SIBLINGS)
    v0 = next(ANCHORS.glob("v0-*.json"))
    state = ColonyState.model_validate(upgrade_doc(json.loads(v0.read_text())).state)
    assert len(state.plan.phases) == 10 and state.plan.phases[1].description.startswith("Six")
    assert state.legacy["0.0"]["spawn_tracking"]["total_spawns"] == 5


# --- drift and mapping -------------------------------------------------------------------------


def test_every_old_lifecycle_text_is_mapped_deliberately() -> None:
    for text in (
        "IDLE",
        "READY",
        "EXECUTING",
        "BUILT",
        "COMPLETED",
        "PAUSED",
        "PLANNING",
        "SEALED",
        "ENTOMBED",
        "DONE",
        "RUNNING",
        "CROWNED",
    ):
        assert text in STATUS_OF
        state = upgrade_doc({"version": "3.0", "state": text}).state
        assert state["status"] == STATUS_OF[text] != "unknown"
        assert state["status_detail"] == text
    odd = upgrade_doc({"version": "3.0", "state": "HIBERNATING"}).state
    assert (odd["status"], odd["status_detail"]) == ("unknown", "HIBERNATING")


def test_events_become_structured_and_keep_their_text() -> None:
    pipe = event_of("2026-02-03T17:23:09Z | phase_started | builder | Phase 1 | with a bar")
    assert pipe == {
        "ts": "2026-02-03T17:23:09Z",
        "type": "phase_started",
        "source": "builder",
        "message": "Phase 1 | with a bar",
        "raw": "2026-02-03T17:23:09Z | phase_started | builder | Phase 1 | with a bar",
    }
    assert event_of("free text")["raw"] == "free text"
    obj = event_of({"timestamp": "t", "type": "x", "worker": "w", "details": {"a": ["b"]}})
    assert obj == {
        "ts": "t",
        "type": "x",
        "source": "w",
        "message": "",
        "data": {"details": {"a": ["b"]}},
    }


def test_3_0_drift_is_absorbed() -> None:
    doc = {
        "version": "3.0",
        "goal": "g",
        "state": "READY",
        "current_phase": "7",
        "plan": {
            "confidence": {"scope": 0.5},
            "phases": [{"number": 6, "name": "n"}, {"id": "x", "tasks": ["do it"]}],
        },
        "memory": {
            "phase_learnings": json.dumps([{"phase": 3, "learning": "L1"}]),
            "decisions": None,
            "instincts": [{"trigger": "T", "action": "A", "confidence": 0.7}],
            "patterns": ["P", "P"],
        },
        "events": ["a | b | c | d", {"timestamp": "t", "type": "x", "worker": "w", "details": "m"}],
    }
    result = upgrade_doc(doc)
    state = ColonyState.model_validate(result.state)
    assert state.current_phase == 7 and state.legacy["3.0"]["current_phase"] == "7"
    assert [p.id for p in state.plan.phases] == [6, "x"]
    assert state.plan.phases[1].tasks[0].id == "x.1"
    assert state.plan.confidence == {"scope": 0.5}
    items = {m["text"]: m for m in result.memory}
    assert items["L1"]["phase"] == "3" and items["L1"]["id"] == item_id("learning", "L1")
    assert items["T: A"]["confidence"] == 0.7 and items["T: A"]["kind"] == "instinct"
    assert items["P"]["source"] == "migration:3.0:$.memory.patterns[0]"
    assert items["P"]["duplicates"][0]["source"] == "migration:3.0:$.memory.patterns[1]"
    assert "__memory__" not in result.state and "__legacy__" not in result.state


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"version": "3.0", "goal": 42}, "goal should be a string"),
        ({"version": "3.0", "plan": "soon"}, "plan should be an object"),
        ({"version": "3.0", "plan": {"phases": 3}}, "plan.phases should be an array"),
        ({"version": "3.0", "plan": {"phases": [1]}}, "plan.phases[0] should be an object"),
        ({"version": "3.0", "events": {"a": 1}}, "events should be an array"),
        ({"version": "3.0", "memory": {"decisions": 5}}, "memory.decisions should be an array"),
        ({"version": "3.0", "paused": "yes"}, "paused should be true or false"),
        ({"version": "2.0", "current_phase": [1]}, "current_phase should be a number"),
        ({"queen_intention": "g"}, "queen_intention should be an object"),
    ],
)
def test_wrong_types_in_known_fields_are_refused_clearly(doc: dict[str, Any], where: str) -> None:
    with pytest.raises(StateInvalid) as info:
        upgrade_doc(doc)
    assert where in info.value.what


def test_current_documents_pass_through_untouched() -> None:
    doc = {"version": CURRENT_VERSION, "anything": 1}
    result = upgrade_doc(doc)
    assert result.state is doc and not result.changed and result.memory == []


def test_repeated_keys_are_read_like_the_old_tool_and_kept() -> None:
    doc, dups = loads_keeping_duplicates('{"a": 1, "b": {"c": "x", "c": "y", "c": "z"}, "a": 2}')
    assert doc == {"a": 2, "b": {"c": "z"}}
    assert sorted(dups, key=lambda d: d["path"]) == [
        {"path": "$.a", "shadowed": [1]},
        {"path": "$.b.c", "shadowed": ["x", "y"]},
    ]
