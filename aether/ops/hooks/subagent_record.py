"""Which worker record a hook's subagent is: found by the runtime's ids, else the oldest routed
worker of its definition not yet claimed, else a new record for a subagent nobody routed.

The subagent hooks (``aether.ops.hooks.agent``) and ``pre_agent`` share these: a record is
made by ``pre_agent`` (``runtime_record``), claimed at ``SubagentStart`` (``started_worker``)
and found again by ``agent_result`` and ``subagent_stop``. What a hook knows of its session
(``sighting_of``) lives here too, since every lookup observes the session first.
"""

from __future__ import annotations

import os
from typing import Any

from aether.ops.hooks.runtime import definition_text, is_aether_type, runtime_of
from aether.ops.session.agent_sessions import Sighting, observe
from aether.runtimes import definitions as agents
from aether.runtimes.hookio import HookInput
from aether.runtimes.marker import ownership
from aether.runtimes.registry import DEFAULT
from aether.state.model import ColonyState, Worker
from aether.timeutil import iso, new_id
from aether.workspace import Workspace

#: the kind of a record that names none (Claude Code's hooks ran without ``--runtime``)
RUNTIME = DEFAULT.kind


def sighting_of(hook: HookInput) -> Sighting | None:
    """What this hook knows of its agent session (None inside a headless worker aether
    started: that session is the worker's, not one of the colony's)."""
    from aether.ops.spawn.worker_env import WORKER_ID_VARIABLE
    from aether.process_identity import runtime_process
    from aether.redaction import admitted_or_none

    if os.environ.get(WORKER_ID_VARIABLE) or not hook.session_id:
        return None
    rt = runtime_of(hook)
    cwd, pid, main_model = rt.session_facts(hook)
    return Sighting(
        runtime=rt.kind,
        session_id=hook.session_id,
        cwd=cwd,
        transcript_path=hook.transcript_path,
        process=runtime_process(pid),
        main_model=admitted_or_none(main_model),
    )


def runtime_record(hook: HookInput, target: str, requested: str) -> dict[str, Any]:
    """The ``runtime`` block of a subagent's record. Its ``agent_id`` comes from the subagent's
    own events; a ``PreToolUse`` inside a subagent carries the *caller's* id, kept as
    ``parent_agent_id``."""
    record: dict[str, Any] = {
        "kind": hook.runtime,
        "session_id": hook.session_id,
        "tool_use_id": hook.tool_use_id or None,
        "agent_id": None,
        "agent_type": target,
        "requested_type": requested,
    }
    if hook.event == "PreToolUse" and hook.agent_id:
        record["parent_agent_id"] = hook.agent_id
    else:
        record["agent_id"] = hook.agent_id or None
    return record


# --- finding a subagent's record ---------------------------------------------------------------


def _session_workers(state: ColonyState, session_id: str, kind: str) -> list[Worker]:
    return [
        w
        for w in state.workers
        if (w.runtime or {}).get("kind") == kind
        and (w.runtime or {}).get("session_id") == session_id
    ]


def by_runtime_id(
    state: ColonyState, session_id: str, key: str, value: str, kind: str = RUNTIME
) -> Worker | None:
    if not value:
        return None
    for w in _session_workers(state, session_id, kind):
        if (w.runtime or {}).get(key) == value:
            return w
    return None


def linked_worker(
    state: ColonyState, session_id: str, agent_id: str, kind: str = RUNTIME
) -> Worker | None:
    """The record of the subagent the runtime calls ``agent_id`` in that session."""
    return by_runtime_id(state, session_id, "agent_id", agent_id, kind)


def _unlinked(state: ColonyState, hook: HookInput) -> Worker | None:
    """The oldest routed worker of this definition that no subagent has claimed yet."""
    for w in _session_workers(state, hook.session_id, hook.runtime):
        rt = w.runtime or {}
        if rt.get("agent_type") == hook.agent_type and not rt.get("agent_id"):
            if w.status == "spawned":
                return w
    return None


def _unrouted_worker(
    ws: Workspace, state: ColonyState, hook: HookInput, session: Worker | None
) -> Worker | None:
    """A record for an aether subagent no ``pre-agent`` routed (hook missing or failed); its
    caller is unknown, so it hangs under the session's main agent."""
    parsed = agents.parse_agent_name(hook.agent_type)
    if parsed is None or not is_aether_type(ws, hook.agent_type, hook):
        return None
    caste = parsed[0] or "unknown"  # a carrier started with no routing: its caste is unknown
    rt = runtime_of(hook)
    text = definition_text(ws, hook.agent_type, rt=rt) or ""
    model = rt.definition_model(text) or "unknown"
    profile_hash = ownership(text).profile_hash or ""
    source, why = "definition", "its definition's model"
    profile_model = _caste_model(ws, parsed[0])
    if profile_model is not None and profile_model != model:
        # an edited (or stale) definition: the profile's model is the one to hold it to, so
        # the model the runtime reports for the child is flagged when it is the file's
        source = "caste-default"
        why = f"the profile's model for its caste (its definition names {model})"
        model = profile_model
    worker = Worker(
        id=new_id(f"w-{caste}"),
        caste=caste,
        model=model,
        model_source=source,
        model_reason=f"{rt.display_name} started {hook.agent_type} without aether routing it (the "
        f"pre-agent hook did not run or could not record it); {why}",
        profile_hash=profile_hash,
        session_id=state.session.id,
        spawned_at=iso(),
        runtime=runtime_record(hook, hook.agent_type, hook.agent_type),
        parent_id=session.id if session is not None else None,
    )
    state.workers.append(worker)
    state.add_event(
        "worker_spawned",
        f"{worker.id} ({caste}) on {model} UNVERIFIED (not routed by aether)",
        worker_id=worker.id,
        caste=caste,
        model=model,
        source="definition",
        verified=False,
    )
    return worker


def _caste_model(ws: Workspace, caste: str | None) -> str | None:
    """The model the profile gives ``caste`` for a task that matches nothing — the one its own
    definition names when aether wrote it — or None (a carrier, no such caste, no profile)."""
    from aether.errors import AetherError
    from aether.ops.workers.usage import profile_table

    table = profile_table(ws)
    if caste is None or table is None or caste not in table.castes:
        return None
    try:
        return agents.caste_model(table, caste)
    except AetherError:
        return None


def mark_started(state: ColonyState, worker: Worker, agent_id: str) -> None:
    worker.runtime = {**(worker.runtime or {}), "agent_id": agent_id}
    if worker.status == "spawned":
        stamp = iso()
        worker.status = "running"
        worker.started_at = worker.started_at or stamp
        worker.heartbeat_at = stamp
        state.add_event("worker_started", f"{worker.id} started", worker_id=worker.id)


def started_worker(ws: Workspace, state: ColonyState, hook: HookInput) -> Worker | None:
    """The record of the subagent ``hook`` names, marked started: linked by its agent id, else
    the oldest unlinked routed worker of its definition, else a new record from the definition
    (None when the subagent is not aether's). The session is observed first: dead ones are
    found, this one registered."""
    session, _dead = observe(ws, state, sighting_of(hook))
    worker = (
        by_runtime_id(state, hook.session_id, "agent_id", hook.agent_id, hook.runtime)
        or _unlinked(state, hook)
        or _unrouted_worker(ws, state, hook, session)
    )
    if worker is not None:
        mark_started(state, worker, hook.agent_id)
    return worker
