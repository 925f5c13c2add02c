"""Reading a legacy file that repeats a key in one object.

aether never writes a repeated key, so in a current-format file it is corruption and the store
refuses it (``StateDuplicateKeys``). The tool we replace did write them: one of its real archived
chambers (a v3.0 colony paused while executing) has ``"state": "READY"`` and, four lines later,
``"state": "EXECUTING"`` (tests/test_migration_chain.py reads it when the anchor corpus of real
state files is present beside the repository). Every reader that tool had (jq, ``JSON.parse``, Go's
``encoding/json``) keeps the *last* value, so what that file meant is known: we read it the same
way and keep each shadowed value, with its path, in ``legacy.duplicate_keys``. Nothing is lost.
"""

from __future__ import annotations

import json
from typing import Any


class _Shadowed:
    """Sentinel dict key (not a str, so it cannot collide with a JSON key)."""


_SHADOWED = _Shadowed()


def _keep_last(pairs: list[tuple[str, Any]]) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    shadowed: dict[str, list[Any]] = {}
    for key, value in pairs:
        if key in result:
            shadowed.setdefault(key, []).append(result[key])
        result[key] = value
    if shadowed:
        result[_SHADOWED] = shadowed
    return result


def _pointer_part(key: str) -> str:
    return "." + key if key.isidentifier() else "[" + json.dumps(key, ensure_ascii=False) + "]"


def _collect(value: Any, path: str, found: list[dict[str, Any]]) -> None:
    if isinstance(value, dict):
        shadowed = value.pop(_SHADOWED, None)
        if shadowed:
            for key, earlier in shadowed.items():
                found.append({"path": path + _pointer_part(key), "shadowed": earlier})
        for key, child in value.items():
            _collect(child, path + _pointer_part(key), found)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            _collect(child, f"{path}[{i}]", found)


def loads_keeping_duplicates(text: str) -> tuple[Any, tuple[dict[str, Any], ...]]:
    """Parse ``text`` the way the old tool did (last value wins) and report what was shadowed.

    Returns the document and one ``{"path": "$.state", "shadowed": [earlier values]}`` per
    repeated key, paths in the original file.
    """
    doc = json.loads(text, object_pairs_hook=_keep_last)
    found: list[dict[str, Any]] = []
    _collect(doc, "$", found)
    return doc, tuple(found)
