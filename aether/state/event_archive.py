"""The events archive's lines (``data/events.archive.jsonl``): each event as one line of
``compact_json`` — sorted keys, no whitespace — written by the store when events leave the
state, from validated ``Event`` models (``event_lines``) or, for an old colony's events beyond
the cap, from the upgraded document's dicts, each validated on its way (``archive_lines``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from aether.json_text import compact_json, pydantic_writes_alike
from aether.state.model import Event


def event_lines(events: list[Event]) -> bytes:
    """``events`` as lines of the events archive: each exactly ``compact_json`` of the
    event's dump (sorted keys, no whitespace), then a newline.

    Pydantic's serializer writes an event in that very form from the model (``Event``
    declares its fields in sorted order) when the event has no keys beyond its fields and
    its ``data`` is one ``compact_json`` would write alike (``json_text.pydantic_writes_alike``:
    sorted keys, no float spelled differently): ~0.7 µs an event instead of a dump and an
    encode that sorts (~3 µs; a migrated colony of 10,000 events moves 9,900). Any other
    event goes that long way. Either way an event is written from its validated model.
    """
    from pydantic_core import PydanticSerializationError

    write = Event.__pydantic_serializer__.to_json
    try:
        return b"".join(
            [
                (
                    write(event)
                    if not event.__pydantic_extra__
                    and type(event.data) is dict
                    and (not event.data or pydantic_writes_alike(event.data))
                    else _dumped_line(event)
                )
                + b"\n"
                for event in events
            ]
        )
    except PydanticSerializationError:
        # text no UTF-8 writer can encode (a lone surrogate): the long way, which refuses it
        # with the same error as ever
        return b"".join([_dumped_line(event) + b"\n" for event in events])


def _dumped_line(event: Event) -> bytes:
    return compact_json(event.model_dump(mode="json")).encode("utf-8")


class InvalidEvent(ValueError):
    """An event ``archive_lines`` was given does not validate as an ``Event``."""

    def __init__(self, index: int, error: ValidationError) -> None:
        super().__init__(f"event {index}: {error}")
        #: its place in the list given, and pydantic's account of what is wrong
        self.index = index
        self.error = error


def archive_lines(events: list[Any]) -> bytes:
    """Events not yet validated (the oldest of a state, in order) as the events archive's
    lines: each exactly the line ``event_lines`` writes for the ``Event`` it validates as.

    An event of only the model's own fields, each of the plain type the model declares — text;
    ``raw`` text or null; ``data`` an object pydantic-core writes as ``compact_json`` does
    (``json_text.pydantic_writes_alike``) — is what validation would make of it, defaults
    filled in: its line is written from it (~0.5 µs an event; building and writing the model,
    ~2 µs; tests/test_files.py holds the two to the same bytes). Any other event is validated
    as an ``Event`` (a failure: ``InvalidEvent``) and written from the model.
    """
    from pydantic_core import PydanticSerializationError, to_json

    plain = [_plain_event(event) for event in events]
    if None not in plain:  # the usual case: every event plain, written in one pass
        try:
            return b"".join([to_json(event) + b"\n" for event in plain])
        except PydanticSerializationError:
            pass  # text no UTF-8 writer can encode: the model's way refuses it as ever
    lines: list[bytes] = []
    for index, (event, plain_event) in enumerate(zip(events, plain, strict=True)):
        if plain_event is not None:
            try:
                lines.append(to_json(plain_event) + b"\n")
                continue
            except PydanticSerializationError:
                pass
        try:
            model = Event.model_validate(event)
        except ValidationError as exc:
            raise InvalidEvent(index, exc) from None
        lines.append(event_lines([model]))
    return b"".join(lines)


#: an ``Event``'s fields in its declared (sorted) order: the defaults, and None for the two
#: required ones
_EVENT_TEMPLATE: dict[str, Any] = {
    name: None if info.is_required() else info.default for name, info in Event.model_fields.items()
}


def _plain_event(event: Any) -> dict[str, Any] | None:
    """``event`` as the ``Event`` it validates as would be written, when it is plain (see
    ``archive_lines``); None otherwise."""
    if type(event) is not dict or not event.keys() <= _EVENT_TEMPLATE.keys():
        return None
    plain = {**_EVENT_TEMPLATE, **event}  # the template's key order, the event's values
    raw, data = plain["raw"], plain["data"]
    if (
        type(plain["message"]) is str
        and type(plain["source"]) is str
        and type(plain["ts"]) is str
        and type(plain["type"]) is str
        and (raw is None or type(raw) is str)
        and type(data) is dict
        and (not data or pydantic_writes_alike(data))
    ):
        return plain
    return None
