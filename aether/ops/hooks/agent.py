"""The hooks that keep a subagent's record: started, result, stopped (Claude Code and Codex).

Order of events for one spawn (measured, Claude Code 2.1.328): ``PreToolUse`` (``tool_use_id``)
→ ``SubagentStart`` (``agent_id``) → ``PostToolUse`` (both ids, ``resolvedModel``; a subagent
started in the background reports ``async_launched`` at once) → ``SubagentStop`` (``agent_id``,
its transcript). Codex 0.171.0 has the same order without ``PostToolUse``; its
``SubagentStart`` names the child's model. So:

* ``pre_agent`` (``aether.ops.hooks.pre_agent``) routes the spawn and records the worker as
  ``spawned``, or denies it;
* ``subagent_start`` links the record to the runtime's ``agent_id`` (the oldest unlinked
  worker of that definition in that session; a worker nobody routed is recorded from its
  definition); Codex's model for the child is recorded, flagged when it differs.
* ``agent_result`` knows both ids, corrects the link if two parallel spawns of one definition
  were taken in the other order, and records ``resolvedModel`` — flagged when it differs.
* ``subagent_stop`` completes the worker and reads its transcript (Codex: its rollout): tokens
  per model, and any model other than the assigned one is a mismatch.
"""

from __future__ import annotations

import os
from typing import Any

from aether.ops.hooks.dispatch import HookOutcome
from aether.ops.hooks.runtime import (
    CLAUDE,
    CODEX,
    definition_text,
    is_aether_type,
    runtime_of,
    subagent_usage,
)
from aether.ops.session.agent_sessions import Sighting, observe, result_line
from aether.runtimes import definitions as agents
from aether.runtimes import hookio
from aether.runtimes.hookio import HookInput
from aether.runtimes.marker import ownership
from aether.state.model import (
    FINISHED_WORKER_STATUSES,
    ORPHAN_WORKER_STATUSES,
    ColonyState,
    Worker,
)
from aether.state.store import Store
from aether.timeutil import age_seconds, iso, new_id
from aether.workspace import Workspace

RUNTIME = CLAUDE


