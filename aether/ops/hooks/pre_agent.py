"""``pre-agent``: route a Claude Code subagent before it starts, or refuse it.

The spawn is routed exactly as ``aether spawn`` does (caste, task keywords, scoring, breaker,
fallback chain, fail-closed proxy verification), redirected to the definition of the chosen model
and recorded as ``spawned`` under the worker that asked for it (a nested spawn's ``PreToolUse``
carries its caller's ``agent_id``; a top-level one hangs under the session's own record); or it
is denied with a reason the main model can act on, recorded as a ``spawn.denied`` event. The
Agent tool's own ``model`` parameter is dropped: it would override the definition (measured),
and the profile, not the main model, picks the model. A subagent type that is not aether's
passes untouched. The records that follow are ``aether.ops.hooks.agent``'.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aether import activity
from aether.errors import AetherError, ProfileProblem, ProxyProblem
from aether.ops.hooks.dispatch import HookOutcome
from aether.ops.hooks.runtime import (
    definition_path,
    definition_text,
    is_aether_type,
    redirected_input,
    routed_text,
    runtime_of,
)
from aether.ops.hooks.subagent_record import runtime_record, sighting_of
from aether.ops.workers.usage import routing_table
from aether.records import replace
from aether.redaction import admitted
from aether.routing.table import RoutingTable
from aether.runtimes import definitions as agents
from aether.runtimes import hookio
from aether.runtimes.hookio import HookInput
from aether.state.model import ColonyState, Worker
from aether.state.store import Store
from aether.timeutil import new_id
from aether.workspace import Workspace

if TYPE_CHECKING:
    from aether.ops.spawn.spawn import SpawnRequest, VerifiedRoute
    from aether.runtimes.adapter import Runtime

#: how much of a subagent's description becomes the worker's task (the routed text is longer)
TASK_CHARS = 300
#: a denial always ends so: the main model must not loop on a spawn that cannot be proven
_NO_RETRY = "Nothing was started. Retrying this spawn now will be refused again."


def _deny(ws: Workspace | None, hook: HookInput, reason: str) -> HookOutcome:
    """Refuse the spawn: the reason goes to the main model as the tool result (Claude Code
    shows it as "PreToolUse:Agent hook error: …"), and the colony records the denial — the
    ``claude -p`` result lists it under ``permission_denials`` only when every call of that
    turn was denied (measured with 2.1.328)."""
    reason = admitted(reason)
    text = f"aether refused this spawn of {hook.subagent_type}: {reason}"
    if ws is not None:
        _record_denial(ws, hook, reason)
    return HookOutcome(hook.event, answer=hookio.deny(text))


def _record_denial(ws: Workspace, hook: HookInput, reason: str) -> None:
    activity.log(ws, "hook_spawn_denied", subagent_type=hook.subagent_type, reason=reason)
    try:
        with Store(ws, lock_timeout=1.0).transaction() as tx:
            tx.state.add_event(
                "spawn.denied",
                f"{hook.subagent_type}: {reason}",
                source="pre-agent",
                subagent_type=hook.subagent_type,
                runtime_session=hook.session_id,
                tool_use_id=hook.tool_use_id or None,
            )
    except AetherError:
        pass  # the denial itself stands; the activity line has it


def denial_advice(exc: AetherError) -> str:
    """Why a spawn cannot be proven, and what the main model can do about it: it cannot pass
    command-line flags, so the advice is what to tell the user."""
    what = ". ".join(p.rstrip(".") for p in (exc.what, exc.meaning) if p)
    if isinstance(exc, ProxyProblem):
        todo = (
            "Tell the user the colony's LiteLLM proxy must be reachable and accept the key "
            f"before aether workers can start ({exc.fix.rstrip('.')})"
            if exc.fix
            else "Tell the user the colony's LiteLLM proxy must be reachable and accept the key"
        )
    elif isinstance(exc, ProfileProblem):
        todo = (
            "Tell the user .aether/model-profiles.yaml needs fixing (`aether profile "
            "validate` shows how)"
        )
    else:
        todo = f"Tell the user: {exc.fix.rstrip('.')}" if exc.fix else "Tell the user"
    return f"{what}. {todo}. {_NO_RETRY}"


def refuse_unroutable(hook: HookInput, why: str) -> HookOutcome | None:
    """The answer to an aether subagent's spawn when aether cannot even look at the colony
    (none found from where the session runs, a state it cannot read): denied, because it
    would run unrouted. None for a subagent type that is not aether's."""
    from aether.runtimes.marker import ownership

    if agents.parse_agent_name(hook.subagent_type) is None:
        return None
    text = definition_text(None, hook.subagent_type, start=hook.cwd, hook=hook)
    if text is None or ownership(text).owner == "user":
        return None
    return _deny(None, hook, f"{why} {_NO_RETRY}")


