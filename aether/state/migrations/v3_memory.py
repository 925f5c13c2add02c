"""Part of 3.0 -> 4.0: the old ``memory`` section becomes user-knowledge items.

Learnings, decisions, instincts and patterns leave the state for ``.aether/memory/`` (the store
moves the items this module returns under ``MEMORY_KEY``). Each item keeps its provenance
(``source``: ``migration:<original version>:<path>``) and its original record verbatim
(``original``). A record with no text to remember, and any memory key with no kind, stay in
``legacy["3.0"]["memory"]``. Frozen: never edit.

Drift handled (seen in real 3.0 files): lists stored as JSON text or null; ``phase`` as a
number or ``"inherited"``; learnings nested as ``{phase, learnings: [{claim, ...}]}``.
"""

from __future__ import annotations

from typing import Any

from aether.memory import item_id, normalise_text
from aether.state.migrations.base import MigrationContext, decode_json_text, wrong_type

# memory key in the old state -> item kind
KIND_OF: dict[str, str] = {
    "phase_learnings": "learning",
    "learnings": "learning",
    "decisions": "decision",
    "instincts": "instinct",
    "patterns": "pattern",
}

_TEXT_KEYS = (
    "claim",
    "learning",
    "text",
    "content",
    "decision",
    "pattern",
    "insight",
    "description",
    "summary",
    "message",
    "title",
    "name",
)
_TIME_KEYS = ("created_at", "timestamp", "ts", "recorded_at", "at", "date")


def _text_of(kind: str, record: Any) -> str | None:
    if isinstance(record, str):
        return record if record.strip() else None
    if not isinstance(record, dict):
        return None
    if kind == "instinct":
        trigger, action = record.get("trigger"), record.get("action")
        if isinstance(trigger, str) and isinstance(action, str) and trigger and action:
            return f"{trigger}: {action}"
        for key in ("action", "trigger"):
            if isinstance(record.get(key), str) and record[key].strip():
                return str(record[key])
    for key in _TEXT_KEYS:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _first_str(records: list[Any], keys: tuple[str, ...]) -> str | None:
    for record in records:
        if isinstance(record, dict):
            for key in keys:
                value = record.get(key)
                if isinstance(value, str) and value:
                    return value
    return None


def _phase(records: list[Any]) -> str | None:
    for record in records:
        if isinstance(record, dict) and "phase" in record:
            value = record["phase"]
            if value is None or isinstance(value, bool):
                return None
            if isinstance(value, int | float | str):
                return str(value)
    return None


def _confidence(records: list[Any]) -> float | None:
    for record in records:
        if isinstance(record, dict):
            value = record.get("confidence")
            if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
                return float(value)
    return None


class MemoryCollector:
    """Turns old memory records into item dicts, merging repeats of the same text."""

    def __init__(self, ctx: MigrationContext) -> None:
        self.ctx = ctx
        self.origin = ctx.origin_version or "3.0"
        self.items: list[dict[str, Any]] = []
        self._index: dict[tuple[str, str], dict[str, Any]] = {}
        self.kept: dict[str, Any] = {}

    def add(self, kind: str, text: str, original: Any, context: list[Any], path: str) -> None:
        source = f"migration:{self.origin}:{path}"
        key = (kind, normalise_text(text))
        if key in self._index:
            # the same knowledge twice: one item, every original kept
            self._index[key].setdefault("duplicates", []).append(
                {"source": source, "original": original}
            )
            return
        item: dict[str, Any] = {
            "id": item_id(kind, text),
            "kind": kind,
            "text": text,
            "phase": _phase(context),
            "confidence": _confidence(context),
            "created_at": _first_str(context, _TIME_KEYS) or self.ctx.now,
            "source": source,
            "original": original,
        }
        self._index[key] = item
        self.items.append(item)

    def keep(self, key: str, value: Any) -> None:
        self.kept.setdefault(key, []).append(value)

    def record(self, kind: str, record: Any, path: str) -> None:
        inner = record.get("learnings") if isinstance(record, dict) else None
        if kind == "learning" and isinstance(inner, list) and inner:
            for j, sub in enumerate(inner):
                text = _text_of(kind, sub)
                original = record if len(inner) == 1 else {**record, "learnings": [sub]}
                if text is None:
                    self.keep("phase_learnings", original)
                    continue
                self.add(kind, text, original, [sub, record], f"{path}.learnings[{j}]")
            return
        text = _text_of(kind, record)
        if text is None:
            self.keep(path.rsplit(".", 1)[-1].split("[")[0], record)
            return
        self.add(kind, text, record, [record], path)

    def collect(self, memory: dict[str, Any]) -> None:
        for key, value in memory.items():
            kind = KIND_OF.get(key)
            if kind is None:
                self.kept[key] = value
                continue
            decoded = decode_json_text(value)
            if decoded is None:
                continue
            if isinstance(decoded, str):  # JSON text that does not parse: keep it whole
                self.kept[key] = value
                continue
            if isinstance(decoded, dict):
                decoded = [decoded]
            if not isinstance(decoded, list):
                raise wrong_type(self.ctx, f"memory.{key}", "an array (or its JSON text)", decoded)
            for i, record in enumerate(decoded):
                self.record(kind, record, f"$.memory.{key}[{i}]")


def extract_memory(
    memory: dict[str, Any] | None, ctx: MigrationContext
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(memory item dicts, what stays in legacy)."""
    collector = MemoryCollector(ctx)
    if memory:
        collector.collect(memory)
    return collector.items, collector.kept
