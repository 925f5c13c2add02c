"""3.0 -> 4.0: the old tool's last format (with all its drift) becomes aether's first.

What goes where:

* goal, plan, current_phase, signals, errors.records, created_at/last_updated -> their fields;
  ``colony_name`` -> ``name``; ``session_id``/``initialized_at`` -> ``session``;
* ``state`` -> ``status`` (a deliberate table, ``v3_parts.STATUS_OF``), the original text in
  ``status_detail``; ``paused: true`` -> status ``paused`` and ``session.paused_at``;
* events (pipe strings ``"ts | type | source | content"`` or objects) -> ``Event`` records;
  a string keeps its text in ``raw``, an object's unmapped keys go to ``data``;
* memory -> items for ``.aether/memory/`` (``v3_memory``);
* ``model_profile`` (an object) -> ``profile_binding``: which profile file routed the colony,
  whether routing was on and where the proxy was — the same facts, typed, keys kept;
* everything else (a non-object ``model_profile``, milestone, graveyards, build_started_at,
  scope, charter, worktrees, run_id, gate_results, errors.flagged_patterns, ...) ->
  ``legacy["3.0"]`` verbatim.

The colony id is derived from the document (same file, same id), so a dry run and the real run
agree and the round-trip fixtures are stable. Frozen: never edit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aether.state.migrations.base import (
    LEGACY_KEY,
    MEMORY_KEY,
    MigrationContext,
    decode_json_text,
    expect,
    wrong_type,
)
from aether.state.migrations.v3_memory import extract_memory
from aether.state.migrations.v3_parts import errors_of, events_of, plan_of, records_of, status_of

_MAPPED = frozenset(
    {
        "version",
        "goal",
        "state",
        "current_phase",
        "session_id",
        "initialized_at",
        "plan",
        "memory",
        "errors",
        "signals",
        "events",
        "created_at",
        "last_updated",
        "paused",
        "paused_at",
        "colony_name",
        LEGACY_KEY,
        MEMORY_KEY,
    }
)


def _identity(doc: dict[str, Any]) -> str:
    basis = [doc.get(k) for k in ("goal", "session_id", "initialized_at", "created_at")]
    return hashlib.sha256(json.dumps(basis, default=str).encode()).hexdigest()[:16]


def _current_phase(ctx: MigrationContext, doc: dict[str, Any], kept: dict[str, Any]) -> Any:
    value = expect(ctx, doc, "current_phase", (int, str), "a number or a string")
    # ASCII digits only: str.isdigit() accepts "²", which int() refuses (found by the
    # migration property test)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        kept["current_phase"] = value  # drift: a number written as text; the original stays
        return int(value.strip())
    return value


def migrate(doc: dict[str, Any], ctx: MigrationContext) -> dict[str, Any]:
    # long: one mapping read top to bottom, field by field as the docstring lists them; the
    # step is frozen (a released migration never changes), so it is not restructured
    kept: dict[str, Any] = {k: v for k, v in doc.items() if k not in _MAPPED}
    text = {
        key: expect(ctx, doc, key, (str,), "a string")
        for key in (
            "goal",
            "state",
            "session_id",
            "initialized_at",
            "created_at",
            "last_updated",
            "paused_at",
            "colony_name",
        )
    }
    if text["last_updated"] is not None:
        # updated_at starts as this value, but every write sets it to the write's time: the
        # original stays here (it was lost before)
        kept["last_updated"] = text["last_updated"]
    paused = expect(ctx, doc, "paused", (bool,), "true or false")
    status, detail = status_of(text["state"], bool(paused))
    ident = _identity(doc)
    started = text["initialized_at"] or text["created_at"] or ctx.now
    session: dict[str, Any] = {
        "id": text["session_id"] or f"session-migrated-{ident[:8]}",
        "started_at": started,
    }
    if text["paused_at"] is not None:
        if status == "paused":
            session["paused_at"] = text["paused_at"]
        else:
            kept["paused_at"] = text["paused_at"]  # a pause that has ended: history only
    if status == "paused" and "paused_at" not in session:
        session["paused_at"] = text["last_updated"] or started
    if paused is not None and not paused and status != "paused":
        kept["paused"] = paused

    plan, plan_kept = plan_of(ctx, doc.get("plan"))
    kept.update(plan_kept)
    errors, errors_rest = errors_of(ctx, doc.get("errors"))
    if errors_rest:
        kept["errors"] = errors_rest
    memory = expect(ctx, doc, "memory", (dict, str), "an object")
    if isinstance(memory, str):
        memory = decode_json_text(memory)  # drift: the whole section stored as JSON text
        if not isinstance(memory, dict):
            raise wrong_type(ctx, "memory", "an object", memory)
    items, memory_kept = extract_memory(memory, ctx)
    if memory_kept:
        kept["memory"] = memory_kept

    current_phase = _current_phase(ctx, doc, kept)
    binding = kept.pop("model_profile") if isinstance(kept.get("model_profile"), dict) else None
    legacy: dict[str, Any] = dict(doc.get(LEGACY_KEY) or {})
    if kept:
        legacy["3.0"] = {**legacy.get("3.0", {}), **kept}
    return {
        "version": "4.0",
        "colony_id": f"colony-{ident}",
        "serial": 0,
        "created_at": text["created_at"] or started,
        "updated_at": text["last_updated"] or ctx.now,
        "goal": text["goal"] or "",
        "name": text["colony_name"],
        "status": status,
        "status_detail": detail,
        "plan": plan,
        "current_phase": current_phase,
        "session": session,
        "workers": [],
        "events": events_of(ctx, doc.get("events")),
        "signals": records_of(ctx, "signals", doc.get("signals")),
        "errors": errors,
        "profile_binding": binding,
        "legacy": legacy,
        "migrations": [],
        MEMORY_KEY: [*(doc.get(MEMORY_KEY) or []), *items],
    }
