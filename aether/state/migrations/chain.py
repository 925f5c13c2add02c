"""Registry of migration steps, version detection and the upgrade driver.

Version history (the one place it is written down; docs/state-format.md is generated from it):

* ``0.0`` the old tool's pre-release design: no ``version`` key, ``$schema``,
  ``colony_metadata``, ``queen_intention``, ``colony_status``, nested sections;
* ``1.0`` the old tool's first release: no ``version`` key, a flat state plus five sibling files;
* ``2.0`` and ``3.0`` the old tool's stamped versions (3.0 kept changing without a bump);
* ``4.0`` aether's first format, the Pydantic model in ``aether/state/model.py``.

``0.0`` and ``1.0`` are our labels: those files carry no version, so :func:`detect_version`
recognises them by shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aether.errors import NotColonyState, StateTooNew, UnknownStateVersion
from aether.records import field, record, replace
from aether.state.migrations.base import MEMORY_KEY, MigrationContext, MigrationStep

#: the first format aether itself wrote; the chain ends here when it has no steps of its own
BASE_VERSION = "4.0"

#: ordered, contiguous: STEPS[i].to_version == STEPS[i+1].from_version (a test proves it)
STEPS: tuple[MigrationStep, ...] = (
    MigrationStep(
        "0.0",
        "1.0",
        "Flatten the pre-release design (queen_intention, colony_status, colony_metadata) into "
        "the v1 top level; its state machine, spawn tracking and metrics go to legacy.",
        "v0_to_v1",
    ),
    MigrationStep(
        "1.0",
        "2.0",
        "Fold the v1 sibling files (PROJECT_PLAN, pheromones, memory, errors, events) into the "
        "state; the files stay in place and are copied into the pre-migration backup.",
        "v1_to_v2",
    ),
    MigrationStep(
        "2.0",
        "3.0",
        "Set aside what 3.0 dropped: the per-caste workers map, spawn_outcomes and the mode "
        "fields (kept verbatim in legacy).",
        "v2_to_v3",
    ),
    MigrationStep(
        "3.0",
        "4.0",
        "Convert to aether's schema: lifecycle status with the original text, sessions, "
        "structured events keeping their raw text, memory moved to .aether/memory/, the rest "
        "to legacy.",
        "v3_to_v4",
    ),
)

CURRENT_VERSION: str = STEPS[-1].to_version if STEPS else BASE_VERSION

#: versions a ``version`` key may say (0.0 was never written: that design had no such key)
_STAMPED = frozenset({"1.0", "2.0", "3.0"})

#: top-level keys only the pre-release design (0.0) had
_V0_KEYS = frozenset({"$schema", "colony_metadata", "queen_intention", "colony_status"})
#: top-level keys of the old tool's unversioned v1 layout
_V1_KEYS = frozenset(
    {"goal", "state", "current_phase", "session_id", "initialized_at", "workers", "spawn_outcomes"}
)

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)$")


def _parse(version: str) -> tuple[int, int] | None:
    m = _VERSION_RE.match(version.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def known_versions() -> list[str]:
    return [s.from_version for s in STEPS] + [CURRENT_VERSION]


def detect_version(doc: Any) -> str:
    """The format version of a parsed document, from its ``version`` key or its shape."""
    if not isinstance(doc, dict):
        kind = {list: "a JSON array", str: "a JSON string", bool: "a JSON boolean"}.get(
            type(doc), "null" if doc is None else "a JSON number"
        )
        raise NotColonyState(
            f"the state file holds {kind}, not a colony state object",
            meaning="it was not written by aether or the tool it replaces; it was not touched",
            fix="restore it from .aether/data/backups/ or move it away and run `aether init`",
        )
    if "version" in doc:
        version = doc["version"]
        if version == CURRENT_VERSION:
            return CURRENT_VERSION
        if isinstance(version, str) and version in _STAMPED:
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
            f"the state file has an unknown format version {json.dumps(version)}",
            meaning=f"known versions are {', '.join(sorted(_STAMPED | {CURRENT_VERSION}))} "
            "(and the unversioned old layouts); the file was not touched",
            fix="restore the file from .aether/data/backups/ or fix its version field",
        )
    if doc.keys() & _V0_KEYS:
        return "0.0"
    if doc.keys() & _V1_KEYS:
        return "1.0"
    raise NotColonyState(
        "the state file is JSON but has no version and no known colony fields",
        meaning="it does not look like a colony state from aether or the tool it replaces; "
        "it was not touched",
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


@record
class UpgradeResult:
    state: dict[str, Any]
    from_version: str
    steps: list[MigrationStep]
    memory: list[dict[str, Any]] = field(default_factory=list)
    #: the legacy sibling files whose content was folded into the state
    siblings_folded: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.steps)


def upgrade(doc: Any, ctx: MigrationContext) -> UpgradeResult:
    """Run the chain on ``doc``; the result is a current-version dict (not yet validated)."""
    version = detect_version(doc)
    steps = plan_for(version)
    if not steps:
        return UpgradeResult(state=doc, from_version=version, steps=[])
    ctx = replace(ctx, origin_version=version)
    current: dict[str, Any] = doc
    for step in steps:
        current = step.fn(current, ctx)
    memory = current.pop(MEMORY_KEY, [])
    legacy = current.setdefault("legacy", {})
    if ctx.duplicate_keys:
        legacy["duplicate_keys"] = list(ctx.duplicate_keys)
    current.setdefault("migrations", []).append(
        {"from": version, "to": CURRENT_VERSION, "at": ctx.now, "steps": [s.name for s in steps]}
    )
    folded = sorted(ctx.siblings) if any(s.from_version == "1.0" for s in steps) else []
    return UpgradeResult(
        state=current,
        from_version=version,
        steps=steps,
        memory=list(memory),
        siblings_folded=folded,
    )