def pre_agent(ws: Workspace, hook: HookInput, *, lock_timeout: float | None) -> HookOutcome:
    from aether.ops.spawn.spawn import MAX_TASK_CHARS, SpawnRequest, route_spawn
    from aether.routing.resolve import RouteRequest
    from aether.routing.table import normalise_caste

    requested = hook.subagent_type
    if not is_aether_type(ws, requested, hook):
        return HookOutcome(hook.event)
    rt = runtime_of(hook)
    tool_input = dict(hook.tool_input or {})
    parsed = agents.parse_agent_name(requested)
    assert parsed is not None
    if parsed[0] is None:  # a carrier, asked for by name: its caste is unknown
        return _deny(
            ws,
            hook,
            f"{requested} is internal to aether's routing: ask for the caste's worker "
            "(aether-<caste>, e.g. aether-builder) and aether picks the model its task calls "
            "for.",
        )
    try:
        table = routing_table(ws)
        caste = normalise_caste(parsed[0])
        if caste not in table.castes:  # a lenient profile would route it to its default
            return _deny(ws, hook, f"the profile has no {caste} caste. {_install_advice(rt)}")
        task = routed_text(hook)[:MAX_TASK_CHARS] or None
        request = SpawnRequest(RouteRequest(caste, task), lock_timeout=lock_timeout)
        route = route_spawn(ws, request)
    except AetherError as exc:
        # routing failed — the profile, the proxy, the breaker, the state it reads: the spawn
        # cannot be proven, so it does not start
        return _deny(ws, hook, denial_advice(exc))
    off_route = rt.off_proxy(table)
    if off_route is not None:  # proven, but the subagent's requests would go elsewhere
        return _deny(ws, hook, f"{off_route} {_NO_RETRY}")
    target, problem = _checked_definition(ws, table, route.decision.caste, route.model, rt)
    if problem is not None:
        return _deny(ws, hook, f"{problem}. {_install_advice(rt)}")
    outcome = HookOutcome(hook.event)

    def record() -> list[str]:
        worker = _record_routed(ws, hook, route, request, target, tool_input, lock_timeout)
        if isinstance(worker, str):
            return [worker]
        outcome.worker_id = worker.id
        return []

    # the answer does not wait for the record: a record that cannot be written leaves the
    # spawn routed all the same (subagent-start records it from its definition then)
    outcome.later = record
    outcome.answer = _redirect(hook, target, route)
    return outcome


def _redirect(hook: HookInput, target: str, route: VerifiedRoute) -> dict[str, Any]:
    """The answer that lets the spawn run as ``target``, the definition on the routed model:
    the caste's own agent, or a carrier that runs any caste on its model (then the caste's
    role comes first in the task). The spawn tool's own ``model`` is dropped."""
    requested, tool_input = hook.subagent_type, hook.tool_input or {}
    brief = None
    if target != agents.agent_name(route.decision.caste):
        brief = agents.caste_brief(route.decision.caste, route.model)
    updated = redirected_input(hook, target, brief)
    proof = "verified through the proxy" if route.verified else "UNVERIFIED (no proxy check)"
    reason = (
        f"aether routed {requested} to {target}: {route.decision.caste} on {route.model} "
        f"({route.source}: {route.reason}); {proof}"
    )
    if "model" in tool_input:
        reason += (
            f"; the spawn's own model {tool_input['model']!r} was dropped: the profile decides"
        )
    return hookio.allow(reason, updated)


