"""``aether archive``: a verified chamber of the colony as it is now (the format and the
checks are aether/ops/chamber.py; ``--reset`` then runs aether/ops/reset.py).
"""

from __future__ import annotations

from typing import Any

from aether import activity
from aether.ops.chamber import Chamber, Progress, build_chamber
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
