"""The checks ``aether doctor`` runs (aether/ops/doctor/report.py puts them together): each reads,
none writes or waits on the lock, and each ends in one ``Check`` (aether/health.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from aether.bounded_read import open_regular, read_regular
from aether.errors import AetherError, InvalidInput
from aether.files import list_temp_files
from aether.health import Check
from aether.state.lock import describe_holder, read_holder
from aether.workspace import Workspace

if TYPE_CHECKING:
    from aether.routing.table import ProxyConnection
    from aether.state.model import ColonyState

#: a state this large still loads, but compaction settings deserve a look
LARGE_STATE_BYTES = 2 * 1024 * 1024
PROXY_TIMEOUT_S = 1.5


def state_checks(ws: Workspace) -> tuple[ColonyState | None, list[Check]]:
    """The state file (size, format, serial), its events and its workers."""
    from aether.state.store import Store

    size = _size(ws.state_file) or 0
    try:
        state = Store(ws).load().state
    except AetherError as exc:
        return None, [Check("state", "fail", exc.one_line(), {"bytes": size})]
    level = "warning" if size > LARGE_STATE_BYTES else "ok"
    summary = Check(
        "state",
        level,
        f"{size / 1024:.1f} KiB, format {state.version}, serial {state.serial}, "
        f"status {state.status}",
        {"bytes": size, "serial": state.serial},
    )
    return state, [summary, _events_check(ws, state), _workers_check(ws, state)]


def _events_check(ws: Workspace, state: ColonyState) -> Check:
    return Check(
        "events",
        "ok",
        f"{len(state.events)} in the state (cap {state.settings.event_cap}), "
        f"{state.events_archived} compacted to {ws.events_archive.name}",
        {
            "in_state": len(state.events),
            "cap": state.settings.event_cap,
            "archived": state.events_archived,
            "archive_lines": _count_lines(ws.events_archive),
        },
    )


def _workers_check(ws: Workspace, state: ColonyState) -> Check:
    by_status: dict[str, int] = {}
    for w in state.workers:
        by_status[w.status] = by_status.get(w.status, 0) + 1
    compacted = sum(c.total for c in state.worker_counts.values())
    orphans = by_status.get("lost", 0) + by_status.get("never_started", 0)
    return Check(
        "workers",
        "warning" if orphans else "ok",
        f"{len(state.workers)} in the state "
        + (", ".join(f"{n} {k}" for k, n in sorted(by_status.items())) or "")
        + f"; {compacted} compacted to {ws.workers_history.name}",
        {
            "in_state": len(state.workers),
            "by_status": by_status,
            "compacted": compacted,
            "history_bytes": _size(ws.workers_history) or 0,
        },
    )


def temp_files_check(ws: Workspace) -> Check:
    temps = [
        p
        for d in (ws.data_dir, ws.root, ws.memory_dir, ws.chambers_dir)
        for p in list_temp_files(d)
    ]
    temp_dirs = sorted(ws.chambers_dir.glob(".tmp-*")) if ws.chambers_dir.is_dir() else []
    if not (temps or temp_dirs):
        return Check("temp files", "ok", "none")
    return Check(
        "temp files",
        "warning",
        f"{len(temps)} leftover temp file(s), {len(temp_dirs)} unfinished chamber(s) "
        "(a crashed write; the next write sweeps data/)",
        {"files": [str(p) for p in temps + temp_dirs]},
    )


def handoff_checks(ws: Workspace, state: ColonyState | None) -> list[Check]:
    """HANDOFF.md, when there is one: readable, and this colony's."""
    if not ws.handoff_file.exists():
        return []
    from aether.handoff import parse_handoff

    try:
        doc = parse_handoff(read_regular(ws.handoff_file).decode("utf-8", errors="replace"))
    except AetherError as exc:
        return [Check("handoff", "warning", exc.one_line())]
    except OSError as exc:
        return [Check("handoff", "warning", f"HANDOFF.md cannot be read ({exc.strerror})")]
    if state is None or doc.colony_id == state.colony_id:
        return [Check("handoff", "ok", f"paused {doc.paused_at}, serial {doc.serial}")]
    return [Check("handoff", "warning", f"belongs to colony {doc.colony_id}")]


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _count_lines(path: Path) -> int:
    try:
        with open_regular(path) as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return 0


