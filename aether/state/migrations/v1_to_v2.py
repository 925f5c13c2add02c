"""1.0 -> 2.0: fold the five v1 sibling files into the one state document.

v1 kept the plan, signals, memory, errors and events in ``PROJECT_PLAN.json``,
``pheromones.json``, ``memory.json``, ``errors.json`` and ``events.json`` beside
``COLONY_STATE.json``; 2.0 holds them as ``plan``, ``signals``, ``memory``, ``errors`` and
``events``. The store reads the siblings into ``ctx.siblings`` (this step does no I/O), leaves
the files where they are and copies them into the pre-migration backup. A sibling of a shape
the old tool never wrote, a superseded in-document value, and any part of a sibling with no
2.0 place are kept verbatim under ``legacy["1.0"]``. Frozen: never edit.
"""

from __future__ import annotations

from typing import Any

from aether.state.migrations.base import LEGACY_KEY, MigrationContext, with_legacy

# sibling file -> (2.0 key, key of the payload inside the file)
_SIBLINGS: dict[str, tuple[str, str]] = {
    "PROJECT_PLAN.json": ("plan", ""),
    "pheromones.json": ("signals", "signals"),
    "memory.json": ("memory", ""),
    "errors.json": ("errors", "errors"),
    "events.json": ("events", "events"),
}


def _fold(name: str, content: Any, kept: dict[str, Any], goal: Any) -> tuple[Any, Any]:
    """(the 2.0 value for this sibling or None, a goal found in it)."""
    inner = _SIBLINGS[name][1]
    found_goal: Any = None
    if name == "PROJECT_PLAN.json" and isinstance(content, dict):
        plan = dict(content)
        if "goal" in plan:
            found_goal = plan.pop("goal")
            if found_goal is not None and goal is not None and found_goal != goal:
                kept[name] = {"goal": found_goal}
                found_goal = None
        return plan, found_goal
    if name == "memory.json" and isinstance(content, dict):
        return dict(content), None
    if name == "errors.json":
        if isinstance(content, list):
            return {"records": content, "flagged_patterns": []}, None
        if isinstance(content, dict) and isinstance(content.get(inner, []), list):
            rest = dict(content)
            records = rest.pop(inner, [])
            return {"records": records, **rest}, None
    if isinstance(content, list) and name in ("pheromones.json", "events.json"):
        return content, None
    if isinstance(content, dict) and isinstance(content.get(inner), list):
        rest = {k: v for k, v in content.items() if k != inner}
        if rest:
            kept[name] = rest
        return content[inner], None
    kept[name] = content  # a shape the old tool never wrote: keep it whole
    return None, None


def migrate(doc: dict[str, Any], ctx: MigrationContext) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k != "version"}
    kept: dict[str, Any] = {}
    if "version" in doc and doc["version"] != "1.0":
        kept["version"] = doc["version"]
    for name in _SIBLINGS:
        if name not in ctx.siblings:
            continue
        key = _SIBLINGS[name][0]
        value, goal = _fold(name, ctx.siblings[name], kept, out.get("goal"))
        if value is None:
            continue
        if key in out and out[key] not in (None, [], {}):
            kept[f"{key} (in the state file, superseded by {name})"] = out[key]
        out[key] = value
        if goal is not None and out.get("goal") is None:
            out["goal"] = goal
    out.setdefault("plan", {"generated_at": None, "phases": []})
    out.setdefault("signals", [])
    out.setdefault("memory", {"phase_learnings": [], "decisions": [], "patterns": []})
    out.setdefault("errors", {"records": []})
    out.setdefault("events", [])
    out["version"] = "2.0"
    out.pop(LEGACY_KEY, None)
    return with_legacy(out, doc, "1.0", kept)
