"""File primitives: the state's canonical form round-trips and is deterministic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aether.json_text import (
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


def test_staged_files_undo_every_part_when_one_fails(tmp_path: Path) -> None:
    """A write, an append to a file that exists and to one that does not, a link and a new
    directory are prepared; then a part fails: every file is as it was, nothing new is left."""
    import pytest

    from aether.errors import UnsafePath
    from aether.files import staged_files

    kept = tmp_path / "kept.json"
    kept.write_bytes(b"old\n")
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"line 1\n")
    blocker = tmp_path / "is-a-directory"
    blocker.mkdir()
    before = _tree(tmp_path)
    with pytest.raises(UnsafePath), staged_files() as staged:
        staged.write(kept, b"new\n")
        staged.append(log, ["line 2"])
        staged.append(tmp_path / "new.jsonl", ["first"])
        staged.make_dirs(tmp_path / "a" / "b")
        staged.link_or_copy(kept, tmp_path / "a" / "b" / "link.json")
        staged.write(tmp_path / "a" / "b" / "c.json", b"c\n")
        staged.write(blocker, b"cannot replace a directory\n")
    assert _tree(tmp_path) == before


def test_staged_files_commit_every_part_in_order(tmp_path: Path) -> None:
    from aether.files import staged_files

    kept = tmp_path / "kept.json"
    kept.write_bytes(b"old\n")
    with staged_files() as staged:
        staged.make_dirs(tmp_path / "backups")
        staged.link_or_copy(kept, tmp_path / "backups" / "kept.1.json")
        staged.write(kept, b"new\n")
        staged.append(tmp_path / "log.jsonl", ["one", "two"])
        assert kept.read_bytes() == b"old\n"  # nothing moved before the block ends
    assert kept.read_bytes() == b"new\n"
    assert (tmp_path / "backups" / "kept.1.json").read_bytes() == b"old\n"
    assert (tmp_path / "log.jsonl").read_text() == "one\ntwo\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups", "kept.json", "log.jsonl"]


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root``: a file's bytes, None for a directory."""
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


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


#: what an object holds when it was parsed from JSON (json.loads, as the state is read): any
#: text, NaN and the infinities, huge integers; keys in any order
parsed_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(st.characters(codec="utf-8")),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(parsed_values)
def test_pydantic_writes_alike_means_the_same_bytes(value: Any) -> None:
    """A value ``pydantic_writes_alike`` lets through is written by pydantic-core exactly as
    ``compact_json`` writes it (a value it refuses may still be; it then goes the long way)."""
    from pydantic_core import to_json

    from aether.json_text import pydantic_writes_alike

    if pydantic_writes_alike(value):
        assert to_json(value) == compact_json(value).encode("utf-8")


def test_pydantic_writes_alike_refuses_what_is_written_otherwise() -> None:
    from aether.json_text import pydantic_writes_alike

    for plain in ({"a": 1, "b": [None, True, "é\x00\x1f\x7f\u2028"]}, 10**30, 0.5, -0.0, 1e16):
        assert pydantic_writes_alike(plain), plain
    for other in ({"b": 1, "a": 2}, [1e-05], float("nan"), float("inf"), (1,), {1: "x"}):
        assert not pydantic_writes_alike(other), other


@given(python_values | parsed_values)
def test_canonical_json_bytes_are_canonical_json_encoded(value: Any) -> None:
    from aether.json_text import canonical_json_bytes

    assert canonical_json_bytes(value) == canonical_json(value).encode("utf-8")


def test_canonical_json_bytes_take_the_long_way_with_odd_keys_and_text() -> None:
    from aether.json_text import canonical_json_bytes

    odd: dict[Any, Any] = {"items": [{2: "two", 1: [1e-05, float("nan"), (1, 2)]}]}
    assert canonical_json_bytes(odd) == canonical_json(odd).encode("utf-8")
    with pytest.raises(UnicodeEncodeError):  # as canonical_json(...).encode("utf-8") is
        canonical_json_bytes({"a": "\udcff"})


def test_event_fields_are_declared_in_sorted_order() -> None:
    """``aether.state.event_archive.event_lines`` relies on it (the serializer keeps this order)."""
    from aether.state.model import Event

    assert list(Event.model_fields) == sorted(Event.model_fields)


