"""``pause`` and ``resume``: the session boundary (issue 6).

pause: one transaction (status paused, paused_at, session end, note, the profile hash and the
caste→model map in force, git HEAD/branch); HANDOFF.md is rendered from the state *as
committed* and written atomically before that transaction releases the lock, so a handoff never
describes a state other than the one on disk.

resume: checks the handoff (colony id, serial), profile drift, git drift; marks orphans; starts
a new session; and only after that transaction committed moves HANDOFF.md into
``handoff-history/`` (never deleted). The state is the source of truth: an unreadable handoff
is reported and resume goes on; a handoff from another colony stops it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aether import __version__, activity
from aether.errors import (
    ColonyStateConflict,
    HandoffError,
    InvalidInput,
    MemoryFileError,
    ProfileProblem,
)
from aether.files import atomic_write_text, fsync_dir, os_error
from aether.handoff import GitInfo, HandoffDocument, parse_handoff, render_handoff
from aether.memory import MemoryItem, load_all
from aether.ops.respawn import (
    Orphan,
    RespawnOutcome,
    mark_orphans,
    pending_orphans,
    respawn_one,
)
from aether.records import field, record
from aether.state.model import ColonyState, Session
from aether.state.store import Store, peek
from aether.timeutil import age_seconds, iso, new_id, now, parse_iso
from aether.workspace import Workspace

# --- facts gathered outside the state ----------------------------------------------------------


@record(frozen=True)
class ProfileSnapshot:
    hash: str | None
    caste_models: dict[str, str]
    error: str | None = None


def profile_snapshot(ws: Workspace) -> ProfileSnapshot:
    """The profile hash and the model each caste gets now (an unreadable profile is data)."""
    from aether.routing.loader import load_profile_file
    from aether.routing.resolve import RouteRequest, resolve

    try:
        # the cached routing table: no YAML and no profile models on a warm cache
        table = load_profile_file(ws.profile_file, ws.cache_dir).table
    except ProfileProblem as exc:
        return ProfileSnapshot(None, {}, exc.one_line())
    models: dict[str, str] = {}
    for caste in sorted(table.castes):
        try:
            models[caste] = resolve(table, RouteRequest(caste=caste)).model
        except ProfileProblem:
            models[caste] = table.castes[caste].model
    return ProfileSnapshot(table.profile_hash, models)


def _read_ref(gitdir: Path, ref: str) -> str | None:
    for base in (gitdir, _common_dir(gitdir)):
        try:
            return (base / ref).read_text(encoding="utf-8").strip() or None
        except OSError:
            pass
        try:
            for line in (base / "packed-refs").read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
        except OSError:
            pass
    return None


def _common_dir(gitdir: Path) -> Path:
    try:
        common = (gitdir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return gitdir
    return (gitdir / common).resolve()


def read_git(project: Path) -> GitInfo | None:
    """HEAD and branch of the repository holding ``project``, read from files (no subprocess)."""
    for candidate in (project, *project.parents):
        dotgit = candidate / ".git"
        try:
            if dotgit.is_dir():
                gitdir = dotgit
            elif dotgit.is_file():
                text = dotgit.read_text(encoding="utf-8").strip()
                if not text.startswith("gitdir:"):
                    return None
                gitdir = (candidate / text.split(":", 1)[1].strip()).resolve()
            else:
                continue
            head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            return None
        if head.startswith("ref:"):
            ref = head[4:].strip()
            branch = ref.removeprefix("refs/heads/")
            return GitInfo(head=_read_ref(gitdir, ref), branch=branch)
        return GitInfo(head=head or None, branch=None)
    return None


def _memory_or_empty(ws: Workspace, warnings: list[str]) -> dict[str, list[MemoryItem]]:
    try:
        return load_all(ws.memory_dir)
    except MemoryFileError as exc:
        warnings.append(f"memory not shown in the handoff: {exc.one_line()}")
        return {}


def write_handoff_file(
    ws: Workspace, state: ColonyState, git: GitInfo | None, warnings: list[str]
) -> None:
    """HANDOFF.md from ``state`` as committed. Call it from ``tx.then``: still under the lock,
    so the handoff and the state can never disagree about the serial."""
    memory = _memory_or_empty(ws, warnings)
    text = render_handoff(state, memory=memory, git=git, aether_version=__version__)
    atomic_write_text(ws.handoff_file, text)


# --- pause -------------------------------------------------------------------------------------


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
    warnings: list[str] = []
    snapshot = profile_snapshot(ws)
    if snapshot.error:
        warnings.append(f"profile not recorded: {snapshot.error}")
    git = read_git(ws.project)
    store = Store(ws, lock_timeout=lock_timeout)
    written: list[ColonyState] = []

    def write_handoff(state: ColonyState) -> None:
        recorded = state.session.git_at_pause
        git_for_doc = (
            GitInfo(head=recorded.get("head"), branch=recorded.get("branch")) if recorded else None
        )
        write_handoff_file(ws, state, git_for_doc, warnings)
        written.append(state)

    with store.transaction() as tx:
        s = tx.state
        already = s.status == "paused"
        if already:
            # keep what was in force when the session ended; only a new note is recorded
            if note is None:
                tx.abort = True
            else:
                s.session.note = note
                s.add_event("session.pause-refreshed", "handoff refreshed", source="pause")
        else:
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


# --- resume ------------------------------------------------------------------------------------


@record(frozen=True)
class CasteDrift:
    caste: str
    at_pause: str | None
    now: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"caste": self.caste, "at_pause": self.at_pause, "now": self.now}


def caste_drift(before: dict[str, str], after: dict[str, str]) -> list[CasteDrift]:
    return [
        CasteDrift(c, before.get(c), after.get(c))
        for c in sorted(set(before) | set(after))
        if before.get(c) != after.get(c)
    ]


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


def _read_handoff(ws: Workspace) -> tuple[bytes | None, HandoffDocument | None, str | None]:
    try:
        raw = ws.handoff_file.read_bytes()
    except FileNotFoundError:
        return None, None, None
    except OSError as exc:
        return None, None, f"HANDOFF.md cannot be read ({exc.strerror})"
    try:
        return raw, parse_handoff(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return raw, None, "HANDOFF.md is unreadable: it is not UTF-8 text"
    except HandoffError as exc:
        return raw, None, exc.what


def _history_target(ws: Workspace, session_id: str) -> Path:
    stamp = iso().replace(":", "").replace("-", "")
    base = ws.handoff_history_dir / f"HANDOFF-{session_id}-{stamp}"
    target = base.with_suffix(".md")
    n = 2
    while target.exists():
        target = Path(f"{base}-{n}.md")
        n += 1
    return target


def move_handoff_to_history(ws: Workspace, session_id: str, expected: bytes | None) -> Path | None:
    """Move HANDOFF.md into handoff-history/ if it is still the one ``expected`` (caller locks)."""
    try:
        current = ws.handoff_file.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise os_error(exc, ws.handoff_file, "reading") from None
    if expected is not None and current != expected:
        return None  # a newer pause wrote it meanwhile: it is not ours to move
    target = _history_target(ws, session_id)
    try:
        ws.handoff_history_dir.mkdir(parents=True, exist_ok=True)
        os.replace(ws.handoff_file, target)
        fsync_dir(ws.handoff_history_dir)
        fsync_dir(ws.root)
    except OSError as exc:
        raise os_error(exc, target, "moving the handoff to") from None
    return target


def _refuse_early(
    store: Store, doc: HandoffDocument | None, *, force: bool, ignore_handoff: bool
) -> None:
    """The refusals of ``_refuse``, without the lock, so a refused resume leaves every file
    untouched. A current-format state is judged from its status and colony id alone (the
    transaction validates it and checks again); anything else gets the full load, and its typed
    error if it has one."""
    data = peek(store.ws)
    if (
        data is not None
        and isinstance(data.get("status"), str)
        and isinstance(data.get("colony_id"), str)
    ):
        _refuse(data["status"], data["colony_id"], doc, force=force, ignore_handoff=ignore_handoff)
    else:
        s = store.load().state
        _refuse(s.status, s.colony_id, doc, force=force, ignore_handoff=ignore_handoff)


def _refuse(
    status: str,
    colony_id: str,
    doc: HandoffDocument | None,
    *,
    force: bool,
    ignore_handoff: bool,
) -> None:
    if status != "paused" and not force:
        raise ColonyStateConflict(
            f"the colony is not paused (status {status})",
            meaning="resume ends the previous session and marks its unfinished workers "
            "lost; on a live session that would be wrong",
            fix="run `aether pause` first; if the previous session died without pausing, "
            "run `aether resume --force`",
        )
    if doc is not None and doc.colony_id != colony_id and not ignore_handoff:
        raise HandoffError(
            f"HANDOFF.md belongs to colony {doc.colony_id}, not to this colony ({colony_id})",
            meaning="it was copied from another project; nothing was changed",
            fix="move it away, or run `aether resume --ignore-handoff` (it is then kept "
            "in .aether/handoff-history/)",
        )


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
) -> ResumeResult:
    if heartbeat_limit_s is not None and heartbeat_limit_s < 1:
        raise InvalidInput(
            f"--heartbeat-limit {heartbeat_limit_s} is not a positive number of seconds",
            fix="use e.g. --heartbeat-limit 1800",
        )
    raw, doc, problem = _read_handoff(ws)
    store = Store(ws, lock_timeout=lock_timeout)
    _refuse_early(store, doc, force=force, ignore_handoff=ignore_handoff)
    snapshot = profile_snapshot(ws)
    git_now = read_git(ws.project)
    checks: list[dict[str, Any]] = []

    moved: list[Path | None] = []

    def check(name: str, level: str, message: str) -> None:
        checks.append({"check": name, "level": level, "message": message})

    with store.transaction() as tx:
        s = tx.state
        previous = s.session.model_copy(deep=True)
        was_paused = s.status == "paused"
        _refuse(s.status, s.colony_id, doc, force=force, ignore_handoff=ignore_handoff)
        # 1. the handoff
        if problem:
            check("handoff", "warning", f"{problem}; resuming from the state")
        elif doc is None:
            check("handoff", "info", "no HANDOFF.md; resuming from the state")
        elif doc.colony_id != s.colony_id:
            check("handoff", "warning", f"HANDOFF.md of colony {doc.colony_id} ignored")
        else:
            if doc.serial < s.serial:
                check(
                    "handoff",
                    "warning",
                    f"the state changed after the handoff was written (serial {doc.serial} → "
                    f"{s.serial}); the state wins",
                )
            elif doc.serial > s.serial:
                check(
                    "handoff",
                    "warning",
                    f"the handoff is newer than the state (serial {doc.serial} > {s.serial}): "
                    "the state was restored or rolled back; the state wins",
                )
            elif doc.session_id != s.session.id:
                check(
                    "handoff",
                    "warning",
                    f"the handoff names session {doc.session_id}, the state {s.session.id}",
                )
            else:
                check("handoff", "ok", f"belongs to this colony, serial {doc.serial} matches")
            missing = [w.id for w in doc.workers if s.worker(w.id) is None]
            if missing:
                check(
                    "handoff",
                    "warning",
                    f"{len(missing)} worker(s) in the handoff are not in the state: "
                    + ", ".join(missing[:5]),
                )
        # 2. profile drift
        at_pause = dict(previous.caste_models_at_pause)
        drift: list[CasteDrift] = []
        pinned: list[dict[str, str]] = []
        if snapshot.error:
            check("profile", "warning", f"drift not checked: {snapshot.error}")
        elif previous.profile_hash_at_pause is None:
            check("profile", "info", "no profile hash was recorded at pause; drift not checked")
        elif snapshot.hash == previous.profile_hash_at_pause:
            check("profile", "ok", f"unchanged ({snapshot.hash})")
        else:
            drift = caste_drift(at_pause, snapshot.caste_models)
            changed = {d.caste for d in drift if d.now is not None}
            for w in s.workers:
                if (
                    w.caste in changed
                    and not w.replaced_by
                    and w.status not in ("completed", "failed")
                ):
                    new_model = snapshot.caste_models[w.caste]
                    if adopt_profile:
                        w.repin_to = new_model
                    pinned.append(
                        {"id": w.id, "caste": w.caste, "model": w.model, "profile_model": new_model}
                    )
            names = ", ".join(f"{d.caste} {d.at_pause or '-'} → {d.now or '-'}" for d in drift)
            check(
                "profile",
                "warning",
                f"the profile changed ({previous.profile_hash_at_pause} → {snapshot.hash})"
                + (
                    f"; castes now routed differently: {names}"
                    if drift
                    else "; no caste's model changed"
                ),
            )
            if adopt_profile and drift:
                s.add_event(
                    "profile.adopted",
                    names,
                    source="resume",
                    profile_hash=snapshot.hash,
                    castes=sorted(changed),
                )
        # 3. git drift (information only)
        git_changes: list[str] = []
        before = previous.git_at_pause or (doc.git.to_json() if doc and doc.git else None)
        if before is not None and git_now is not None:
            if before.get("branch") != git_now.branch:
                git_changes.append(f"branch {before.get('branch')} → {git_now.branch}")
            if before.get("head") != git_now.head:
                git_changes.append(f"HEAD {before.get('head')} → {git_now.head}")
            check("git", "info", "; ".join(git_changes) or "HEAD and branch unchanged")
        elif before is not None:
            check("git", "info", "the project was a git repository at pause and is not now")
        # 4. orphans
        moment = now()
        # a session that ended without a pause has no known end: the heartbeat limit decides
        ended = parse_iso(previous.paused_at) if was_paused and previous.paused_at else None
        orphans = mark_orphans(s, ended=ended, now=moment, limit_s=heartbeat_limit_s)
        if orphans:
            check(
                "workers",
                "warning",
                f"{len(orphans)} worker(s) did not finish: "
                + ", ".join(f"{o.id} {o.status}" for o in orphans[:8]),
            )
        else:
            check("workers", "ok", "no orphaned workers")
        alive = [w.id for w in s.workers if w.status in ("spawned", "running")]
        if ended is None and alive:
            limit = heartbeat_limit_s or s.settings.heartbeat_limit_s
            check(
                "workers",
                "info",
                f"{len(alive)} worker(s) showed a sign of life within the {limit} s heartbeat "
                "limit and were left as they are (they may still be running): "
                + ", ".join(alive[:8]),
            )
        # 5. the new session
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
        # after the commit, under the same lock: a refused or failed resume keeps HANDOFF.md
        tx.then(lambda _: moved.append(move_handoff_to_history(ws, previous.id, raw)))
    state = tx.state
    activity.log(
        ws,
        "resume",
        session_id=state.session.id,
        previous_session_id=previous.id,
        orphans=[o.id for o in orphans],
        drift=[d.caste for d in drift],
        adopted=adopt_profile,
    )
    result = ResumeResult(
        ws=ws,
        state=state,
        previous_session=previous,
        handoff=doc if doc is not None and doc.colony_id == state.colony_id else None,
        handoff_problem=problem,
        handoff_age_s=age_seconds(doc.paused_at if doc else previous.paused_at),
        handoff_moved_to=moved[0] if moved else None,
        checks=checks,
        profile_hash_at_pause=previous.profile_hash_at_pause,
        profile_hash_now=snapshot.hash,
        drift=drift,
        adopted=adopt_profile and bool(drift),
        pinned_workers=pinned,
        git_changes=git_changes,
        orphans=orphans,
        was_paused=was_paused,
    )
    if respawn:
        for worker in pending_orphans(state):
            result.respawned.append(
                respawn_one(ws, worker, no_proxy=no_proxy, lock_timeout=lock_timeout)
            )
        state = store.load().state
        result.state = state
    result.pending = [
        {"id": w.id, "caste": w.caste, "model": w.repin_to or w.model, "status": w.status}
        for w in pending_orphans(result.state)
    ]
    return result
