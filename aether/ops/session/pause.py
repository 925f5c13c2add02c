"""``aether pause``: end the session and leave a HANDOFF.md (docs/lifecycle.md).

One transaction records the pause (status paused, paused_at, session end, note, the profile
hash and the caste→model map in force, git HEAD/branch); HANDOFF.md is rendered from the state
*as committed* and written atomically before that transaction releases the lock, so a handoff
never describes a state other than the one on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aether import activity
from aether.gitinfo import read_git
from aether.handoff import GitInfo
from aether.ops.session.handoff_file import write_handoff_file
from aether.ops.session.profile_snapshot import ProfileSnapshot, profile_snapshot
from aether.records import field, record
from aether.redaction import admitted_or_none
from aether.state.model import ColonyState
from aether.state.store import Store
from aether.timeutil import iso
from aether.workspace import Workspace


@record
class PauseResult:
    ws: Workspace
    state: ColonyState
    already_paused: bool
    handoff: Path
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        s = self.state
        return {
            "ok": True,
            "colony_id": s.colony_id,
            "status": s.status,
            "serial": s.serial,
            "session_id": s.session.id,
            "paused_at": s.session.paused_at,
            "already_paused": self.already_paused,
            "handoff": str(self.handoff),
            "profile_hash": s.session.profile_hash_at_pause,
            "caste_models": s.session.caste_models_at_pause,
            "git": s.session.git_at_pause,
            "warnings": self.warnings,
        }


def pause(ws: Workspace, *, note: str | None, lock_timeout: float | None = None) -> PauseResult:
    note = admitted_or_none(note)
    warnings: list[str] = []
    snapshot = profile_snapshot(ws)
    if snapshot.error:
        warnings.append(f"profile not recorded: {snapshot.error}")
    git = read_git(ws.project)
    written: list[ColonyState] = []

    def write_handoff(state: ColonyState) -> None:
        write_handoff_file(ws, state, git_at_pause(state), warnings)
        written.append(state)

    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        already = tx.state.status == "paused"
        if already:
            # keep what was in force when the session ended; only a new note is recorded
            if note is None:
                tx.abort = True
            else:
                tx.state.session.note = note
                tx.state.add_event("session.pause-refreshed", "handoff refreshed", source="pause")
        else:
            record_pause(tx.state, note, snapshot, git)
        tx.then(write_handoff)
    state = written[0]
    activity.log(
        ws,
        "pause",
        session_id=state.session.id,
        serial=state.serial,
        already_paused=already,
        profile_hash=state.session.profile_hash_at_pause,
    )
    return PauseResult(ws, state, already, ws.handoff_file, warnings)


def record_pause(
    s: ColonyState, note: str | None, snapshot: ProfileSnapshot, git: GitInfo | None
) -> None:
    """Mark ``s`` paused (inside the caller's transaction): what ``aether pause`` and the last
    agent session to end both record."""
    stamp = iso()
    s.status = "paused"
    s.session.paused_at = stamp
    s.session.ended_at = stamp
    s.session.note = note
    s.session.profile_hash_at_pause = snapshot.hash
    s.session.caste_models_at_pause = snapshot.caste_models
    s.session.git_at_pause = git.to_json() if git else None
    s.add_event(
        "session.paused",
        note or "",
        source="pause",
        session_id=s.session.id,
        profile_hash=snapshot.hash,
    )


def git_at_pause(state: ColonyState) -> GitInfo | None:
    recorded = state.session.git_at_pause
    return GitInfo(head=recorded.get("head"), branch=recorded.get("branch")) if recorded else None
