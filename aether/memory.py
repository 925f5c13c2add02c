"""User knowledge: learnings, decisions, instincts and patterns, kept apart from system state.

Lives in ``.aether/memory/<kind>s.json`` (one canonical JSON file per kind) so that no system
operation on ``COLONY_STATE.json`` (reset, migrate, restore) can wipe it by accident. Writes go
through the colony lock, like every other write: callers use ``Transaction.add_memory`` or hold
the lock themselves.

Every item carries its provenance (``source``): ``user`` for ``aether memory add``,
``migration:<version>:<path>`` for items moved out of an old state file, ``import:<file>``.
Items are de-duplicated by kind and normalised text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aether.bounded_read import read_regular
from aether.errors import MemoryFileError
from aether.files import StagedFiles
from aether.json_text import canonical_json_bytes, loads_strict

MemoryKind = Literal["learning", "decision", "instinct", "pattern"]
KINDS: tuple[MemoryKind, ...] = ("learning", "decision", "instinct", "pattern")
MEMORY_FORMAT = 1


class MemoryItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    kind: MemoryKind
    text: str
    phase: str | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)
    created_at: str
    source: str = "user"
    #: the original record when the item came from an older format, kept verbatim
    original: Any = None


def normalise_text(text: str) -> str:
    return " ".join(text.split()).casefold()


def item_id(kind: str, text: str) -> str:
    digest = hashlib.sha256(f"{kind}\0{normalise_text(text)}".encode()).hexdigest()
    return f"{kind[:1]}-{digest[:12]}"


def kind_file(memory_dir: Path, kind: str) -> Path:
    return memory_dir / f"{kind}s.json"


def load_kind(memory_dir: Path, kind: str) -> list[MemoryItem]:
    path = kind_file(memory_dir, kind)
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise MemoryFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        doc = loads_strict(raw.decode("utf-8"))
        items = doc["items"] if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise ValueError("no 'items' list")
        return [MemoryItem.model_validate(i) for i in items]
    except (ValueError, KeyError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise MemoryFileError(
            f"the memory file {path} is unreadable ({first})",
            meaning="aether will not touch it, so nothing in it is lost",
            fix="fix or restore it from an archive under .aether/chambers/",
        ) from None


def load_all(memory_dir: Path) -> dict[str, list[MemoryItem]]:
    return {kind: load_kind(memory_dir, kind) for kind in KINDS}


def merge_items(memory_dir: Path, new_items: list[MemoryItem]) -> list[MemoryItem]:
    """Add items not already present (same kind and text); return those added. Every kind's
    file is written, or none is.

    The caller must hold the colony lock.
    """
    from aether.files import staged_files

    with staged_files() as staged:
        return stage_merge(staged, memory_dir, new_items)


def stage_merge(
    staged: StagedFiles, memory_dir: Path, new_items: list[MemoryItem]
) -> list[MemoryItem]:
    """``merge_items`` as part of a larger change (aether.files.StagedFiles): the files are
    staged, and written only when the whole change commits."""
    added: list[MemoryItem] = []
    by_kind: dict[str, list[MemoryItem]] = {}
    for item in new_items:
        by_kind.setdefault(item.kind, []).append(item)
    for kind, items in by_kind.items():
        existing = load_kind(memory_dir, kind)
        seen = {normalise_text(i.text) for i in existing}
        fresh: list[MemoryItem] = []
        for item in items:
            key = normalise_text(item.text)
            if key in seen:
                continue
            seen.add(key)
            fresh.append(item)
        if fresh:
            staged.make_dirs(memory_dir)
            doc = {
                "format": MEMORY_FORMAT,
                "kind": kind,
                "items": [i.model_dump(mode="json", exclude_none=False) for i in existing + fresh],
            }
            staged.write(kind_file(memory_dir, kind), canonical_json_bytes(doc))
            added.extend(fresh)
    return added


def count_items(memory_dir: Path) -> dict[str, int]:
    return {kind: len(items) for kind, items in load_all(memory_dir).items()}


def new_item(
    kind: str, text: str, *, phase: str | None, confidence: float | None, source: str
) -> MemoryItem:
    from aether.timeutil import iso

    return MemoryItem.model_validate(
        {
            "id": item_id(kind, text),
            "kind": kind,
            "text": text,
            "phase": phase,
            "confidence": confidence,
            "created_at": iso(),
            "source": source,
        }
    )


def memory_files(memory_dir: Path) -> list[Path]:
    """The files ``forget`` removes: the known per-kind files that exist."""
    return [p for p in (kind_file(memory_dir, k) for k in KINDS) if p.exists()]
