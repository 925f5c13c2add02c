"""JSON text as aether writes and reads it: strict parsing (a duplicate key, a lone surrogate
escape are errors, not silently resolved) and canonical, compact and state layouts, each
exactly the bytes ``json.dumps`` would write with the same settings, only faster."""

from __future__ import annotations

import json
import math
import re
from json.encoder import encode_basestring
from typing import Any


class DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # built in C; only a repeated key makes it shorter than the pairs
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return result


def loads_strict(text: str) -> Any:
    """Parse JSON, rejecting duplicate object keys (``json`` silently keeps the last)."""
    return json.loads(text, object_pairs_hook=_reject_duplicates)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def lone_surrogate(text: str, doc: Any) -> str | None:
    """Where the JSON document ``doc`` (parsed from ``text``) holds a lone surrogate escape
    (``"\\ud800"``): a string no UTF-8 writer can encode, so every command that printed or
    wrote it would fail. The place as ``a.b[3]`` ("" for the top level); None when there is
    none. The text scan is cheap; the document is walked only when an escape is there at all."""
    if not _SURROGATE_ESCAPE.search(text):
        return None
    return _lone_surrogate_path(doc, "")


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _lone_surrogate_path(value: Any, path: str) -> str | None:
    """Where in ``value`` a string (or a key) holds a lone surrogate, as ``a.b[3]``; None."""
    if isinstance(value, str):
        return path if _has_lone_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if _has_lone_surrogate(key):
                return path or "a key"
            found = _lone_surrogate_path(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _lone_surrogate_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def canonical_json(data: Any) -> str:
    """Sorted keys, 2-space indent, trailing newline: stable bytes for stable diffs.

    For files read by people (manifests, memory, docs). The state file uses ``state_json``:
    ``indent`` forces Python's pure-Python encoder, which was half the cost of a write at 200
    workers. The bytes are exactly ``json.dumps(data, sort_keys=True, indent=2,
    ensure_ascii=False)`` plus a newline (tests/test_files.py compares them on many inputs),
    written by a plain recursion that takes ~60 % of that encoder's time (a migrated colony's
    1,000 learnings are one such file).
    """
    out: list[str] = []
    try:
        _indented(data, "\n", out)
    except TypeError:  # a non-text key or a value JSON has no form for: json's own words
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    out.append("\n")
    return "".join(out)


def _indented(value: Any, newline: str, out: list[str]) -> None:
    """``value`` as ``json.dumps(indent=2, sort_keys=True)`` writes it, onto ``out``; the same
    type tests in the same order as json's encoder, so every subclass is written alike."""
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float_text(value))
    elif isinstance(value, list | tuple | dict):
        _indented_container(value, newline, out)
    else:
        raise TypeError(type(value).__name__)


