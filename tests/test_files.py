"""File primitives: the state's canonical form round-trips and is deterministic."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aether.files import DuplicateKeyError, loads_strict, state_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), json_values))
def test_state_json_round_trips_and_is_deterministic(doc: dict[str, Any]) -> None:
    text = state_json(doc)
    assert json.loads(text) == doc
    assert state_json(json.loads(text)) == text
    assert text.endswith("}\n")


def test_state_json_puts_each_list_item_on_its_own_line() -> None:
    text = state_json({"workers": [{"id": "a"}, {"id": "b"}], "goal": "g"})
    assert text.splitlines() == [
        "{",
        '  "goal": "g",',
        '  "workers": [',
        '    {"id":"a"},',
        '    {"id":"b"}',
        "  ]",
        "}",
    ]


def test_duplicate_keys_are_refused_at_any_depth() -> None:
    for text in ('{"a": 1, "a": 2}', '{"x": {"b": 1, "b": 1}}', '[{"c": 0, "c": 0}]'):
        try:
            loads_strict(text)
        except DuplicateKeyError:
            continue
        raise AssertionError(f"accepted {text}")
