"""``aether memory add|list|export|import``: the user's knowledge, kept apart from the state.

Writes hold the colony lock (``colony_lock``: the lock ``Store.lock()`` takes, without importing
the state models) but do not touch ``COLONY_STATE.json``: adding a learning does not bump the
state's serial, so it never makes a handoff look stale.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aether import __version__, activity
from aether.bounded_read import NotRegularFile, read_regular
from aether.errors import InvalidInput, MemoryFileError
from aether.files import atomic_write_json, os_error
from aether.json_text import loads_strict
from aether.memory import (
    KINDS,
    MEMORY_FORMAT,
    MemoryItem,
    load_all,
    load_kind,
    merge_items,
    new_item,
    normalise_text,
)
from aether.records import field, record
from aether.redaction import admitted
from aether.state.lock import colony_lock
from aether.timeutil import iso
from aether.workspace import Workspace

ADDABLE_KINDS = ("learning", "decision", "instinct")
MAX_TEXT = 10_000
#: an import file larger than this is refused before it is read
MAX_IMPORT_BYTES = 32 * 1024 * 1024
EXPORT_KIND = "aether-memory-export"


@record
class AddResult:
    item: MemoryItem
    added: bool

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, "added": self.added, "item": self.item.model_dump(mode="json")}


def _require_colony(ws: Workspace) -> None:
    """Memory lives beside a colony: without a state file, raise the store's precise error."""
    if not ws.exists():
        from aether.state.store import Store

        Store(ws).load()


def add_memory(
    ws: Workspace,
    kind: str,
    text: str,
    *,
    phase: str | None = None,
    confidence: float | None = None,
    lock_timeout: float | None = None,
) -> AddResult:
    if kind not in ADDABLE_KINDS:
        raise InvalidInput(
            f"unknown memory kind {kind!r}", fix=f"use one of: {', '.join(ADDABLE_KINDS)}"
        )
    text = admitted(text.strip())
    if not text:
        raise InvalidInput(
            "the text is empty", fix=f'say what to remember: aether memory add {kind} "TEXT"'
        )
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"the text is {len(text)} characters (limit {MAX_TEXT})",
            fix="keep one item to one idea",
        )
    if confidence is not None and (math.isnan(confidence) or not 0 <= confidence <= 1):
        raise InvalidInput(
            f"--confidence {confidence} is not between 0 and 1", fix="use e.g. --confidence 0.8"
        )
    _require_colony(ws)
    item = new_item(kind, text, phase=phase, confidence=confidence, source="user")
    with colony_lock(ws, lock_timeout=lock_timeout):
        added = merge_items(ws.memory_dir, [item])
        if not added:
            key = normalise_text(text)
            item = next(i for i in load_kind(ws.memory_dir, kind) if normalise_text(i.text) == key)
    if added:
        activity.log(ws, "memory.add", kind=kind, id=item.id)
    return AddResult(item, bool(added))


@record
class ListResult:
    items: list[MemoryItem]
    counts: dict[str, int]
    kind: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "kind": self.kind,
            "counts": self.counts,
            "items": [i.model_dump(mode="json") for i in self.items],
        }


def list_memory(ws: Workspace, kind: str | None = None) -> ListResult:
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"unknown memory kind {kind!r}", fix=f"use one of: {', '.join(KINDS)}")
    _require_colony(ws)
    everything = load_all(ws.memory_dir)
    counts = {k: len(v) for k, v in everything.items()}
    items = [i for k in KINDS if kind in (None, k) for i in everything[k]]
    items.sort(key=lambda i: (i.created_at, i.id))
    return ListResult(items, counts, kind)


@record
class ExportResult:
    path: Path
    counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "path": str(self.path),
            "counts": self.counts,
            "total": sum(self.counts.values()),
        }


