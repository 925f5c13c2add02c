"""``aether resume``: start a new session from a paused colony (docs/lifecycle.md).

resume checks the handoff (colony id, serial), profile drift and git drift, marks the workers
of the previous session that did not finish, starts a new session, and only after that
transaction committed moves HANDOFF.md into ``handoff-history/`` (never deleted). The state is
the source of truth: an unreadable handoff is reported and resume goes on; a handoff from
another colony stops it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aether import activity
from aether.errors import InvalidInput
from aether.gitinfo import read_git
from aether.handoff import GitInfo, HandoffDocument
from aether.ops.session.handoff_file import move_handoff_to_history, read_handoff
from aether.ops.session.profile_snapshot import (
    CasteDrift,
    ProfileSnapshot,
    caste_drift,
    profile_snapshot,
)
from aether.ops.session.resume_guard import refuse, refuse_early
from aether.ops.session.resume_workers import settle_workers
from aether.ops.workers.respawn import Orphan, RespawnOutcome, pending_orphans, respawn_one
from aether.records import field, record
from aether.state.model import ColonyState, Session
from aether.state.store import Store
from aether.timeutil import age_seconds, iso, new_id, now
from aether.workspace import Workspace


class Checks(list[dict[str, Any]]):
    """What resume found, in order: each a check name, a level and a message."""

    def add(self, name: str, level: str, message: str) -> None:
        self.append({"check": name, "level": level, "message": message})


@record
class ProfileFindings:
    drift: list[CasteDrift] = field(default_factory=list)
    pinned: list[dict[str, str]] = field(default_factory=list)


@record
class ResumeResult:
    ws: Workspace
    state: ColonyState
    previous_session: Session
    handoff: HandoffDocument | None
    handoff_problem: str | None
    handoff_age_s: float | None
    handoff_moved_to: Path | None
    checks: list[dict[str, Any]] = field(default_factory=list)
    profile_hash_at_pause: str | None = None
    profile_hash_now: str | None = None
    drift: list[CasteDrift] = field(default_factory=list)
    adopted: bool = False
    pinned_workers: list[dict[str, str]] = field(default_factory=list)
    git_changes: list[str] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    respawned: list[RespawnOutcome] = field(default_factory=list)
    was_paused: bool = True

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.respawned)

    def to_json(self) -> dict[str, Any]:
        s = self.state
        return {
            "ok": self.ok,
            "colony_id": s.colony_id,
            "goal": s.goal,
            "status": s.status,
            "serial": s.serial,
            "session_id": s.session.id,
            "previous_session_id": self.previous_session.id,
            "resumed_at": s.session.resumed_at,
            "was_paused": self.was_paused,
            "note": self.previous_session.note,
            "handoff": {
                "readable": self.handoff is not None,
                "problem": self.handoff_problem,
                "age_s": self.handoff_age_s,
                "moved_to": str(self.handoff_moved_to) if self.handoff_moved_to else None,
            },
            "checks": self.checks,
            "profile": {
                "hash_at_pause": self.profile_hash_at_pause,
                "hash_now": self.profile_hash_now,
                "drift": [d.to_json() for d in self.drift],
                "adopted": self.adopted,
                "pinned_workers": self.pinned_workers,
            },
            "git_changes": self.git_changes,
            "orphans": [o.to_json() for o in self.orphans],
            "awaiting_respawn": self.pending,
            "respawned": [r.to_json() for r in self.respawned],
        }


# --- the use case ------------------------------------------------------------------------------


def resume(
    ws: Workspace,
    *,
    adopt_profile: bool = False,
    respawn: bool = False,
    no_proxy: bool = False,
    force: bool = False,
    ignore_handoff: bool = False,
    heartbeat_limit_s: int | None = None,
    lock_timeout: float | None = None,
    within: Callable[[ColonyState], None] | None = None,
) -> ResumeResult:
    """Resume the paused colony. ``within``: more work for the same transaction, done on the
    new session's state before it is written (a hook registers its agent session there: one
    write instead of two)."""
    if heartbeat_limit_s is not None and heartbeat_limit_s < 1:
        raise InvalidInput(
            f"--heartbeat-limit {heartbeat_limit_s} is not a positive number of seconds",
            fix="use e.g. --heartbeat-limit 1800",
        )
    raw, doc, problem = read_handoff(ws)
    store = Store(ws, lock_timeout=lock_timeout)
    refuse_early(store, doc, force=force, ignore_handoff=ignore_handoff)
    handoff = _Handoff(raw, doc, problem)
    result = _new_session(
        ws,
        store,
        handoff,
        adopt_profile=adopt_profile,
        force=force,
        ignore_handoff=ignore_handoff,
        heartbeat_limit_s=heartbeat_limit_s,
        within=within,
    )
    if respawn:
        _respawn_orphans(result, store, no_proxy=no_proxy, lock_timeout=lock_timeout)
    result.pending = [
        {"id": w.id, "caste": w.caste, "model": w.repin_to or w.model, "status": w.status}
        for w in pending_orphans(result.state)
    ]
    return result


@record(frozen=True)
class _Handoff:
    """HANDOFF.md as read before the lock: its bytes, its machine block, why unreadable."""

    raw: bytes | None
    doc: HandoffDocument | None
    problem: str | None


def _new_session(
    ws: Workspace,
    store: Store,
    handoff: _Handoff,
    *,
    adopt_profile: bool,
    force: bool,
    ignore_handoff: bool,
    heartbeat_limit_s: int | None,
    within: Callable[[ColonyState], None] | None = None,
) -> ResumeResult:
    """The one transaction: check, mark the unfinished workers, start the session (and the
    caller's ``within``); then the handoff moves to history, still under the lock."""
    # long: one transaction, read as one story (its checks are functions of their own)
    doc = handoff.doc
    snapshot = profile_snapshot(ws)
    git_now = read_git(ws.project)
    checks = Checks()
    moved: list[Path | None] = []
    with store.transaction() as tx:
        s = tx.state
        previous = s.session.model_copy(deep=True)
        was_paused = s.status == "paused"
        refuse(s.status, s.colony_id, doc, force=force, ignore_handoff=ignore_handoff)
        _check_handoff(checks, s, doc, handoff.problem)
        profile = _check_profile(checks, s, previous, snapshot, adopt_profile=adopt_profile)
        git_changes = _check_git(checks, previous, doc, git_now)
        moment = now()
        orphans, found = settle_workers(ws, s, previous, was_paused, moment, heartbeat_limit_s)
        for level, message in found:
            checks.add("workers", level, message)
        _start_session(s, previous, moment, orphans)
        if within is not None:
            within(s)
        # after the commit, under the same lock: a refused or failed resume keeps HANDOFF.md
        tx.then(lambda _: moved.append(move_handoff_to_history(ws, previous.id, handoff.raw)))
    state = tx.state
    activity.log(
        ws,
        "resume",
        session_id=state.session.id,
        previous_session_id=previous.id,
        orphans=[o.id for o in orphans],
        drift=[d.caste for d in profile.drift],
        adopted=adopt_profile,
    )
    return ResumeResult(
        ws=ws,
        state=state,
        previous_session=previous,
        handoff=doc if doc is not None and doc.colony_id == state.colony_id else None,
        handoff_problem=handoff.problem,
        handoff_age_s=age_seconds(doc.paused_at if doc else previous.paused_at),
        handoff_moved_to=moved[0] if moved else None,
        checks=checks,
        profile_hash_at_pause=previous.profile_hash_at_pause,
        profile_hash_now=snapshot.hash,
        drift=profile.drift,
        adopted=adopt_profile and bool(profile.drift),
        pinned_workers=profile.pinned,
        git_changes=git_changes,
        orphans=orphans,
        was_paused=was_paused,
    )


# --- its parts, in the order they run -----------------------------------------------------------


def _check_handoff(
    checks: Checks, s: ColonyState, doc: HandoffDocument | None, problem: str | None
) -> None:
    """1. The handoff: readable, this colony's, and in step with the state."""
    if problem:
        checks.add("handoff", "warning", f"{problem}; resuming from the state")
    elif doc is None:
        checks.add("handoff", "info", "no HANDOFF.md; resuming from the state")
    elif doc.colony_id != s.colony_id:
        checks.add("handoff", "warning", f"HANDOFF.md of colony {doc.colony_id} ignored")
    else:
        checks.add("handoff", *_handoff_serial_check(s, doc))
        missing = [w.id for w in doc.workers if s.worker(w.id) is None]
        if missing:
            checks.add(
                "handoff",
                "warning",
                f"{len(missing)} worker(s) in the handoff are not in the state: "
                + ", ".join(missing[:5]),
            )


def _handoff_serial_check(s: ColonyState, doc: HandoffDocument) -> tuple[str, str]:
    if doc.serial < s.serial:
        return "warning", (
            f"the state changed after the handoff was written (serial {doc.serial} → "
            f"{s.serial}); the state wins"
        )
    if doc.serial > s.serial:
        return "warning", (
            f"the handoff is newer than the state (serial {doc.serial} > {s.serial}): "
            "the state was restored or rolled back; the state wins"
        )
    if doc.session_id != s.session.id:
        return "warning", f"the handoff names session {doc.session_id}, the state {s.session.id}"
    return "ok", f"belongs to this colony, serial {doc.serial} matches"


def _check_profile(
    checks: Checks,
    s: ColonyState,
    previous: Session,
    snapshot: ProfileSnapshot,
    *,
    adopt_profile: bool,
) -> ProfileFindings:
    """2. Profile drift: castes routed differently now than at pause. Unfinished workers keep
    their model (listed as pinned) unless ``adopt_profile`` re-pins them."""
    if snapshot.error:
        checks.add("profile", "warning", f"drift not checked: {snapshot.error}")
        return ProfileFindings()
    if previous.profile_hash_at_pause is None:
        checks.add("profile", "info", "no profile hash was recorded at pause; drift not checked")
        return ProfileFindings()
    if snapshot.hash == previous.profile_hash_at_pause:
        checks.add("profile", "ok", f"unchanged ({snapshot.hash})")
        return ProfileFindings()
    drift = caste_drift(dict(previous.caste_models_at_pause), snapshot.caste_models)
    changed = {d.caste for d in drift if d.now is not None}
    pinned = _pin_workers(s, changed, snapshot, adopt_profile=adopt_profile)
    names = ", ".join(f"{d.caste} {d.at_pause or '-'} → {d.now or '-'}" for d in drift)
    detail = f"; castes now routed differently: {names}" if drift else "; no caste's model changed"
    checks.add(
        "profile",
        "warning",
        f"the profile changed ({previous.profile_hash_at_pause} → {snapshot.hash}){detail}",
    )
    if adopt_profile and drift:
        s.add_event(
            "profile.adopted",
            names,
            source="resume",
            profile_hash=snapshot.hash,
            castes=sorted(changed),
        )
    return ProfileFindings(drift, pinned)


def _pin_workers(
    s: ColonyState, changed: set[str], snapshot: ProfileSnapshot, *, adopt_profile: bool
) -> list[dict[str, str]]:
    """The unfinished workers of castes whose model changed (re-pinned when adopting)."""
    pinned: list[dict[str, str]] = []
    for w in s.workers:
        if w.caste in changed and not w.replaced_by and w.status not in ("completed", "failed"):
            new_model = snapshot.caste_models[w.caste]
            if adopt_profile:
                w.repin_to = new_model
            pinned.append(
                {"id": w.id, "caste": w.caste, "model": w.model, "profile_model": new_model}
            )
    return pinned


def _check_git(
    checks: Checks, previous: Session, doc: HandoffDocument | None, git_now: GitInfo | None
) -> list[str]:
    """3. Git drift, for information only: another branch or HEAD than at pause."""
    before = previous.git_at_pause or (doc.git.to_json() if doc and doc.git else None)
    if before is None:
        return []
    if git_now is None:
        checks.add("git", "info", "the project was a git repository at pause and is not now")
        return []
    changes: list[str] = []
    if before.get("branch") != git_now.branch:
        changes.append(f"branch {before.get('branch')} → {git_now.branch}")
    if before.get("head") != git_now.head:
        changes.append(f"HEAD {before.get('head')} → {git_now.head}")
    checks.add("git", "info", "; ".join(changes) or "HEAD and branch unchanged")
    return changes


def _start_session(
    s: ColonyState, previous: Session, moment: datetime, orphans: list[Orphan]
) -> None:
    """5. The new session."""
    stamp = iso(moment)
    s.session = Session(
        id=new_id("session"),
        started_at=stamp,
        resumed_at=stamp,
        previous_ids=[*previous.previous_ids, previous.id][-50:],
    )
    s.status = "active"
    s.add_event(
        "session.resumed",
        previous.note or "",
        source="resume",
        previous_session_id=previous.id,
        orphans=len(orphans),
    )


def _respawn_orphans(
    result: ResumeResult, store: Store, *, no_proxy: bool, lock_timeout: float | None
) -> None:
    """``--respawn``: a replacement for each orphan, each routed and recorded like a spawn."""
    for worker in pending_orphans(result.state):
        result.respawned.append(
            respawn_one(result.ws, worker, no_proxy=no_proxy, lock_timeout=lock_timeout)
        )
    result.state = store.load().state