event_dicts = st.fixed_dictionaries(
    {"ts": st.text(), "type": st.text()},
    optional={
        "source": st.text(),
        "message": st.text(st.characters(codec="utf-8")),
        "raw": st.none() | st.text(),
        "data": st.dictionaries(st.text(), parsed_values, max_size=4),
        # keys beyond the fields (kept: the model allows extra keys)
        "a_extra": parsed_values,
        "zzz": st.text(),
    },
)


@given(st.lists(event_dicts, max_size=6))
def test_event_lines_are_compact_json_of_each_validated_event(docs: list[dict[str, Any]]) -> None:
    """The archive's lines, fast way or long way, are the bytes they always were: each event's
    dump through ``compact_json``, a newline after each."""
    from aether.state.event_archive import event_lines
    from aether.state.model import Event

    events = [Event.model_validate(doc) for doc in docs]
    expected = "".join(compact_json(e.model_dump(mode="json")) + "\n" for e in events)
    assert event_lines(events) == expected.encode("utf-8")


_EVENT_KEYS = ["data", "message", "raw", "source", "ts", "type", "extra"]
#: anything an upgraded document could hold as an event: the shapes above, each with one key
#: set to a value of any type (often invalid), the model's fields with any values, and values
#: that are not objects at all
any_event = (
    event_dicts
    | st.builds(
        lambda doc, key, value: {**doc, key: value},
        event_dicts,
        st.sampled_from(_EVENT_KEYS),
        parsed_values,
    )
    | st.dictionaries(st.sampled_from(_EVENT_KEYS), parsed_values, max_size=7)
    | parsed_values
)


def _outcome(write: Any) -> bytes | str:
    """What a writer of archive lines gives: its bytes, or the error it raises."""
    from aether.state.event_archive import InvalidEvent

    try:
        return bytes(write())
    except InvalidEvent as exc:
        return f"InvalidEvent at {exc.index}"
    except UnicodeEncodeError:
        return "UnicodeEncodeError"


@given(st.lists(any_event, max_size=6))
def test_archive_lines_are_the_lines_of_the_events_the_dicts_validate_as(docs: list[Any]) -> None:
    """An upgraded colony's oldest events go to the archive without becoming models
    (``aether.state.event_archive.archive_lines``): every line is the one ``event_lines`` writes for
    the validated ``Event``, and the first event that does not validate is named by its
    place (the load reports it as validating the whole state would have)."""
    _assert_archived_as_the_model_would_be(docs)


@pytest.mark.parametrize(
    "value", [5, 1.5, True, None, "text", "", ["x"], {"k": "v"}, {"b": 1, "a": 2}, {"x": 1e-05}]
)
@pytest.mark.parametrize("key", ["data", "message", "raw", "source", "ts", "type", "extra"])
def test_archive_lines_take_each_field_of_any_type_as_the_model_does(key: str, value: Any) -> None:
    """Each field with a value of each JSON type, alone and after a valid event; and the two
    required fields missing."""
    doc = {"ts": "2026-02-01T00:00:00Z", "type": "tick", key: value}
    _assert_archived_as_the_model_would_be([doc])
    _assert_archived_as_the_model_would_be([{"ts": "t", "type": "x"}, doc])
    _assert_archived_as_the_model_would_be([{k: v for k, v in doc.items() if k != "ts"}])
    _assert_archived_as_the_model_would_be([{k: v for k, v in doc.items() if k != "type"}])


def _assert_archived_as_the_model_would_be(docs: list[Any]) -> None:
    from pydantic import ValidationError

    from aether.state.event_archive import archive_lines, event_lines
    from aether.state.model import Event

    got = _outcome(lambda: archive_lines(docs))
    for index, doc in enumerate(docs):
        try:
            Event.model_validate(doc)
        except ValidationError:
            assert got == f"InvalidEvent at {index}", (docs, got)
            return
    assert got == _outcome(lambda: event_lines([Event.model_validate(d) for d in docs])), docs


def test_the_plain_events_archive_lines_trusts_are_the_event_models_fields() -> None:
    """``archive_lines`` writes a plain event without the model: it knows ``Event``'s fields
    and their types (the defaults it takes from the model). A field, a type or a validator
    added to the model must be added there too; this says so before any line can differ."""
    import dataclasses
    from typing import Any as AnyType

    from aether.state.model import Event

    fields = {name: info.annotation for name, info in Event.model_fields.items()}
    assert list(fields) == sorted(fields)
    assert fields == {
        "data": dict[str, AnyType],
        "message": str,
        "raw": str | None,
        "source": str,
        "ts": str,
        "type": str,
    }
    decorators = Event.__pydantic_decorators__  # validators, serializers, computed fields
    assert not any(getattr(decorators, f.name) for f in dataclasses.fields(decorators))
    assert Event.model_config.get("extra") == "allow"


