"""Property: for generated legacy documents of every version (with the drift real files show),
the chain never crashes, the result validates, the input is not mutated, and every string leaf
of the input (siblings included) survives in the state or the memory items."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aether.state.model import ColonyState
from tests.helpers import missing_strings, upgrade_doc

KNOWN = {
    "version", "goal", "state", "current_phase", "session_id", "initialized_at", "workers",
    "spawn_outcomes", "mode", "mode_set_at", "mode_indicators", "plan", "signals", "memory",
    "errors", "events", "created_at", "last_updated", "paused", "paused_at", "colony_name",
    "model_profile", "$schema", "colony_metadata", "queen_intention", "colony_status", "phases",
    "__legacy__", "__memory__", "legacy", "migrations",
}  # fmt: skip

text = st.text(max_size=12)
opt_text = st.none() | text
leaf = st.none() | st.booleans() | st.integers(-5, 5) | text
value = st.recursive(
    leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(text, c, max_size=3), max_leaves=6
)
unknown = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(lambda k: k not in KNOWN), value, max_size=3
)
states = st.sampled_from(["IDLE", "READY", "EXECUTING", "PAUSED", "CROWNED", "SEALED"]) | text
phase_no = st.integers(0, 20)
current_phase = st.none() | phase_no | phase_no.map(str) | text


def listish(item: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A memory list as the old tool wrote it: a list, its JSON text, or null."""
    items = st.lists(item, max_size=3)
    return st.none() | items | items.map(json.dumps)


pipe_event = st.tuples(text, text, text, text).map(lambda p: " | ".join(p))
obj_event = st.fixed_dictionaries(
    {"timestamp": text, "type": text, "worker": text, "details": text | value},
    optional={"extra": value},
)
events = st.lists(pipe_event | obj_event | text, max_size=4)
task = text | st.fixed_dictionaries(
    {"id": text | st.integers(1, 9), "goal": text},
    optional={"status": text, "hints": st.lists(text)},
)
phase = st.fixed_dictionaries(
    {"name": opt_text, "status": opt_text},
    optional={
        "id": phase_no | text,
        "number": phase_no,
        "description": text,
        "goal": text,
        "tasks": st.lists(task, max_size=3),
        "caste": text,
    },
)
plan = st.fixed_dictionaries(
    {"generated_at": opt_text, "phases": st.lists(phase, max_size=3)},
    optional={"confidence": st.none() | st.integers(0, 100) | st.dictionaries(text, leaf)},
)
learning = (
    text
    | st.fixed_dictionaries(
        {
            "phase": st.none() | text | phase_no,
            "learnings": st.lists(
                st.fixed_dictionaries({"claim": text, "status": text}), max_size=2
            ),
        },
        optional={"id": text, "timestamp": text},
    )
    | st.fixed_dictionaries({"phase": text, "learning": text})
)
decision = text | st.fixed_dictionaries({"decision": text}, optional={"rationale": text})
instinct = st.fixed_dictionaries(
    {"trigger": text, "action": text},
    optional={"confidence": st.floats(0, 1), "evidence": st.lists(text)},
)
memory = st.fixed_dictionaries(
    {
        "phase_learnings": listish(learning),
        "decisions": listish(decision),
        "patterns": listish(text | st.fixed_dictionaries({"pattern": text})),
    },
    optional={"instincts": listish(instinct)},
)
records = st.lists(st.dictionaries(text, leaf, max_size=3), max_size=3)
errors = st.fixed_dictionaries({"records": records}, optional={"flagged_patterns": st.lists(text)})
v1_fields = {
    "goal": opt_text, "state": states, "current_phase": current_phase,
    "session_id": opt_text, "initialized_at": opt_text,
    "workers": st.dictionaries(text, text, max_size=3), "spawn_outcomes": value,
}  # fmt: skip


def with_unknown(base: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(base, unknown).map(lambda t: {**t[1], **t[0]})


v3 = with_unknown(st.fixed_dictionaries(
    {"version": st.just("3.0"), "goal": opt_text, "state": states, "current_phase": current_phase,
     "plan": plan, "memory": memory, "errors": errors, "events": events,
     "signals": records},
    optional={"session_id": opt_text, "initialized_at": opt_text, "paused": st.booleans(),
              "paused_at": opt_text, "created_at": text, "last_updated": text,
              "colony_name": opt_text, "model_profile": st.dictionaries(text, leaf),
              "milestone": text, "graveyards": value},
))  # fmt: skip
v2 = with_unknown(st.fixed_dictionaries(
    {"version": st.just("2.0"), **v1_fields, "plan": plan, "signals": records, "memory": memory,
     "errors": errors, "events": st.lists(pipe_event, max_size=3)},
    optional={"mode": opt_text, "mode_indicators": value},
))  # fmt: skip
v1 = with_unknown(st.fixed_dictionaries(v1_fields))
v0 = with_unknown(st.fixed_dictionaries(
    {"$schema": text,
     "colony_metadata": st.fixed_dictionaries({"version": text, "session_id": opt_text}),
     "queen_intention": st.fixed_dictionaries({"goal": opt_text, "context": text}),
     "colony_status": st.fixed_dictionaries({"state": states, "current_phase": current_phase,
                                             "state_history": st.lists(value, max_size=2)}),
     "phases": st.fixed_dictionaries({"total_phases": phase_no,
                                      "roadmap": st.lists(phase, max_size=3)}),
     "events": st.fixed_dictionaries({"event_log": events})},
    optional={"meta_learning": value, "spawn_tracking": value},
))  # fmt: skip
siblings = st.fixed_dictionaries(
    {},
    optional={
        "PROJECT_PLAN.json": st.fixed_dictionaries({"goal": opt_text, "generated_at": opt_text,
                                                    "phases": st.lists(phase, max_size=2)}),
        "pheromones.json": st.fixed_dictionaries({"signals": records}),
        "memory.json": memory,
        "errors.json": st.fixed_dictionaries({"errors": records,
                                              "flagged_patterns": st.lists(text)}),
        "events.json": st.fixed_dictionaries({"events": st.lists(pipe_event, max_size=3)}),
    },
)  # fmt: skip

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(doc: dict[str, Any], sibs: dict[str, Any]) -> None:
    original = copy.deepcopy((doc, sibs))
    result = upgrade_doc(doc, sibs)
    assert (doc, sibs) == original, "a step mutated its input"
    ColonyState.model_validate(result.state)
    assert missing_strings([doc, sibs], result) == []


@SETTINGS
@given(v3)
def test_3_0_documents_lose_nothing(doc: dict[str, Any]) -> None:
    check(doc, {})


@SETTINGS
@given(v2)
def test_2_0_documents_lose_nothing(doc: dict[str, Any]) -> None:
    check(doc, {})


@SETTINGS
@given(v1, siblings)
def test_v1_six_file_layouts_lose_nothing(doc: dict[str, Any], sibs: dict[str, Any]) -> None:
    check(doc, sibs)


@SETTINGS
@given(v0)
def test_pre_release_documents_lose_nothing(doc: dict[str, Any]) -> None:
    check(doc, {})
