"""``pre-agent``: route a Claude Code subagent before it starts, or refuse it.

The spawn is routed exactly as ``aether spawn`` does (caste, task keywords, scoring, breaker,
fallback chain, fail-closed proxy verification), redirected to the definition of the chosen model
and recorded as ``spawned``; or it is denied with the reason, and nothing is recorded. The Agent
tool's own ``model`` parameter is dropped: it would override the definition (measured), and the
profile, not the main model, picks the model. A subagent type that is not aether's passes
untouched. The records that follow are ``aether.ops.agent_hooks``'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aether import activity
from aether.errors import AetherError
from aether.ops.agent_hooks import definition_text, is_aether_type, runtime_record
from aether.ops.hooks import HookOutcome
from aether.ops.worker_usage import routing_table
from aether.records import replace
from aether.routing.table import RoutingTable
from aether.runtimes.claude import agents, hookio
from aether.runtimes.claude.hookio import HookInput
from aether.state.model import Worker
from aether.state.store import Store
from aether.timeutil import new_id
from aether.workspace import Workspace

if TYPE_CHECKING:
    from aether.ops.spawn import SpawnRequest, VerifiedRoute

#: how much of a subagent's description becomes the worker's task (the routed text is longer)
TASK_CHARS = 300


def _routed_text(tool_input: dict[str, Any]) -> str:
    parts = [tool_input.get("description"), tool_input.get("prompt")]
    return "\n\n".join(p for p in parts if isinstance(p, str) and p.strip())


def _deny(event: str, reason: str) -> HookOutcome:
    return HookOutcome(event, answer=hookio.deny(f"aether refused this spawn: {reason}"))


def pre_agent(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    from aether.ops.spawn import MAX_TASK_CHARS, SpawnRequest, route_spawn
    from aether.routing.resolve import RouteRequest
    from aether.routing.table import normalise_caste

    requested = hook.subagent_type
    if not is_aether_type(ws, requested):
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
        task = _routed_text(tool_input)[:MAX_TASK_CHARS] or None
        request = SpawnRequest(RouteRequest(caste, task), lock_timeout=lock_timeout)
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
    text = definition_text(ws, name)
    if text is None:
        return name, f".claude/agents/{name}.md is missing; run `aether claude install`"
    on = agents.front_matter_model(text)
    if on != model:
        return name, (
            f".claude/agents/{name}.md runs on {on!r}, not {model!r} as the profile routes it; "
            "run `aether claude install`"
        )
    return name, None


def _task_label(tool_input: dict[str, Any]) -> str | None:
    for key in ("description", "prompt"):
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:TASK_CHARS]
    return None


def _record_routed(
    ws: Workspace,
    hook: HookInput,
    route: VerifiedRoute,
    request: SpawnRequest,
    target: str,
    tool_input: dict[str, Any],
    lock_timeout: float | None,
    outcome: HookOutcome,
) -> Worker | None:
    """Record the routed worker; the spawn goes ahead even when the record cannot be written
    (``subagent-start`` records it from its definition then)."""
    from aether.ops.spawn import log_spawned, record_worker

    request = replace(request, route=replace(request.route, task=_task_label(tool_input)))
    warnings: list[str] = []
    try:
        with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
            worker = record_worker(
                tx.state,
                route,
                request,
                new_id(f"w-{route.decision.caste}"),
                warnings,
                runtime=runtime_record(hook, target, hook.subagent_type),
            )
        log_spawned(ws, worker, route)
    except AetherError as exc:
        # the routing answer must still reach Claude Code: without it the spawn would run on
        # the caste's definition, unrouted
        outcome.notes.append(f"routed, but not (fully) recorded: {exc.one_line()}")
        return None
    return worker
