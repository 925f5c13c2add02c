"""``aether archive restore NAME``: put a verified chamber back (``aether archive`` itself, which
makes chambers, is aether/ops/colony/archive.py; the chamber format is aether/chamber.py).

Restore puts back the state side (``data/COLONY_STATE.json`` byte for byte, its compacted
events/workers and breaker file), merges the chamber's memory into the current memory (a union:
an item learned after the archive is never dropped), and puts back the handoff and its history.
It does not touch the profile (reported when it differs) or the activity log (appended to).
Before anything is replaced, the current state is copied to ``data/backups/``; files the
chamber does not have are moved there too, never deleted.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from aether import activity
from aether.chamber import ARCHIVED_DIRS, Chamber, Progress, build_chamber, os_error, sha256_file
from aether.errors import (
    ArchiveCorrupt,
    ColonyStateConflict,
    MigrationProblem,
    StateProblem,
)
from aether.files import atomic_write_bytes
from aether.memory import KINDS, load_kind, merge_items
from aether.ops.colony.archive import require_verified
from aether.ops.session.handoff_file import move_handoff_to_history
from aether.records import field, record
from aether.state.model import ColonyState
from aether.state.store import Store
from aether.timeutil import iso
from aether.workspace import Workspace

#: state-side files a restore replaces (relative to .aether/)
STATE_SIDE = (
    "data/COLONY_STATE.json",
    "data/events.archive.jsonl",
    "data/workers.history.jsonl",
    "data/breaker.json",
)


def has_working_state(state: ColonyState) -> bool:
    """A plan or workers (live or counted): work a restore would overwrite."""
    return bool(state.workers or state.plan.phases or state.worker_counts)


def overwrite_conflict(current: ColonyState, manifest: dict[str, Any]) -> str | None:
    """Why restoring over ``current`` needs ``--force`` (None: it does not).

    An active colony is one with working state, or another colony altogether (a different
    colony id, e.g. one made with ``aether init`` since): restoring would replace its identity
    and goal, so it is refused like working state.
    """
    if has_working_state(current):
        return (
            f"this colony has working state ({len(current.workers)} workers, "
            f"{len(current.plan.phases)} phases); restore would overwrite it"
        )
    archived_id = manifest.get("colony_id")
    if archived_id != current.colony_id:
        return (
            f"this is another colony ({current.colony_id}, goal {current.goal[:60]!r}) "
            f"than the chamber's ({archived_id}); restore would replace it"
        )
    return None


def check_restorable_state(chamber: Chamber) -> None:
    """Refuse a chamber whose state this aether cannot load (too new, invalid) before any write."""
    from aether.state.reading import load_document

    raw = (chamber.path / "data/COLONY_STATE.json").read_bytes()
    # a workspace that does not exist: no sibling files are folded, messages name the chamber
    probe = Workspace(chamber.path / ".restore-check")
    try:
        load_document(probe, raw)
    except (StateProblem, MigrationProblem) as exc:
        what = exc.what.replace(str(probe.state_file), f"{chamber.name}/data/COLONY_STATE.json")
        raise ArchiveCorrupt(
            f"the state in chamber {chamber.name} cannot be loaded by this aether: {what}",
            meaning="restoring it would leave a colony no command can read; nothing was changed",
            fix=exc.fix or "choose another chamber (`aether archive list`)",
        ) from None


@record
class RestoreResult:
    chamber: Chamber
    safety_chamber: Chamber | None
    backup: Path | None
    restored: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)
    memory_added: int = 0
    profile_differs: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "chamber": self.chamber.to_json(),
            "safety_chamber": self.safety_chamber.name if self.safety_chamber else None,
            "backup": str(self.backup) if self.backup else None,
            "restored": self.restored,
            "set_aside": self.set_aside,
            "memory_added": self.memory_added,
            "profile_differs": self.profile_differs,
        }


def _backup_current(ws: Workspace, stamp: str) -> Path | None:
    if not ws.state_file.is_file():
        return None
    target = ws.backups_dir / f"COLONY_STATE.before-restore-{stamp}.json"
    try:
        ws.backups_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, ws.state_file.read_bytes())
    except OSError as exc:
        raise os_error(exc, target, "backing up to") from None
    return target


def restore_chamber(
    ws: Workspace,
    name: str,
    *,
    force: bool = False,
    progress: Progress | None = None,
    lock_timeout: float | None = None,
) -> RestoreResult:
    verified = require_verified(ws, name)  # a tampered chamber is refused before anything
    chamber = verified.chamber
    if "data/COLONY_STATE.json" not in chamber.manifest["files"]:
        raise ArchiveCorrupt(
            f"chamber {chamber.name} holds no colony state", fix="choose another chamber"
        )
    check_restorable_state(chamber)
    store = Store(ws, lock_timeout=lock_timeout)
    stamp = iso().replace(":", "").replace("-", "")
    with store.lock():
        safety = _safety_chamber(ws, store, chamber, force=force, progress=progress)
        result = RestoreResult(chamber, safety, _backup_current(ws, stamp))
        _restore_state_side(ws, chamber, stamp, result)
        _merge_memory(ws, chamber, result)
        _restore_handoff(ws, chamber, result)
        result.profile_differs = _profile_differs(ws, chamber)
    activity.log(
        ws,
        "archive.restore",
        chamber=chamber.name,
        safety_chamber=safety.name if safety else None,
        memory_added=result.memory_added,
    )
    return result


def _safety_chamber(
    ws: Workspace, store: Store, chamber: Chamber, *, force: bool, progress: Progress | None
) -> Chamber | None:
    """Work the restore would overwrite is refused, or (``--force``) archived first."""
    current: ColonyState | None = None
    if ws.exists():
        try:
            current = store.load().state
        except (StateProblem, MigrationProblem):
            current = None  # unreadable: restoring is the fix; it is backed up below
    conflict = overwrite_conflict(current, chamber.manifest) if current else None
    if current is None or conflict is None:
        return None
    if not force:
        raise ColonyStateConflict(
            conflict,
            meaning="nothing was changed",
            fix=f"archive it first, or run `aether archive restore {chamber.name} "
            "--force` (which archives the current colony before restoring)",
        )
    return build_chamber(ws, current, label="before-restore", progress=progress)


def _restore_state_side(ws: Workspace, chamber: Chamber, stamp: str, result: RestoreResult) -> None:
    """1. The state side, byte for byte; files the chamber lacks are set aside."""
    files = chamber.manifest["files"]
    for rel in STATE_SIDE:
        target = ws.root / rel
        if rel in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, (chamber.path / rel).read_bytes())
            result.restored.append(rel)
        elif target.exists():
            aside = ws.backups_dir / f"{target.name}.before-restore-{stamp}"
            ws.backups_dir.mkdir(parents=True, exist_ok=True)
            os.replace(target, aside)
            result.set_aside.append(str(aside))


def _merge_memory(ws: Workspace, chamber: Chamber, result: RestoreResult) -> None:
    """2. Memory: a union, never a replacement."""
    archived_memory = chamber.path / "memory"
    if archived_memory.is_dir():
        items = [i for kind in KINDS for i in load_kind(archived_memory, kind)]
        result.memory_added = len(merge_items(ws.memory_dir, items))


def _restore_handoff(ws: Workspace, chamber: Chamber, result: RestoreResult) -> None:
    """3. The handoff (the current one goes to history) and the history files it lacks."""
    files = chamber.manifest["files"]
    if "HANDOFF.md" in files:
        move_handoff_to_history(ws, "replaced-by-restore", None)
        atomic_write_bytes(ws.handoff_file, (chamber.path / "HANDOFF.md").read_bytes())
        result.restored.append("HANDOFF.md")
    for rel in files:
        if rel.startswith(f"{ARCHIVED_DIRS[1]}/") and not (ws.root / rel).exists():
            (ws.root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(chamber.path / rel, ws.root / rel)
            result.restored.append(rel)


def _profile_differs(ws: Workspace, chamber: Chamber) -> bool:
    """4. The profile is never restored, only compared: does the current one differ?"""
    archived = chamber.manifest["files"].get("model-profiles.yaml")
    if archived is None:
        return False
    if not ws.profile_file.is_file():
        return True
    return bool(sha256_file(ws.profile_file) != archived.get("sha256"))
