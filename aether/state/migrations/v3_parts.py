"""Part of 3.0 -> 4.0: lifecycle status, plan, events, errors and signals. Frozen (below).

Each function takes one section of a 3.0 document with all the drift the old tool wrote into it
(fields whose type changed between releases of one version; docs/migrations.md lists them) and
returns its 4.0 shape plus what must be kept in ``legacy["3.0"]``. Frozen means the output: a
change may make a step faster, never change what it makes of any input.
"""

from __future__ import annotations

import json
from typing import Any

from aether.state.migrations.base import MigrationContext, decode_json_text, wrong_type

#: every lifecycle text the old tool (and its forks) wrote, mapped deliberately; anything else
#: becomes "unknown", and the original text is always kept in ``status_detail``
STATUS_OF: dict[str, str] = {
    "IDLE": "idle",
    "INIT": "idle",
    "INITIALIZING": "idle",
    "INITIALIZED": "idle",
    "NEW": "idle",
    "PLANNING": "planning",
    "PLANNED": "ready",
    "READY": "ready",
    "ACTIVE": "active",
    "EXECUTING": "executing",
    "RUNNING": "executing",
    "BUILDING": "executing",
    "IN_PROGRESS": "executing",
    "BUILT": "built",
    "VERIFYING": "built",
    "PAUSED": "paused",
    "COMPLETED": "completed",
    "COMPLETE": "completed",
    "DONE": "completed",
    "CROWNED": "completed",  # the old tool's "milestone crowned": the work is complete
    "SEALED": "sealed",
    "ENTOMBED": "entombed",
    "ARCHIVED": "entombed",
}


def status_of(state: str | None, paused: bool) -> tuple[str, str | None]:
    """(ColonyStatus, status_detail). A paused colony is ``paused`` whatever it was doing."""
    if state is None:
        return ("paused" if paused else "idle"), None
    mapped = STATUS_OF.get(state.strip().upper().replace("-", "_").replace(" ", "_"), "unknown")
    return ("paused" if paused else mapped), state


def _str_field(
    ctx: MigrationContext, record: dict[str, Any], key: str, default: str, path: str
) -> str:
    value = record.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise wrong_type(ctx, f"{path}.{key}", "a string", value)
    return value


def _task(ctx: MigrationContext, task: Any, phase_id: Any, j: int, path: str) -> dict[str, Any]:
    if isinstance(task, str):
        return {"id": f"{phase_id}.{j + 1}", "description": task}
    if not isinstance(task, dict):
        raise wrong_type(ctx, path, "an object", task)
    out = dict(task)
    tid = out.get("id")
    if tid is None or isinstance(tid, bool) or not isinstance(tid, int | str):
        if tid is not None:
            out["original_id"] = tid
        tid = f"{phase_id}.{j + 1}"
    out["id"] = str(tid)
    if out.get("description") is None and isinstance(out.get("goal"), str):
        out["description"] = out.pop("goal")  # 3.0 tasks carry their text as "goal"
    out["description"] = _str_field(ctx, out, "description", "", path)
    out["status"] = _str_field(ctx, out, "status", "pending", path)
    return out


def _phase(ctx: MigrationContext, phase: Any, i: int, path: str) -> dict[str, Any]:
    if not isinstance(phase, dict):
        raise wrong_type(ctx, path, "an object", phase)
    out = dict(phase)
    pid = out.get("id")
    if pid is None and out.get("number") is not None:
        pid = out.pop("number")  # drift: phases numbered with "number" instead of "id"
    if pid is None:
        pid = i + 1
    if isinstance(pid, bool) or not isinstance(pid, int | str):
        raise wrong_type(ctx, f"{path}.id", "a number or a string", pid)
    out["id"] = pid
    if out.get("description") is None and isinstance(out.get("goal"), str):
        out["description"] = out.pop("goal")  # the pre-release roadmap's phase text
    for key in ("name", "description"):
        out[key] = _str_field(ctx, out, key, "", path)
    out["status"] = _str_field(ctx, out, "status", "pending", path)
    tasks = decode_json_text(out.get("tasks"))
    if tasks is None:
        tasks = []
    if not isinstance(tasks, list):
        raise wrong_type(ctx, f"{path}.tasks", "an array", tasks)
    out["tasks"] = [_task(ctx, t, pid, j, f"{path}.tasks[{j}]") for j, t in enumerate(tasks)]
    return out


