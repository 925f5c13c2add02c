"""What every migration step shares: its context, its record type, and small pure helpers.

Steps are frozen: once a step has shipped it is never edited (a fix is a new step), because a
colony migrated by the old code and one migrated by the new must end up in the same place.
Steps never mutate their input; they build a new dict and reuse untouched sub-values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aether.errors import StateInvalid
from aether.records import field, record

#: the key under which a step hands user knowledge (learnings, decisions, instincts, patterns)
#: to the store, which moves it into .aether/memory/ and removes the key from the state
MEMORY_KEY = "__memory__"

#: while the chain runs, what a step has no field for travels under this key as
#: ``{<from_version>: {<key>: value}}``; the last step turns it into the state's ``legacy`` field.
#: (Not ``legacy`` itself: an old file that happened to have a ``legacy`` key must not be
#: mistaken for our bucket.)
LEGACY_KEY = "__legacy__"


@record(frozen=True)
class MigrationContext:
    """Inputs a step may use besides the document: all data, no I/O."""

    now: str
    #: legacy sibling files found next to the state (file name -> parsed JSON)
    siblings: Mapping[str, Any] = field(default_factory=dict)
    source_path: Path | None = None
    #: keys that occurred more than once in one object of a legacy file (see ``duplicates``)
    duplicate_keys: tuple[dict[str, Any], ...] = ()
    #: the version the document had before the chain started (set by ``upgrade``)
    origin_version: str | None = None


StepFn = Callable[[dict[str, Any], MigrationContext], dict[str, Any]]


@record(frozen=True)
class MigrationStep:
    from_version: str
    to_version: str
    #: one line for the version history in docs/state-format.md and the migrate plan
    summary: str
    #: the module (in this package) whose ``migrate`` function is the step; imported only
    #: when a document actually needs upgrading, so loading a current file stays cheap
    module: str

    @property
    def fn(self) -> StepFn:
        from importlib import import_module

        step: StepFn = import_module(f"aether.state.migrations.{self.module}").migrate
        return step

    @property
    def name(self) -> str:
        return f"{self.from_version} -> {self.to_version}"


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def wrong_type(ctx: MigrationContext, path: str, expected: str, value: Any) -> StateInvalid:
    """A known field holds a type no writer ever put there: refuse rather than guess."""
    where = f"the state file {ctx.source_path}" if ctx.source_path else "the state file"
    return StateInvalid(
        f"{where} is invalid: {path} should be {expected}, found {type_name(value)}",
        meaning="a known field has the wrong type, so it cannot be migrated safely; "
        "nothing was written",
        fix="fix that field by hand (the old tool never wrote it that way) or restore the file "
        "from .aether/data/backups/, then run again",
    )


def expect(
    ctx: MigrationContext,
    doc: Mapping[str, Any],
    key: str,
    types: tuple[type, ...],
    expected: str,
    *,
    path: str = "",
) -> Any:
    """``doc[key]`` when it is missing, null or one of ``types``; a clear error otherwise."""
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) and bool not in types:
        raise wrong_type(ctx, path or key, expected, value)
    if not isinstance(value, types):
        raise wrong_type(ctx, path or key, expected, value)
    return value


def decode_json_text(value: Any) -> Any:
    """Drift in 3.0: a list was sometimes stored as its JSON text. Decode it when it is one."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            try:
                return json.loads(text)
            except ValueError:
                return value
    return value


def leftovers(doc: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The keys of ``doc`` that a step does not know, verbatim."""
    return {k: v for k, v in doc.items() if k not in known}


def with_legacy(
    doc: dict[str, Any], source: Mapping[str, Any], version: str, kept: Mapping[str, Any]
) -> dict[str, Any]:
    """Carry ``source``'s legacy bucket forward and add ``kept`` under ``version``."""
    legacy: dict[str, Any] = dict(source.get(LEGACY_KEY) or {})
    if kept:
        bucket = dict(legacy.get(version) or {})
        bucket.update(kept)
        legacy[version] = bucket
    if legacy:
        doc[LEGACY_KEY] = legacy
    return doc


def carry(doc: dict[str, Any], source: Mapping[str, Any]) -> dict[str, Any]:
    """Hand on what earlier steps set aside (memory and legacy buckets) unchanged."""
    if MEMORY_KEY in source:
        doc[MEMORY_KEY] = source[MEMORY_KEY]
    return doc