def export_document(ws: Workspace) -> dict[str, Any]:
    everything = load_all(ws.memory_dir)
    return {
        "kind": EXPORT_KIND,
        "format": MEMORY_FORMAT,
        "aether_version": __version__,
        "exported_at": iso(),
        "items": [i.model_dump(mode="json") for k in KINDS for i in everything[k]],
    }


def write_export(ws: Workspace, target: Path, *, force: bool) -> ExportResult:
    """Write the export file (the caller holds the lock so the memory cannot change midway)."""
    target = target.expanduser().absolute()
    if target.is_dir():
        raise InvalidInput(f"{target} is a directory", fix="name a file, e.g. memory.json")
    if target.exists() and not force:
        raise InvalidInput(
            f"{target} already exists",
            fix="choose another file name or pass --force to overwrite it",
        )
    if not target.parent.is_dir():
        raise InvalidInput(
            f"the directory {target.parent} does not exist",
            fix="create it first or choose another path",
        )
    doc = export_document(ws)
    atomic_write_json(target, doc)
    counts: dict[str, int] = {}
    for item in doc["items"]:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    return ExportResult(target, counts)


def export_memory(
    ws: Workspace, target: Path, *, force: bool = False, lock_timeout: float | None = None
) -> ExportResult:
    _require_colony(ws)
    with colony_lock(ws, lock_timeout=lock_timeout):
        result = write_export(ws, target, force=force)
    activity.log(ws, "memory.export", path=str(result.path), total=sum(result.counts.values()))
    return result


@record
class ImportResult:
    path: Path
    read: int
    added: list[MemoryItem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "path": str(self.path),
            "read": self.read,
            "added": len(self.added),
            "duplicates": self.read - len(self.added),
            "items": [i.model_dump(mode="json") for i in self.added],
        }


def _bad_import(path: Path, why: str) -> MemoryFileError:
    return MemoryFileError(
        f"{path} is not an aether memory export: {why}",
        meaning="nothing was imported",
        fix="import a file written by `aether memory export`",
    )


def read_import(path: Path) -> list[MemoryItem]:
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise _bad_import(path, f"it is {size} bytes (limit {MAX_IMPORT_BYTES})")
        raw = read_regular(path, limit=MAX_IMPORT_BYTES)
    except FileNotFoundError:
        raise MemoryFileError(f"{path} does not exist", fix="check the path") from None
    except NotRegularFile as exc:  # a directory, or a FIFO that would never end
        raise MemoryFileError(f"{path} is {exc.strerror}", fix="name the export file") from None
    except OSError as exc:
        raise os_error(exc, path, "reading") from None
    try:
        doc = loads_strict(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _bad_import(path, "it is not UTF-8 text") from None
    except ValueError as exc:
        raise _bad_import(path, f"invalid JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or doc.get("kind") != EXPORT_KIND:
        raise _bad_import(path, f'no "kind": "{EXPORT_KIND}" marker')
    fmt = doc.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt > MEMORY_FORMAT:
        raise _bad_import(path, f"format {fmt!r} is not one this aether reads ({MEMORY_FORMAT})")
    raw_items = doc.get("items")
    if not isinstance(raw_items, list):
        raise _bad_import(path, '"items" is not a list')
    items: list[MemoryItem] = []
    for n, raw_item in enumerate(raw_items):
        try:
            item = MemoryItem.model_validate(raw_item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise _bad_import(path, f"item {n}: {loc}: {err['msg']}") from None
        if not item.text.strip():
            raise _bad_import(path, f"item {n} has empty text")
        item.text = admitted(item.text)
        items.append(item)
    return items


def import_memory(
    ws: Workspace, source: Path, *, lock_timeout: float | None = None
) -> ImportResult:
    _require_colony(ws)
    source = source.expanduser().absolute()
    items = read_import(source)
    with colony_lock(ws, lock_timeout=lock_timeout):
        added = merge_items(ws.memory_dir, items)
    activity.log(ws, "memory.import", path=str(source), read=len(items), added=len(added))
    return ImportResult(source, len(items), added)
