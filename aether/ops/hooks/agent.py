"""The hooks that keep a subagent's record: started, result, stopped (Claude Code and Codex).

Order of events for one spawn (measured, Claude Code 2.1.328): ``PreToolUse`` (``tool_use_id``)
→ ``SubagentStart`` (``agent_id``) → ``PostToolUse`` (both ids, ``resolvedModel``; a subagent
started in the background reports ``async_launched`` at once) → ``SubagentStop`` (``agent_id``,
its transcript). Codex 0.171.0 has the same order without ``PostToolUse``; its
``SubagentStart`` names the child's model. So:

* ``pre_agent`` (``aether.ops.hooks.pre_agent``) routes the spawn and records the worker as
  ``spawned``, or denies it;
* ``subagent_start`` links the record to the runtime's ``agent_id`` (found as
  ``aether.ops.hooks.subagent_record`` says); Codex's model for the child is recorded,
  flagged when it differs.
* ``agent_result`` knows both ids, corrects the link if two parallel spawns of one definition
  were taken in the other order, and records ``resolvedModel`` — flagged when it differs.
* ``subagent_stop`` completes the worker and reads its transcript (Codex: its rollout): tokens
  per model, and any model other than the assigned one is a mismatch.
"""

from __future__ import annotations

from aether.ops.hooks.dispatch import HookOutcome
from aether.ops.hooks.runtime import runtime_of, subagent_usage
from aether.ops.hooks.subagent_record import (
    RUNTIME,
    by_runtime_id,
    mark_started,
    sighting_of,
    started_worker,
)
from aether.ops.session.agent_sessions import observe, result_line
from aether.runtimes import definitions as agents
from aether.runtimes import hookio
from aether.runtimes.hookio import HookInput
from aether.runtimes.usage import ModelUsage
from aether.state.model import (
    FINISHED_WORKER_STATUSES,
    ORPHAN_WORKER_STATUSES,
    ColonyState,
    Worker,
)
from aether.state.store import Store
from aether.timeutil import age_seconds, iso
from aether.workspace import Workspace

# --- subagent-start ----------------------------------------------------------------------------


def subagent_start(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    outcome = HookOutcome(hook.event)
    if agents.parse_agent_name(hook.agent_type) is None or not hook.agent_id:
        return outcome
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        s = tx.state
        worker = started_worker(ws, s, hook)
        if worker is None:
            tx.abort = True
            return outcome
        rt = runtime_of(hook)
        if rt.start_names_child_model and hook.model:
            # the runtime's own word on the child's model, as Claude Code's resolvedModel
            worker.resolved_model = hook.model
            how = f"{rt.display_name} started it on"
            mismatch = _flag_if_other(ws, s, worker, [hook.model], how, rt.kind)
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
    other = by_runtime_id(
        state, rt.get("session_id") or "", "agent_id", agent_id, rt.get("kind", RUNTIME)
    )
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
        mark_started(state, worker, agent_id)
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
        worker = by_runtime_id(
            s, hook.session_id, "tool_use_id", hook.tool_use_id
        ) or by_runtime_id(s, hook.session_id, "agent_id", str(agent_id))
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
    from aether.runtimes.registry import runtime

    check = runtime(kind).mismatch_check
    return (
        f"aether: worker {worker.id} ({worker.caste}) was assigned {worker.model} but {how} "
        f"{', '.join(others)}: routing did not hold. Check {check}."
    )


# --- subagent-stop -----------------------------------------------------------------------------


def subagent_stop(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    outcome = HookOutcome(hook.event)
    if agents.parse_agent_name(hook.agent_type) is None or not hook.agent_id:
        return outcome
    usage: dict[str, ModelUsage] | None = None
    if hook.agent_transcript_path:
        try:
            usage = subagent_usage(hook)
        except OSError as exc:
            outcome.notes.append(f"transcript not read ({exc.strerror or exc})")
        except Exception as exc:  # a transcript must never cost the worker its completion
            outcome.notes.append(f"transcript not read ({type(exc).__name__}: {exc})")
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        s = tx.state
        worker = started_worker(ws, s, hook)
        if worker is None:
            tx.abort = True
            return outcome
        if usage:
            _record_usage(ws, s, worker, usage)
        if hook.last_assistant_message:
            worker.result = result_line(ws, hook.last_assistant_message)
        _complete(s, worker)
    outcome.worker_id = worker.id
    if worker.model_mismatch and usage is not None:
        outcome.notes.append(
            f"worker {worker.id} ran on {', '.join(sorted(usage))}, assigned {worker.model}"
        )
    return outcome


def _record_usage(ws: Workspace, s: ColonyState, w: Worker, usage: dict[str, ModelUsage]) -> None:
    from aether.ops.workers.usage import profile_table, record_usage

    kind = (w.runtime or {}).get("kind", RUNTIME)
    record_usage(w, usage, profile_table(ws))
    _flag_if_other(ws, s, w, list(usage), "its transcript shows", kind)


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
