"""JSON text as aether writes and reads it: strict parsing (a duplicate key, a lone surrogate
escape are errors, not silently resolved) and canonical, compact and state layouts."""

from __future__ import annotations

import json
import re
from typing import Any


class DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(key)
        result[key] = value
    return result


def loads_strict(text: str) -> Any:
    """Parse JSON, rejecting duplicate object keys (``json`` silently keeps the last)."""
    return json.loads(text, object_pairs_hook=_reject_duplicates)


#: a JSON escape of a UTF-16 surrogate; only a lone one (not half of a pair) is refused
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

    For small files (manifests, memory, docs). The state file uses ``state_json``: ``indent``
    forces Python's pure-Python encoder, which was half the cost of a write at 200 workers.
    """
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def compact_json(data: Any) -> str:
    """Sorted keys, no whitespace, one line (C encoder): for JSON-lines files."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


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