def sighting_of(hook: HookInput) -> Sighting | None:
    """What this hook knows of its Claude Code session (None inside a headless worker aether
    started: that session is the worker's, not one of the colony's)."""
    from aether.ops.spawn.worker_env import WORKER_ID_VARIABLE
    from aether.process_identity import runtime_process
    from aether.redaction import admitted_or_none

    if os.environ.get(WORKER_ID_VARIABLE) or not hook.session_id:
        return None
    if hook.runtime == CODEX:  # Codex names no process to hooks: the first non-shell ancestor
        process = runtime_process(None)
        # a session event's model is the main agent's (a subagent's events name the child's)
        main = hook.model if hook.event in ("SessionStart", "Stop", "SessionEnd") else ""
        return Sighting(
            CODEX,
            hook.session_id,
            hook.cwd,
            hook.transcript_path,
            process,
            admitted_or_none(main or None),
        )
    return Sighting(
        runtime=RUNTIME,
        session_id=hook.session_id,
        cwd=hook.cwd or os.environ.get("CLAUDE_PROJECT_DIR", ""),
        transcript_path=hook.transcript_path,
        # Claude Code names its own process to hooks; a served hook's client sends it along
        process=runtime_process(os.environ.get("CLAUDE_PID")),
        main_model=admitted_or_none(os.environ.get("ANTHROPIC_MODEL") or None),
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


def _by(
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
    return _by(state, session_id, "agent_id", agent_id, kind)


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
        model_reason=f"{rt.label} started {hook.agent_type} without aether routing it (the "
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


def _start(state: ColonyState, worker: Worker, agent_id: str) -> None:
    worker.runtime = {**(worker.runtime or {}), "agent_id": agent_id}
    if worker.status == "spawned":
        stamp = iso()
        worker.status = "running"
        worker.started_at = worker.started_at or stamp
        worker.heartbeat_at = stamp
        state.add_event("worker_started", f"{worker.id} started", worker_id=worker.id)


def _started_worker(ws: Workspace, state: ColonyState, hook: HookInput) -> Worker | None:
    """The record of the subagent ``hook`` names, marked started: linked by its agent id, else
    the oldest unlinked routed worker of its definition, else a new record from the definition
    (None when the subagent is not aether's). The session is observed first: dead ones are
    found, this one registered."""
    session, _dead = observe(ws, state, sighting_of(hook))
    worker = (
        _by(state, hook.session_id, "agent_id", hook.agent_id, hook.runtime)
        or _unlinked(state, hook)
        or _unrouted_worker(ws, state, hook, session)
    )
    if worker is not None:
        _start(state, worker, hook.agent_id)
    return worker


# --- subagent-start ----------------------------------------------------------------------------


def subagent_start(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    outcome = HookOutcome(hook.event)
    if agents.parse_agent_name(hook.agent_type) is None or not hook.agent_id:
        return outcome
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        s = tx.state
        worker = _started_worker(ws, s, hook)
        if worker is None:
            tx.abort = True
            return outcome
        if hook.runtime == CODEX and hook.model:
            # Codex's own word on the child's model, as Claude Code's resolvedModel
            worker.resolved_model = hook.model
            how = "Codex started it on"
            mismatch = _flag_if_other(ws, s, worker, [hook.model], how, CODEX)
            if mismatch:
                outcome.notes.append(mismatch)
    outcome.worker_id = worker.id
    return outcome


# --- agent-result ------------------------------------------------------------------------------

#: what a subagent's own events set on its record (moved together when two records' agent ids
#: turn out to be swapped); ``resolved_model`` is the tool call's, so it stays
_AGENT_SIDE = (
    "status",
    "started_at",
    "heartbeat_at",
    "finished_at",
    "duration_s",
    "model_used",
    "model_mismatch",
    "tokens_in",
    "tokens_out",
    "cost_usd",
    "usage_by_model",
)


def _relink(state: ColonyState, worker: Worker, agent_id: str) -> None:
    """``worker`` (found by its tool_use_id) belongs to ``agent_id``: if another record of the
    session was linked to that agent, the two were started in the other order — swap what
    each subagent's events recorded."""
    current = (worker.runtime or {}).get("agent_id")
    if current == agent_id:
        return
    rt = worker.runtime or {}
    other = _by(state, rt.get("session_id") or "", "agent_id", agent_id, rt.get("kind", RUNTIME))
    if other is not None and other is not worker:
        for name in _AGENT_SIDE:
            mine, theirs = getattr(worker, name), getattr(other, name)
            setattr(worker, name, theirs)
            setattr(other, name, mine)
        other.runtime = {**(other.runtime or {}), "agent_id": current}
        state.add_event(
            "worker_relinked",
            f"{worker.id} is agent {agent_id} and {other.id} agent {current}: Claude Code "
            "started them in the other order; what each agent reported moved with it",
            worker_id=worker.id,
            other_worker_id=other.id,
        )
    elif worker.status == "spawned":
        _start(state, worker, agent_id)
    worker.runtime = {**(worker.runtime or {}), "agent_id": agent_id}


def agent_result(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    outcome = HookOutcome(hook.event)
    if agents.parse_agent_name(hook.subagent_type) is None:
        return outcome  # not one of aether's subagents: no lock, no read
    response = hook.tool_response or {}
    agent_id = response.get("agentId") if isinstance(response.get("agentId"), str) else ""
    resolved = response.get("resolvedModel")
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        s = tx.state
        observe(ws, s, sighting_of(hook))
        worker = _by(s, hook.session_id, "tool_use_id", hook.tool_use_id) or _by(
            s, hook.session_id, "agent_id", str(agent_id)
        )
        if worker is None:
            tx.abort = True
            return outcome
        if agent_id:
            _relink(s, worker, agent_id)
        status = response.get("status")
        worker.runtime = {**(worker.runtime or {}), "result_status": status}
        if isinstance(resolved, str) and resolved:
            worker.resolved_model = resolved
            mismatch = _flag_if_other(ws, s, worker, [resolved], "Claude Code resolved")
            if mismatch:
                outcome.answer = hookio.context_for_model("PostToolUse", mismatch)
                outcome.notes.append(mismatch)
    outcome.worker_id = worker.id
    return outcome


def _flag_if_other(
    ws: Workspace,
    state: ColonyState,
    worker: Worker,
    reported: list[str],
    how: str,
    kind: str = RUNTIME,
) -> str | None:
    """Flag every model in ``reported`` that is not the worker's assigned one; the message."""
    from aether.ops.workers.usage import canonical, flag_mismatch, profile_table

    table = profile_table(ws)
    others = sorted({r for r in reported if canonical(table, r) != worker.model})
    if not others:
        return None
    flag_mismatch(ws, state, worker, others, how, kind)
    check = (
        "the agent file's model under .codex/agents (`aether codex check`)"
        if kind == CODEX
        else "CLAUDE_CODE_SUBAGENT_MODEL(_FORCE), availableModels and the Agent tool's model "
        "parameter (`aether doctor`)"
    )
    return (
        f"aether: worker {worker.id} ({worker.caste}) was assigned {worker.model} but {how} "
        f"{', '.join(others)}: routing did not hold. Check {check}."
    )


# --- subagent-stop -----------------------------------------------------------------------------


def subagent_stop(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    outcome = HookOutcome(hook.event)
    if agents.parse_agent_name(hook.agent_type) is None or not hook.agent_id:
        return outcome
    usage: Any = None
    if hook.agent_transcript_path:
        try:
            usage = subagent_usage(hook)
        except OSError as exc:
            outcome.notes.append(f"transcript not read ({exc.strerror or exc})")
        except Exception as exc:  # a transcript must never cost the worker its completion
            outcome.notes.append(f"transcript not read ({type(exc).__name__}: {exc})")
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        s = tx.state
        worker = _started_worker(ws, s, hook)
        if worker is None:
            tx.abort = True
            return outcome
        if usage is not None and usage.by_model:
            _record_usage(ws, s, worker, usage)
        if hook.last_assistant_message:
            worker.result = result_line(ws, hook.last_assistant_message)
        _complete(s, worker)
    outcome.worker_id = worker.id
    if worker.model_mismatch and usage is not None:
        outcome.notes.append(
            f"worker {worker.id} ran on {', '.join(sorted(usage.by_model))}, "
            f"assigned {worker.model}"
        )
    return outcome


def _record_usage(ws: Workspace, state: ColonyState, worker: Worker, usage: Any) -> None:
    from aether.ops.workers.usage import profile_table, record_usage

    kind = (worker.runtime or {}).get("kind", RUNTIME)
    record_usage(worker, usage.by_model, profile_table(ws))
    _flag_if_other(ws, state, worker, list(usage.by_model), "its transcript shows", kind)


def _complete(state: ColonyState, worker: Worker) -> None:
    """The subagent ended. A worker taken for lost (its session looked dead, or a resume
    marked it) that reports its end after all is completed: the runtime's word beats the
    presumption."""
    if worker.status in FINISHED_WORKER_STATUSES and worker.status not in ORPHAN_WORKER_STATUSES:
        return
    if worker.status in ORPHAN_WORKER_STATUSES:
        state.add_event(
            "worker.found",
            f"{worker.id} was {worker.status} but its runtime reports it finished",
            worker_id=worker.id,
            was=worker.status,
        )
        worker.fail_reason = None
        worker.closed_at = worker.close_reason = None
    stamp = iso()
    worker.status = "completed"
    worker.finished_at = stamp
    elapsed = age_seconds(worker.started_at)
    worker.duration_s = round(elapsed, 3) if elapsed is not None else None
    state.add_event("worker_completed", f"{worker.id} completed", worker_id=worker.id)
