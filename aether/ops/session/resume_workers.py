"""Resume's part 4: the workers the previous session left behind (docs/lifecycle.md).

Orphans that waited for a decision through too many sessions are closed first; then the
workers of the previous session that did not finish are marked ``lost`` or ``never_started``
(never re-run here). A session that ended without a pause has no known end: the heartbeat
limit decides, and workers with a recent sign of life are left as they are. Workers of an
agent session that is still live are never resume's to judge (aether.ops.session.agent_sessions).
"""

from __future__ import annotations

from datetime import datetime

from aether.ops.workers.respawn import Orphan, age_orphans, mark_orphans
from aether.state.model import ColonyState, Session
from aether.timeutil import iso, parse_iso
from aether.workspace import Workspace


def settle_workers(
    ws: Workspace,
    s: ColonyState,
    previous: Session,
    was_paused: bool,
    moment: datetime,
    heartbeat_limit_s: int | None,
) -> tuple[list[Orphan], list[tuple[str, str]]]:
    """(the orphans marked now, what resume reports about workers: (level, message) pairs)."""
    from aether.ops.session.agent_sessions import reap

    found: list[tuple[str, str]] = []
    reap(ws, s, None)  # agent sessions whose process is gone: their workers lost first
    closed = age_orphans(s, iso(moment))
    if closed:
        found.append(
            (
                "info",
                f"{len(closed)} orphan(s) nobody re-ran or closed were closed: "
                + ", ".join(closed[:8]),
            )
        )
    ended = parse_iso(previous.paused_at) if was_paused and previous.paused_at else None
    orphans = mark_orphans(s, ended=ended, now=moment, limit_s=heartbeat_limit_s)
    if orphans:
        found.append(
            (
                "warning",
                f"{len(orphans)} worker(s) did not finish: "
                + ", ".join(f"{o.id} {o.status}" for o in orphans[:8]),
            )
        )
    else:
        found.append(("ok", "no orphaned workers"))
    alive = [
        w.id for w in s.workers if w.status in ("spawned", "running") and not w.is_main_session
    ]
    if ended is None and alive:
        limit = heartbeat_limit_s or s.settings.heartbeat_limit_s
        found.append(
            (
                "info",
                f"{len(alive)} worker(s) showed a sign of life within the {limit} s heartbeat "
                "limit, or belong to a live agent session, and were left as they are (they may "
                "still be running): " + ", ".join(alive[:8]),
            )
        )
    return orphans, found