def lock_check(ws: Workspace) -> Check:
    """Probe the colony lock without waiting and without writing anything.

    ``aether.state.lock`` takes the lock through filelock, which on Unix is ``flock`` on the
    lock file; the probe asks for that same flock directly, on a read-only descriptor, so it
    works on a read-only colony and costs no filelock import (~9 ms a process)."""
    import fcntl

    if not ws.lock_file.exists():
        return Check("lock", "ok", "free (no lock file yet)")
    try:
        fd = os.open(ws.lock_file, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        return Check("lock", "warning", f"cannot test the lock: {exc.strerror}")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = describe_holder(read_holder(ws.lock_holder_file))
        return Check("lock", "info", f"held by {holder}", {"held": True})
    except OSError as exc:
        return Check("lock", "warning", f"cannot test the lock: {exc.strerror}")
    finally:
        os.close(fd)  # closing the descriptor releases a lock the probe took
    return Check("lock", "ok", "free", {"held": False})


def _proxy_check(settings: ProxyConnection) -> Check:
    """GET /health/readiness: says the proxy is up, not that the key works (see the proxy docs)."""
    import http.client

    from aether.proxy_http import parse_endpoint

    try:
        ep = parse_endpoint(settings.endpoint, settings.endpoint_from)
    except InvalidInput as exc:
        return Check("proxy", "fail", exc.one_line())
    endpoint = settings.endpoint
    if settings.endpoint_from is not None:
        endpoint += f" (from {settings.endpoint_from})"
    conn: http.client.HTTPConnection
    if ep.scheme == "https":
        conn = http.client.HTTPSConnection(ep.host, ep.port, timeout=PROXY_TIMEOUT_S)
    else:
        conn = http.client.HTTPConnection(ep.host, ep.port, timeout=PROXY_TIMEOUT_S)
    try:
        conn.request("GET", ep.base_path + "/health/readiness")
        status = conn.getresponse().status
    except OSError as exc:
        # the profile routes through it: every verified spawn would fail
        return Check("proxy", "fail", f"{endpoint} unreachable ({exc})", {"reachable": False})
    finally:
        conn.close()
    if status == 200:
        return Check(
            "proxy",
            "ok",
            f"{endpoint} ready (readiness only; the key is checked on spawn)",
            {"reachable": True},
        )
    return Check(
        "proxy",
        "fail",
        f"{endpoint} answered {status} to readiness: not ready to serve spawns",
        {"reachable": True, "status": status},
    )


def memory_check(ws: Workspace) -> Check:
    """What the user taught the colony must be readable: `memory list`, pause and the
    briefing read it."""
    from aether.memory import load_all

    if not ws.memory_dir.is_dir():
        return Check(
            "memory",
            "fail",
            f"{ws.memory_dir} is missing: learnings, decisions and instincts are gone from "
            "the colony (the chambers in .aether/chambers/ hold copies; `aether archive "
            "restore` brings one back)",
        )
    try:
        items = load_all(ws.memory_dir)
    except AetherError as exc:
        return Check("memory", "fail", exc.one_line())
    counts = {kind: len(found) for kind, found in items.items()}
    return Check("memory", "ok", f"{sum(counts.values())} items readable", {"items": counts})


def profile_checks(ws: Workspace, check_proxy: bool) -> list[Check]:
    from aether.routing.loader import load_profile_file

    try:
        # the same loader spawn uses: a file unchanged since it was last validated is read from
        # the cache (keyed by its sha256), anything else is parsed and validated in full
        loaded = load_profile_file(ws.profile_file, ws.cache_dir)
    except AetherError as exc:
        return [
            Check("profile", "fail", exc.one_line()),
            Check("proxy", "skipped", "no valid profile to read the endpoint from"),
        ]
    checks = [
        Check(
            "profile",
            "ok",
            f"{ws.profile_file.name} valid, hash {loaded.profile_hash}",
            {"castes": len(loaded.table.castes), "models": len(loaded.table.models)},
        )
    ]
    proxy = loaded.table.proxy
    if not check_proxy:
        checks.append(Check("proxy", "skipped", "--no-proxy"))
    elif proxy.standalone:
        checks.append(Check("proxy", "skipped", "profile is standalone (no proxy)"))
    else:
        checks.append(_proxy_check(proxy))
    return checks
