"""The Claude Code hooks around a subagent: route it, record it, check what it ran on.

Order of events for one spawn (measured, Claude Code 2.1.328): ``PreToolUse`` (``tool_use_id``)
→ ``SubagentStart`` (``agent_id``) → ``PostToolUse`` (both ids, ``resolvedModel``; a subagent
started in the background reports ``async_launched`` at once) → ``SubagentStop`` (``agent_id``,
its transcript). So:

* ``pre_agent`` routes the spawn exactly as ``aether spawn`` does (caste, task keywords,
  scoring, breaker, fallback chain, fail-closed proxy verification), redirects it to the
  definition of the chosen model and records the worker as ``spawned``; or denies it with the
  reason, and nothing is recorded. The Agent tool's own ``model`` parameter is dropped: it would
  override the definition (measured), and the profile, not the main model, picks the model. A
  subagent type that is not aether's passes untouched.
* ``subagent_start`` links the record to Claude Code's ``agent_id`` (the oldest unlinked worker
  of that definition in that session; a worker nobody routed is recorded from its definition).
* ``agent_result`` knows both ids, corrects the link if two parallel spawns of one definition
  were taken in the other order, and records ``resolvedModel`` — flagged when it differs.
* ``subagent_stop`` completes the worker and reads its transcript: tokens per model, and any
  model other than the assigned one is a mismatch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aether import activity
from aether.errors import AetherError, ProfileProblem
from aether.ops.hooks import HookOutcome
from aether.ops.worker_usage import routing_table
from aether.records import replace
from aether.routing.table import RoutingTable
from aether.runtimes.claude import agents, hookio
from aether.runtimes.claude.hookio import HookInput
from aether.runtimes.marker import ownership
from aether.state.model import FINISHED_WORKER_STATUSES, ColonyState, Worker
from aether.state.store import Store
from aether.timeutil import age_seconds, iso, new_id
from aether.workspace import Workspace

RUNTIME = "claude-code"
#: how much of a subagent's description becomes the worker's task (the routed text is longer)
TASK_CHARS = 300


def _definition_text(ws: Workspace, name: str) -> str | None:
    try:
        return (ws.project / ".claude" / "agents" / f"{name}.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _is_aether_type(ws: Workspace, name: str) -> bool:
    """Is ``name`` one of aether's subagent types: in aether's naming scheme, and defined by a
    file aether wrote (or, with no file, naming a caste of the profile)?"""
    if agents.parse_agent_name(name) is None:
        return False
    text = _definition_text(ws, name)
    if text is not None:
        return ownership(text).owner != "user"
    try:
        parsed = agents.parse_agent_name(name)
        return parsed is not None and parsed[0] in routing_table(ws).castes
    except ProfileProblem:
        return False


# --- pre-agent ---------------------------------------------------------------------------------


def _routed_text(tool_input: dict[str, Any]) -> str:
    parts = [tool_input.get("description"), tool_input.get("prompt")]
    return "\n\n".join(p for p in parts if isinstance(p, str) and p.strip())


def _deny(event: str, reason: str) -> HookOutcome:
    return HookOutcome(event, answer=hookio.deny(f"aether refused this spawn: {reason}"))


def pre_agent(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    from aether.ops.spawn import MAX_TASK_CHARS, SpawnRequest, route_spawn
    from aether.routing.table import normalise_caste

    requested = hook.subagent_type
    if not _is_aether_type(ws, requested):
        return HookOutcome(hook.event)
    tool_input = dict(hook.tool_input or {})
    parsed = agents.parse_agent_name(requested)
    assert parsed is not None
    try:
        table = routing_table(ws)
        caste = normalise_caste(parsed[0])
        if caste not in table.castes:  # a lenient profile would route it to its default
            missing = f"the profile has no {caste} caste; run `aether claude install`"
            return _deny(hook.event, missing)
        request = SpawnRequest(
            caste=caste,
            task=_routed_text(tool_input)[:MAX_TASK_CHARS] or None,
            lock_timeout=lock_timeout,
        )
        route = route_spawn(ws, request)
    except AetherError as exc:
        # routing failed — the profile, the proxy, the breaker, the state it reads: the spawn
        # cannot be proven, so it does not start
        activity.log(ws, "hook_spawn_denied", subagent_type=requested, error=exc.one_line())
        return _deny(hook.event, exc.one_line())
    target, problem = _checked_definition(ws, table, route.decision.caste, route.model)
    if problem is not None:
        return _deny(hook.event, problem)
    outcome = HookOutcome(hook.event)
    worker = _record_routed(ws, hook, route, request, target, tool_input, lock_timeout, outcome)
    updated = {k: v for k, v in tool_input.items() if k != "model"}
    updated["subagent_type"] = target
    proof = "verified through the proxy" if route.verified else "UNVERIFIED (no proxy check)"
    reason = (
        f"aether routed {requested} to {target}: {route.decision.caste} on {route.model} "
        f"({route.source}: {route.reason}); {proof}"
    )
    if "model" in tool_input:
        reason += (
            f"; the Agent tool's model {tool_input['model']!r} was dropped: the profile decides"
        )
    outcome.answer = hookio.allow(reason, updated)
    outcome.worker_id = worker.id if worker else None
    return outcome


def _checked_definition(
    ws: Workspace, table: RoutingTable, caste: str, model: str
) -> tuple[str, str | None]:
    """(the definition that runs ``caste`` on ``model``, why it cannot be used — missing, or
    naming another model, so the spawn would not run where aether routed it — or None)."""
    if model not in agents.reachable_models(table, caste):
        return "", f"no definition runs {caste} on {model}; run `aether claude install`"
    name = agents.variant_for(table, caste, model)
    text = _definition_text(ws, name)
    if text is None:
        return name, f".claude/agents/{name}.md is missing; run `aether claude install`"
    on = agents.front_matter_model(text)
    if on != model:
        return name, (
            f".claude/agents/{name}.md runs on {on!r}, not {model!r} as the profile routes it; "
            "run `aether claude install`"
        )
    return name, None


def _runtime(hook: HookInput, target: str, requested: str) -> dict[str, Any]:
    return {
        "kind": RUNTIME,
        "session_id": hook.session_id,
        "tool_use_id": hook.tool_use_id or None,
        "agent_id": hook.agent_id or None,
        "agent_type": target,
        "requested_type": requested,
    }


def _task_label(tool_input: dict[str, Any]) -> str | None:
    for key in ("description", "prompt"):
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:TASK_CHARS]
    return None


def _record_routed(
    ws: Workspace,
    hook: HookInput,
    route: Any,
    request: Any,
    target: str,
    tool_input: dict[str, Any],
    lock_timeout: float | None,
    outcome: HookOutcome,
) -> Worker | None:
    """Record the routed worker; the spawn goes ahead even when the record cannot be written
    (``subagent-start`` records it from its definition then)."""
    from aether.ops.spawn import log_spawned, record_worker

    request = replace(request, task=_task_label(tool_input))
    warnings: list[str] = []
    try:
        with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
            worker = record_worker(
                tx.state,
                route,
                request,
                new_id(f"w-{route.decision.caste}"),
                warnings,
                runtime=_runtime(hook, target, hook.subagent_type),
            )
        log_spawned(ws, worker, route)
    except AetherError as exc:
        # the routing answer must still reach Claude Code: without it the spawn would run on
        # the caste's definition, unrouted
        outcome.notes.append(f"routed, but not (fully) recorded: {exc.one_line()}")
        return None
    return worker


# --- finding a subagent's record ---------------------------------------------------------------


def _claude_workers(state: ColonyState, session_id: str) -> list[Worker]:
    return [
        w
        for w in state.workers
        if (w.runtime or {}).get("kind") == RUNTIME
        and (w.runtime or {}).get("session_id") == session_id
    ]


def _by(state: ColonyState, session_id: str, key: str, value: str) -> Worker | None:
    if not value:
        return None
    for w in _claude_workers(state, session_id):
        if (w.runtime or {}).get(key) == value:
            return w
    return None


def _unlinked(state: ColonyState, hook: HookInput) -> Worker | None:
    """The oldest routed worker of this definition that no subagent has claimed yet."""
    for w in _claude_workers(state, hook.session_id):
        rt = w.runtime or {}
        if rt.get("agent_type") == hook.agent_type and not rt.get("agent_id"):
            if w.status == "spawned":
                return w
    return None


def _unrouted_worker(ws: Workspace, state: ColonyState, hook: HookInput) -> Worker | None:
    """A record for an aether subagent no ``pre-agent`` routed (hook missing or failed)."""
    parsed = agents.parse_agent_name(hook.agent_type)
    if parsed is None or not _is_aether_type(ws, hook.agent_type):
        return None
    caste = parsed[0]
    text = _definition_text(ws, hook.agent_type) or ""
    model = agents.front_matter_model(text) or "unknown"
    profile_hash = ownership(text).profile_hash or ""
    worker = Worker(
        id=new_id(f"w-{caste}"),
        caste=caste,
        model=model,
        model_source="definition",
        model_reason=f"Claude Code started {hook.agent_type} without aether routing it (the "
        "pre-agent hook did not run or could not record it); its definition's model",
        profile_hash=profile_hash,
        session_id=state.session.id,
        spawned_at=iso(),
        runtime=_runtime(hook, hook.agent_type, hook.agent_type),
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


def _start(state: ColonyState, worker: Worker, agent_id: str) -> None:
    worker.runtime = {**(worker.runtime or {}), "agent_id": agent_id}
    if worker.status == "spawned":
        stamp = iso()
        worker.status = "running"
        worker.started_at = worker.started_at or stamp
        worker.heartbeat_at = stamp
        state.add_event("worker_started", f"{worker.id} started", worker_id=worker.id)


# --- subagent-start ----------------------------------------------------------------------------


def subagent_start(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    outcome = HookOutcome(hook.event)
    if agents.parse_agent_name(hook.agent_type) is None or not hook.agent_id:
        return outcome
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        s = tx.state
        worker = (
            _by(s, hook.session_id, "agent_id", hook.agent_id)
            or _unlinked(s, hook)
            or _unrouted_worker(ws, s, hook)
        )
        if worker is None:
            tx.abort = True
            return outcome
        _start(s, worker, hook.agent_id)
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
    other = _by(state, (worker.runtime or {}).get("session_id") or "", "agent_id", agent_id)
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
    ws: Workspace, state: ColonyState, worker: Worker, reported: list[str], how: str
) -> str | None:
    """Flag every model in ``reported`` that is not the worker's assigned one; the message."""
    from aether.ops.worker_usage import canonical, profile_table

    table = profile_table(ws)
    others = sorted({r for r in reported if canonical(table, r) != worker.model})
    if not others:
        return None
    worker.model_mismatch = True
    state.add_event(
        "model_mismatch",
        f"{worker.id}: {how} {', '.join(others)}, assigned {worker.model}",
        worker_id=worker.id,
        assigned=worker.model,
        reported=others,
        source=RUNTIME,
    )
    activity.log(ws, "model_mismatch", worker_id=worker.id, assigned=worker.model, reported=others)
    return (
        f"aether: worker {worker.id} ({worker.caste}) was assigned {worker.model} but {how} "
        f"{', '.join(others)}: routing did not hold. Check CLAUDE_CODE_SUBAGENT_MODEL(_FORCE), "
        "availableModels and the Agent tool's model parameter (`aether doctor`)."
    )


