"""File primitives: the state's canonical form round-trips and is deterministic."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aether.files import (
    DuplicateKeyError,
    canonical_json,
    compact_json,
    loads_strict,
    state_json,
)

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


#: everything json.dumps writes: NaN and infinities, tuples, huge integers, any text
python_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(),
    lambda children: (
        st.lists(children) | st.lists(children).map(tuple) | st.dictionaries(st.text(), children)
    ),
    max_leaves=30,
)


@given(python_values)
def test_canonical_json_writes_exactly_what_json_dumps_writes(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert canonical_json(value) == expected


def test_canonical_json_keeps_jsons_way_with_odd_keys_and_values() -> None:
    odd: dict[Any, Any] = {2: "two", 1.5: 1}  # json turns number keys into text
    assert canonical_json({"a": odd}) == json.dumps({"a": odd}, indent=2, sort_keys=True) + "\n"
    for unwritable in ({"a": {1, 2}}, {"a": object()}):
        try:
            json.dumps(unwritable, sort_keys=True, indent=2)
        except TypeError as expected:
            with pytest.raises(TypeError, match=str(expected)):
                canonical_json(unwritable)


@given(python_values)
def test_compact_json_writes_exactly_what_json_dumps_writes(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert compact_json(value) == expected