def plan_of(ctx: MigrationContext, plan: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if plan is None:
        return {"generated_at": None, "confidence": None, "phases": []}, {}
    if not isinstance(plan, dict):
        raise wrong_type(ctx, "plan", "an object", plan)
    out = dict(plan)
    kept: dict[str, Any] = {}
    generated = out.get("generated_at")
    if generated is not None and not isinstance(generated, str):
        raise wrong_type(ctx, "plan.generated_at", "a string", generated)
    confidence = out.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float | dict | None):
        # drift: a number written as text ("80"), or something stranger; keep the original
        kept["plan.confidence"] = confidence
        try:
            out["confidence"] = float(confidence) if isinstance(confidence, str) else None
        except ValueError:
            out["confidence"] = None
    phases = decode_json_text(out.get("phases"))
    if phases is None:
        phases = []
    if not isinstance(phases, list):
        raise wrong_type(ctx, "plan.phases", "an array", phases)
    out["phases"] = [_phase(ctx, p, i, f"plan.phases[{i}]") for i, p in enumerate(phases)]
    return out, kept


def _split_pipe(text: str) -> list[str] | None:
    for sep in (" | ", "|"):
        parts = text.split(sep, 3)
        if len(parts) == 4:
            return [p.strip() for p in parts]
    return None


#: the keys of every object event the old tool wrote (each real 3.0 anchor, all its events)
_USUAL_EVENT_KEYS = frozenset({"timestamp", "type", "worker", "details"})


def event_of(event: Any) -> dict[str, Any]:
    """One old event as a 4.0 ``Event`` dict: structured, with nothing of the original lost."""
    if type(event) is dict and event.keys() == _USUAL_EVENT_KEYS:
        # the usual shape, four strings: what the general mapping below makes of it, without
        # its loops (a large colony has 10,000 of these; tests/test_migration_equality.py
        # holds the output to the same bytes)
        ts, type_, source, message = (
            event["timestamp"],
            event["type"],
            event["worker"],
            event["details"],
        )
        if type(ts) is str and type(type_) is str and type(source) is str and type(message) is str:
            return {"ts": ts, "type": type_, "source": source, "message": message, "data": {}}
    if isinstance(event, str):
        parts = _split_pipe(event)
        if parts is None:
            return {"ts": "", "type": "legacy", "source": "legacy", "message": event, "raw": event}
        ts, type_, source, message = parts
        return {
            "ts": ts,
            "type": type_ or "legacy",
            "source": source or "legacy",
            "message": message,
            "raw": event,
        }
    if not isinstance(event, dict):
        text = json.dumps(event, ensure_ascii=False)
        return {"ts": "", "type": "legacy", "source": "legacy", "message": text, "raw": text}
    rest = dict(event)
    out: dict[str, Any] = {"ts": "", "type": "legacy", "source": "legacy", "message": ""}
    for target, keys in (
        ("ts", ("timestamp", "ts", "time", "at")),
        ("type", ("type", "event", "kind")),
        ("source", ("worker", "source", "caste", "actor")),
        ("message", ("details", "message", "content", "description")),
    ):
        for key in keys:
            if isinstance(rest.get(key), str):
                out[target] = rest.pop(key)
                break
    out["data"] = rest  # every key not mapped above (e.g. object-valued details), verbatim
    return out


def events_of(ctx: MigrationContext, events: Any) -> list[dict[str, Any]]:
    events = decode_json_text(events)
    if events is None:
        return []
    if not isinstance(events, list):
        raise wrong_type(ctx, "events", "an array", events)
    return [event_of(e) for e in events]


def records_of(ctx: MigrationContext, key: str, value: Any) -> list[dict[str, Any]]:
    """A list of objects (errors, signals); a non-object entry is wrapped, never dropped."""
    value = decode_json_text(value)
    if value is None:
        return []
    if not isinstance(value, list):
        raise wrong_type(ctx, key, "an array", value)
    return [r if isinstance(r, dict) else {"raw": r} for r in value]


def errors_of(ctx: MigrationContext, errors: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """3.0 ``errors{records, flagged_patterns}`` -> 4.0 ``errors`` list + legacy remainder."""
    errors = decode_json_text(errors)
    if errors is None or isinstance(errors, list):
        return records_of(ctx, "errors", errors), {}
    if not isinstance(errors, dict):
        raise wrong_type(ctx, "errors", "an object", errors)
    rest = {k: v for k, v in errors.items() if k != "records"}
    return records_of(ctx, "errors.records", errors.get("records")), rest