# --- subagent-stop -----------------------------------------------------------------------------


def subagent_stop(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    from aether.runtimes.claude.usage import TranscriptUsage, read_transcript

    outcome = HookOutcome(hook.event)
    if agents.parse_agent_name(hook.agent_type) is None or not hook.agent_id:
        return outcome
    usage: TranscriptUsage | None = None
    if hook.agent_transcript_path:
        try:
            usage = read_transcript(Path(hook.agent_transcript_path))
        except OSError as exc:
            outcome.notes.append(f"transcript not read ({exc.strerror or exc})")
    with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
        s = tx.state
        worker = (
            _by(s, hook.session_id, "agent_id", hook.agent_id)
            or _unlinked(s, hook)
            or _unrouted_worker(ws, s, hook)
        )
        if worker is None:
            tx.abort = True
            return outcome
        _start(s, worker, hook.agent_id)
        if usage is not None and usage.by_model:
            _record_usage(ws, s, worker, usage)
        _complete(s, worker)
    outcome.worker_id = worker.id
    if worker.model_mismatch and usage is not None:
        outcome.notes.append(
            f"worker {worker.id} ran on {', '.join(sorted(usage.by_model))}, "
            f"assigned {worker.model}"
        )
    return outcome


def _record_usage(ws: Workspace, state: ColonyState, worker: Worker, usage: Any) -> None:
    from aether.ops.worker_usage import profile_table, record_usage

    record_usage(worker, usage.by_model, profile_table(ws))
    _flag_if_other(ws, state, worker, list(usage.by_model), "its transcript shows")


def _complete(state: ColonyState, worker: Worker) -> None:
    if worker.status in FINISHED_WORKER_STATUSES:
        return
    stamp = iso()
    worker.status = "completed"
    worker.finished_at = stamp
    elapsed = age_seconds(worker.started_at)
    worker.duration_s = round(elapsed, 3) if elapsed is not None else None
    state.add_event("worker_completed", f"{worker.id} completed", worker_id=worker.id)