def test_event_lines_refuse_text_no_utf8_writer_can_encode() -> None:
    """A lone surrogate (an undecodable byte of a command line) is refused as it always was."""
    from aether.state.event_archive import event_lines
    from aether.state.model import Event

    with pytest.raises(UnicodeEncodeError):
        event_lines([Event(ts="t", type="x"), Event(ts="t", type="x", message="\udcff")])


def test_staged_append_bytes_is_undone_like_append(tmp_path: Path) -> None:
    from aether.errors import UnsafePath
    from aether.files import staged_files

    log = tmp_path / "log.jsonl"
    log.write_bytes(b"line 1\n")
    with pytest.raises(UnsafePath), staged_files() as staged:
        staged.append_bytes(log, b"line 2\nline 3\n")
        assert log.read_bytes() == b"line 1\nline 2\nline 3\n"
        staged.write(tmp_path, b"cannot replace a directory\n")
    assert log.read_bytes() == b"line 1\n"


def test_preserve_keeps_the_replaced_file_as_a_hard_link(tmp_path: Path) -> None:
    """The old file itself becomes the copy: no byte written, the same bytes after the
    replace, a file of its own (one link) once the new one is in place."""
    import os

    from aether.files import staged_files

    state = tmp_path / "state.json"
    state.write_bytes(b"old\n")
    inode = state.stat().st_ino
    with staged_files() as staged:
        staged.make_dirs(tmp_path / "backup")
        staged.preserve(state, tmp_path / "backup" / "state.json", b"old\n")
        staged.write(state, b"new\n")
        assert (tmp_path / "backup" / "state.json").stat().st_ino == inode
    kept = tmp_path / "backup" / "state.json"
    assert kept.read_bytes() == b"old\n" and state.read_bytes() == b"new\n"
    assert kept.stat().st_ino == inode and os.stat(kept).st_nlink == 1


@pytest.mark.parametrize("errno_name", ["EXDEV", "EPERM", "EMLINK"])
def test_preserve_copies_where_no_link_can_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, errno_name: str
) -> None:
    import errno
    import os

    from aether.files import staged_files

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(getattr(errno, errno_name), "no link here")

    state = tmp_path / "state.json"
    state.write_bytes(b"old\n")
    monkeypatch.setattr(os, "link", refuse)
    with staged_files() as staged:
        staged.preserve(state, tmp_path / "copy.json", b"old\n")
        staged.write(state, b"new\n")
    assert (tmp_path / "copy.json").read_bytes() == b"old\n"
    assert (tmp_path / "copy.json").stat().st_ino != state.stat().st_ino


def test_preserve_copies_the_bytes_read_when_the_file_changed_since(tmp_path: Path) -> None:
    """The copy is of what was read (what the change was made from): a file rewritten in
    place since then is not linked."""
    from aether.files import staged_files

    state = tmp_path / "state.json"
    state.write_bytes(b"changed in place\n")
    with staged_files() as staged:
        staged.preserve(state, tmp_path / "copy.json", b"as read\n")
        staged.write(state, b"new\n")
    assert (tmp_path / "copy.json").read_bytes() == b"as read\n"


def test_preserve_leaves_no_link_when_the_replace_does_not_happen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link is a copy only once its file is replaced: should that move fail, the link
    (which would share the live file) is removed with the rest."""
    import errno
    import os

    from aether.errors import AetherError
    from aether.files import staged_files

    state = tmp_path / "state.json"
    state.write_bytes(b"old\n")
    real_replace = os.replace

    def failing(source: Any, target: Any) -> None:
        if Path(target) == state:
            raise OSError(errno.EIO, "I/O error")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(AetherError), staged_files() as staged:
        staged.preserve(state, tmp_path / "copy.json", b"old\n")
        staged.write(state, b"new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
    assert state.read_bytes() == b"old\n"


def test_preserve_of_a_file_the_change_does_not_replace_is_refused(tmp_path: Path) -> None:
    from aether.files import staged_files

    state = tmp_path / "state.json"
    state.write_bytes(b"old\n")
    with pytest.raises(ValueError, match="does not replace"), staged_files() as staged:
        staged.preserve(state, tmp_path / "copy.json", b"old\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