def _float_text(value: float) -> str:
    """json's spelling of a float, the ones without a JSON number included."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _indented_container(value: Any, newline: str, out: list[str]) -> None:
    if not value:
        out.append("{}" if isinstance(value, dict) else "[]")
        return
    inner = newline + "  "
    if isinstance(value, dict):
        separator = "{" + inner
        for key, item in sorted(value.items()):
            if not isinstance(key, str):
                raise TypeError(type(key).__name__)
            out.append(separator + encode_basestring(key) + ": ")
            separator = "," + inner
            _indented(item, inner, out)
        out.append(newline + "}")
        return
    separator = "[" + inner
    for item in value:
        out.append(separator)
        separator = "," + inner
        _indented(item, inner, out)
    out.append(newline + "]")


def compact_json(data: Any) -> str:
    """Sorted keys, no whitespace, one line (C encoder): for JSON-lines files and each line of
    the state file. Exactly ``json.dumps(data, sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))``, through one encoder built once: ``json.dumps`` builds two
    objects a call, half the time of a small line (the 10,000 events of a migrated colony)."""
    return "".join(_COMPACT(data, 0))


def _compact_encoder() -> Any:
    """json's C encoder with ``compact_json``'s settings (json's own Python one without it)."""
    settings = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return lambda data, _level: [settings.encode(data)]
    # no circular-reference markers: aether never writes a structure that contains itself
    return make(None, settings.default, encode_basestring, None, ":", ",", True, False, True)


_COMPACT = _compact_encoder()


def pydantic_writes_alike(value: Any) -> bool:
    """Does pydantic-core's JSON serializer write ``value`` byte for byte as ``compact_json``
    does? It keeps a dict's order where compact_json sorts, and spells some floats its own
    way (``1e-05`` is ``0.00001`` there), so: yes when every object's keys are text in sorted
    order and every value is of JSON's own types (exactly: no subclass), a float only when
    both spell it alike (not NaN or an infinity, which pydantic writes as null). Text is
    escaped alike by both (``\\"``, ``\\\\``, ``\\n``, ``\\u001f``; nothing else:
    tests/test_files.py compares them on any text). False says nothing about the value's
    validity: it only sends it the long way."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        keys = list(value)
        return (
            all(type(key) is str for key in keys)
            and keys == sorted(keys)
            and all(pydantic_writes_alike(item) for item in value.values())
        )
    if kind is list:
        return all(pydantic_writes_alike(item) for item in value)
    return kind is float and _float_alike(value)


def _float_alike(value: float) -> bool:
    if not math.isfinite(value):
        return False
    from pydantic_core import to_json

    return to_json(value) == float.__repr__(value).encode("ascii")


class _Unlike(Exception):
    """A value pydantic-core would write otherwise than json does."""


def _sorted_alike(value: Any) -> Any:
    """``value`` with every object's keys in sorted order (a copy of each dict and list), for
    pydantic-core to write as json writes it with ``sort_keys``; ``_Unlike`` when it holds a
    value the two write differently (see ``pydantic_writes_alike``)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    # text, numbers and null inline (no call each: most values of a memory file are text)
    if kind is dict:
        if value and set(map(type, value)) != _TEXT:  # every key text (in C: no loop here)
            raise _Unlike
        return {
            key: item if type(item) in _PLAIN else _sorted_alike(item)
            for key, item in sorted(value.items())  # keys are unique: values never compared
        }
    if kind is list:
        return [item if type(item) in _PLAIN else _sorted_alike(item) for item in value]
    if kind is float and _float_alike(value):
        return value
    raise _Unlike


#: the types both writers spell alike whatever the value (exactly these: no subclass)
_PLAIN = frozenset({str, int, bool, type(None)})
_TEXT = {str}


def canonical_json_bytes(data: Any) -> bytes:
    """``canonical_json(data)`` encoded in UTF-8, byte for byte, in half its time for a large
    file (the 1,000 learnings of a migrated colony): the keys are sorted in a copy, then
    pydantic-core writes it with the same indentation. Anything it would write otherwise
    (``pydantic_writes_alike``) takes ``canonical_json``. For callers that have Pydantic
    loaded anyway: importing it is ~30 ms.
    """
    from pydantic_core import PydanticSerializationError, to_json

    try:
        return to_json(_sorted_alike(data), indent=2) + b"\n"
    except (_Unlike, PydanticSerializationError):  # the latter: a lone surrogate
        return canonical_json(data).encode("utf-8")


def state_json(data: dict[str, Any]) -> str:
    """The state file's canonical form: sorted keys, one top-level field per line and one list
    item (a worker, an event) per line, so diffs stay readable — all encoded by the C encoder.
    The same data always gives the same bytes.
    """
    keys = sorted(data)
    lines = ["{"]
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        name = json.dumps(key, ensure_ascii=False)
        value = data[key]
        if isinstance(value, list) and value:
            lines.append(f"  {name}: [")
            last = len(value) - 1
            lines.extend(
                f"    {compact_json(item)}{',' if j < last else ''}" for j, item in enumerate(value)
            )
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {name}: {compact_json(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"