def _install_advice(rt: Runtime) -> str:
    return f"Tell the user to run `{rt.install_command}`. {_NO_RETRY}"


def _checked_definition(
    ws: Workspace, table: RoutingTable, caste: str, model: str, rt: Runtime
) -> tuple[str, str | None]:
    """(the definition that runs ``caste`` on ``model``, why it cannot be used — missing, or
    naming another model, so the spawn would not run where aether routed it — or None)."""
    if model not in agents.reachable_models(table, caste):
        return "", f"no definition runs {caste} on {model}"
    name = agents.definition_for(table, caste, model)
    text = definition_text(ws, name, rt=rt)
    if text is None:
        return name, f"{definition_path(rt, name)} is missing"
    on = rt.definition_model(text)
    if on != model:
        return name, (
            f"{definition_path(rt, name)} runs on {on!r}, not {model!r} as the profile routes it"
        )
    return name, None


def _task_label(tool_input: dict[str, Any]) -> str | None:
    for key in ("description", "prompt", "message"):
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            return admitted(" ".join(value.split()))[:TASK_CHARS]
    return None


def _record_routed(
    ws: Workspace,
    hook: HookInput,
    route: VerifiedRoute,
    request: SpawnRequest,
    target: str,
    tool_input: dict[str, Any],
    lock_timeout: float | None,
) -> Worker | str:
    """Record the routed worker under its caller; or why it could not be written (the spawn
    goes ahead all the same: ``subagent-start`` records it from its definition then)."""
    from aether.ops.session.agent_sessions import observe
    from aether.ops.spawn.spawn import log_spawned, record_worker

    request = replace(request, route=replace(request.route, task=_task_label(tool_input)))
    warnings: list[str] = []
    try:
        with Store(ws, lock_timeout=lock_timeout).transaction() as tx:
            session, _dead = observe(ws, tx.state, sighting_of(hook))
            worker = record_worker(
                tx.state,
                route,
                request,
                new_id(f"w-{route.decision.caste}"),
                warnings,
                runtime=runtime_record(hook, target, hook.subagent_type),
                parent_id=_parent_id(tx.state, hook, session),
            )
            _take_up_rerun(tx.state, worker, routed_text(hook))
        log_spawned(ws, worker, route)
    except AetherError as exc:
        return f"routed, but not (fully) recorded: {exc.one_line()}"
    return worker


def _parent_id(state: ColonyState, hook: HookInput, session: Worker | None) -> str | None:
    """Who asked for this subagent: a nested spawn's ``PreToolUse`` carries the *caller's*
    ``agent_id``; a top-level spawn was asked for by the session's main agent (or, inside a
    headless worker aether started, by that worker)."""
    from aether.ops.hooks.subagent_record import linked_worker
    from aether.ops.spawn.worker_env import WORKER_ID_VARIABLE

    if hook.agent_id:
        caller = linked_worker(state, hook.session_id, hook.agent_id, hook.runtime)
        if caller is not None:
            return caller.id
    if session is not None:
        return session.id
    outer = os.environ.get(WORKER_ID_VARIABLE)
    return outer if outer and state.worker(outer) is not None else None


def _take_up_rerun(state: ColonyState, worker: Worker, text: str) -> None:
    """Link ``worker`` to a lost worker handed back to be re-run, when the spawn names it (its
    id) or repeats its task."""
    flat = " ".join(text.split()).lower()
    for old in state.workers:
        if not old.rerun_requested_at or old.replaced_by or old.caste != worker.caste:
            continue
        task = " ".join((old.task or "").split()).lower()
        if old.id.lower() in flat or (task and task in flat):
            old.replaced_by = worker.id
            worker.respawn_of = old.id
            state.add_event(
                "worker.rerun",
                f"{worker.id} re-runs {old.id} ({old.caste})",
                worker_id=worker.id,
                replaces=old.id,
            )
            return
