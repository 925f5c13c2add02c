"""Registry of migration steps, version detection and the upgrade driver."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aether.errors import NotColonyState, StateTooNew, UnknownStateVersion

#: the key under which a step hands user knowledge (learnings, decisions, instincts, patterns)
#: to the store, which moves it into .aether/memory/ and removes the key from the state
MEMORY_KEY = "__memory__"

#: the first format aether itself wrote; the chain ends here when it has no steps of its own
BASE_VERSION = "4.0"


@dataclass(frozen=True)
class MigrationContext:
    """Inputs a step may use besides the document: all data, no I/O."""

    now: str
    #: legacy sibling files found next to the state (file name -> parsed JSON)
    siblings: Mapping[str, Any] = field(default_factory=dict)
    source_path: Path | None = None


StepFn = Callable[[dict[str, Any], MigrationContext], dict[str, Any]]


@dataclass(frozen=True)
class MigrationStep:
    from_version: str
    to_version: str
    summary: str
    fn: StepFn


#: ordered, contiguous: STEPS[i].to_version == STEPS[i+1].from_version
STEPS: tuple[MigrationStep, ...] = ()

CURRENT_VERSION: str = STEPS[-1].to_version if STEPS else BASE_VERSION

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)$")


def _parse(version: str) -> tuple[int, int] | None:
    m = _VERSION_RE.match(version)
    return (int(m.group(1)), int(m.group(2))) if m else None


def detect_version(doc: Any) -> str:
    """The format version of a parsed document, from its ``version`` key or its shape."""
    if not isinstance(doc, dict):
        kind = type(doc).__name__
        kind = {"list": "a JSON array", "str": "a JSON string", "NoneType": "null"}.get(
            kind, f"a JSON {kind}"
        )
        raise NotColonyState(
            f"the state file holds {kind}, not a colony state object",
            meaning="it was not written by aether or the tool it replaces",
            fix="restore it from .aether/data/backups/ or move it away and run `aether init`",
        )
    if "version" in doc:
        version = doc["version"]
        if version == CURRENT_VERSION:
            return CURRENT_VERSION
        known = {s.from_version for s in STEPS}
        if isinstance(version, str) and version in known:
            return version
        parsed = _parse(version) if isinstance(version, str) else None
        current = _parse(CURRENT_VERSION)
        if parsed is not None and current is not None and parsed > current:
            raise StateTooNew(
                f"the state file has format version {version}, newer than this aether "
                f"understands ({CURRENT_VERSION})",
                meaning="a newer aether wrote it; this one would lose data if it wrote it back",
                fix="upgrade aether (pip install -U aether-colony); the file was not touched",
            )
        raise UnknownStateVersion(
            f"the state file has an unknown format version {version!r}",
            meaning=f"known versions are {', '.join(sorted(known | {CURRENT_VERSION}))}",
            fix="restore the file from .aether/data/backups/ or fix its version field",
        )
    raise NotColonyState(
        "the state file is JSON but has no version and no known colony fields",
        meaning="it does not look like a colony state from aether or the tool it replaces",
        fix="restore it from .aether/data/backups/ or move it away and run `aether init`",
    )


def plan_for(version: str) -> list[MigrationStep]:
    """The steps that take ``version`` to the current one (empty when already current)."""
    steps: list[MigrationStep] = []
    current = version
    for step in STEPS:
        if step.from_version == current:
            steps.append(step)
            current = step.to_version
    return steps


@dataclass
class UpgradeResult:
    state: dict[str, Any]
    from_version: str
    steps: list[MigrationStep]
    memory: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.steps)


def upgrade(doc: Any, ctx: MigrationContext) -> UpgradeResult:
    """Run the chain on ``doc``; the result is a current-version dict (not yet validated)."""
    version = detect_version(doc)
    steps = plan_for(version)
    current: dict[str, Any] = doc
    for step in steps:
        current = step.fn(current, ctx)
    memory = current.pop(MEMORY_KEY, []) if steps else []
    return UpgradeResult(state=current, from_version=version, steps=steps, memory=list(memory))
