"""``aether archive`` and ``archive list|verify``: a verified chamber of the colony as it is now,
the chambers there are, and whether one still matches its manifest. The chamber format and its
checks are aether/chamber.py; ``--reset`` then runs aether/ops/colony/reset.py.
"""

from __future__ import annotations

from typing import Any

from aether import activity
from aether.chamber import (
    Chamber,
    Progress,
    VerifyResult,
    build_chamber,
    read_manifest,
    verify_chamber,
)
from aether.errors import ArchiveCorrupt, SessionProblem
from aether.records import record
from aether.state.store import Store
from aether.workspace import Workspace


@record
class ArchiveResult:
    chamber: Chamber
    reset: Any = None  # a ResetResult when `archive --reset` ran

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": True, "verified": True, **self.chamber.to_json()}
        if self.reset is not None:
            out["reset"] = self.reset.to_json()
        return out


def archive_colony(
    ws: Workspace,
    *,
    label: str | None = None,
    progress: Progress | None = None,
    lock_timeout: float | None = None,
) -> ArchiveResult:
    store = Store(ws, lock_timeout=lock_timeout)
    with store.lock():
        state = store.load().state
        chamber = build_chamber(ws, state, label=label, progress=progress)
    activity.log(ws, "archive", chamber=chamber.name, files=len(chamber.manifest["files"]))
    return ArchiveResult(chamber)


def require_verified(ws: Workspace, name: str) -> VerifyResult:
    """``archive verify`` (and restore's first step): a chamber whose files do not match its
    manifest is refused."""
    result = verify_chamber(ws, name)
    if not result.ok:
        more = f" (and {len(result.problems) - 3} more)" if len(result.problems) > 3 else ""
        raise ArchiveCorrupt(
            f"chamber {result.chamber.name} failed verification: "
            + "; ".join(result.problems[:3])
            + more,
            meaning="its files are not what was archived; it is not trusted",
            fix="use another chamber (`aether archive list`)",
        )
    return result


@record
class ChamberListResult:
    chambers: list[Chamber]
    unreadable: list[dict[str, str]]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "chambers": [c.to_json() for c in self.chambers],
            "unreadable": self.unreadable,
        }


def list_chambers(ws: Workspace) -> ChamberListResult:
    """``archive list``: every chamber, oldest first; one whose manifest is unreadable is listed
    apart with its problem."""
    chambers: list[Chamber] = []
    unreadable: list[dict[str, str]] = []
    if ws.chambers_dir.is_dir():
        for path in sorted(ws.chambers_dir.iterdir()):
            if path.name.startswith(".") or not path.is_dir() or path.is_symlink():
                continue
            try:
                chambers.append(Chamber(path.name, path, read_manifest(path)))
            except SessionProblem as exc:
                unreadable.append({"name": path.name, "problem": exc.what})
    chambers.sort(key=lambda c: (str(c.manifest.get("created_at")), c.name))
    return ChamberListResult(chambers, unreadable)
