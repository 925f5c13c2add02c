"""0.0 -> 1.0: the pre-release design (``$schema``, ``colony_metadata``, ``queen_intention``...).

The old tool never migrated this format. Its nested sections are flattened into the v1 top
level (goal, state, current_phase, session_id, initialized_at); the roadmap and the event log
ride along as ``plan`` and ``events`` for the next step. Everything else (state machine,
spawn tracking, meta-learning, budgets, checkpoints, metrics, verification, and whatever is left
of a partly mapped section) is kept verbatim under ``legacy["0.0"]``. Frozen: never edit.
"""

from __future__ import annotations

from typing import Any

from aether.state.migrations.base import MigrationContext, expect, with_legacy

_SECTIONS: dict[str, dict[str, str]] = {
    # section -> {key inside it: v1 top-level key}
    "queen_intention": {"goal": "goal", "initialized_at": "initialized_at"},
    "colony_status": {"state": "state", "current_phase": "current_phase"},
    "colony_metadata": {"session_id": "session_id"},
}


def migrate(doc: dict[str, Any], ctx: MigrationContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    for key, value in doc.items():
        if key in _SECTIONS:
            section = expect(ctx, doc, key, (dict,), "an object")
            if section is None:
                kept[key] = value
                continue
            rest = dict(section)
            for inner, target in _SECTIONS[key].items():
                if inner in rest:
                    out[target] = rest.pop(inner)
            if rest:
                kept[key] = rest
        elif key == "phases":
            phases = expect(ctx, doc, key, (dict, list), "an object or an array")
            if isinstance(phases, list):
                out["plan"] = {"phases": phases}
            elif isinstance(phases, dict):
                rest = dict(phases)
                roadmap = expect(ctx, rest, "roadmap", (list,), "an array", path="phases.roadmap")
                rest.pop("roadmap", None)
                out["plan"] = {"phases": roadmap or []}
                if rest:
                    kept[key] = rest
            else:
                kept[key] = value
        elif key == "events":
            events = expect(ctx, doc, key, (dict, list), "an object or an array")
            if isinstance(events, list):
                out["events"] = events
            elif isinstance(events, dict):
                rest = dict(events)
                log = expect(ctx, rest, "event_log", (list,), "an array", path="events.event_log")
                rest.pop("event_log", None)
                out["events"] = log or []
                if rest:
                    kept[key] = rest
            else:
                kept[key] = value
        else:
            kept[key] = value
    return with_legacy(out, doc, "0.0", kept)
