"""``aether spawn``: resolve, verify through the proxy (fail closed), record, hand over.

1. resolve the model (``aether.routing.resolve``: source and reason recorded);
2. unless ``--no-proxy`` / ``proxy.standalone``: prove the proxy serves it
   (``aether.ops.spawn.verify``), falling back along the chain, breaker-aware; any failure
   raises before anything is recorded;
3. record the worker in ONE store transaction (and link a respawn to the worker it replaces);
4. the worker's environment (aether/ops/spawn/worker_env.py) names the model explicitly -
   the tool we replace exported variables in one shell that never reached the worker.

Audit lines go to ``.aether/activity.log`` (decision, each fallback, each proxy failure);
never a key, a token count or a cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aether import activity
from aether.errors import InvalidInput, WorkerNotFound
from aether.ops.spawn.worker_env import worker_env_public
from aether.records import field, record
from aether.redaction import admitted_or_none
from aether.routing.resolve import RouteRequest, check_context_tokens
from aether.state.model import ColonyState, Worker
from aether.state.store import Store
from aether.timeutil import iso, new_id
from aether.workspace import Workspace

if TYPE_CHECKING:
    from aether.routing.fallback import Candidates
    from aether.routing.resolve import RoutingDecision
    from aether.routing.table import RoutingTable

MAX_TASK_CHARS = 20_000
MAX_TOOLS = 64


@record
class SpawnRequest:
    """What to route (the same request ``aether route`` answers) and how to spawn it."""

    route: RouteRequest
    no_proxy: bool = False
    respawn_of: str | None = None  # links the new worker to a lost one (sets replaced_by on it)
    lock_timeout: float | None = None


@record
class SpawnResult:
    worker: Worker  # as recorded in the state
    endpoint: str = ""
    key_env: str = "LITELLM_MASTER_KEY"
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            **self.worker.model_dump(mode="json"),
            "warnings": self.warnings,
            "env": worker_env_public(self.worker, self.endpoint),
        }


def _validate(request: SpawnRequest) -> None:
    if not request.route.caste.strip():
        raise InvalidInput("the caste is empty", fix="pass --caste, e.g. --caste builder")
    if request.route.task is not None and len(request.route.task) > MAX_TASK_CHARS:
        raise InvalidInput(
            f"the task is {len(request.route.task)} characters long (limit {MAX_TASK_CHARS})",
            fix="describe the task briefly; put details in the plan",
        )
    check_context_tokens(request.route.context_tokens)
    if len(request.route.tools) > MAX_TOOLS or any(not t.strip() for t in request.route.tools):
        raise InvalidInput(
            "--tools must be a comma-separated list of up to 64 tool names",
            fix="e.g. --tools read,edit,bash",
        )


def _check_respawn(state: ColonyState, worker_id: str | None) -> None:
    if worker_id is not None and state.worker(worker_id) is None:
        raise WorkerNotFound(
            f"no worker {worker_id!r} to respawn in this colony",
            fix="list workers with `aether workers`",
        )


@record
class VerifiedRoute:
    """A routing decision and what the proxy proved about it: everything a worker record
    needs except the colony state it joins."""

    decision: Any  # aether.routing.resolve.RoutingDecision
    candidates: Any  # aether.routing.fallback.Candidates
    model: str
    source: str
    reason: str
    verified: bool
    verification: dict[str, Any]
    attempts: list[Any]
    warnings: list[str]
    endpoint: str
    key_env: str
    session_id: str | None

    def routing_record(self, tools: tuple[str, ...]) -> dict[str, Any]:
        """The ``routing`` block of the worker record (docs/spawn.md)."""
        d, c = self.decision, self.candidates
        return {
            "decision_model": d.model,
            "decision_source": d.source,
            "decision_reason": d.reason,
            "candidates": list(c.models),
            "chain": list(c.models[1:]),
            "chain_source": c.source,
            "skipped": [{"model": m, "why": w} for m, w in (*d.skipped, *c.skipped)],
            "tools": list(tools),
            "context_tokens": d.context_tokens,
        }


@record
class _Proof:
    """Which model the worker runs on and what proves it (or says nothing does)."""

    model: str
    attempts: list[Any]
    verification: dict[str, Any]
    warnings: list[str]


def route_spawn(ws: Workspace, request: SpawnRequest) -> VerifiedRoute:
    """Resolve the model and, unless the spawn is unverified, prove it through the proxy
    (falling back along the chain); raises before anything is recorded."""
    from aether.routing.fallback import candidates
    from aether.routing.loader import load_profile_file
    from aether.routing.resolve import resolve

    _validate(request)
    table = load_profile_file(ws.profile_file, ws.cache_dir).table
    settings = table.proxy
    decision = resolve(table, request.route)
    cands = candidates(table, decision, context_tokens=decision.context_tokens)
    standalone = request.no_proxy or settings.standalone
    session_id = None if standalone else _session_before_proof(ws, request)
    _log_decision(ws, decision, cands)
    if session_id is None:
        proof = _unverified(ws, decision, cands, no_proxy=request.no_proxy)
    else:
        proof = _proven(ws, table, decision, cands, session_id, request.lock_timeout)
    source, reason = source_and_reason(decision, cands, proof.model, proof.attempts)
    return VerifiedRoute(
        decision=decision,
        candidates=cands,
        model=proof.model,
        source=source,
        reason=reason,
        verified=not standalone,
        verification=proof.verification,
        attempts=proof.attempts,
        warnings=proof.warnings,
        endpoint=settings.endpoint,
        key_env=settings.key_env,
        session_id=session_id,
    )


def _session_before_proof(ws: Workspace, request: SpawnRequest) -> str:
    """The session id, and the respawn target checked, before any network call: read-only,
    no lock held (an unverified spawn needs neither before its one transaction)."""
    state = Store(ws).load().state
    _check_respawn(state, request.respawn_of)
    return state.session.id


def _proven(
    ws: Workspace,
    table: RoutingTable,
    decision: RoutingDecision,
    cands: Candidates,
    session_id: str,
    lock_timeout: float | None,
) -> _Proof:
    """The first candidate the proxy proves it serves (aether/ops/spawn/verify.py)."""
    from aether.ops.spawn.verify import verify_route

    outcome = verify_route(
        ws,
        table,
        table.proxy,
        cands.models,
        session_id=session_id,
        lock_timeout=lock_timeout,
        skipped=cands.skipped,
    )
    warnings = [*decision.warnings, *outcome.warnings]
    return _Proof(outcome.model, outcome.attempts, outcome.verification, warnings)


def _log_decision(ws: Workspace, decision: RoutingDecision, cands: Candidates) -> None:
    activity.log(
        ws,
        "route_decision",
        caste=decision.caste,
        model=decision.model,
        source=decision.source,
        reason=decision.reason,
        candidates=list(cands.models),
        chain=list(cands.models[1:]),
        chain_source=cands.source,
        profile_hash=decision.profile_hash,
    )


def _unverified(
    ws: Workspace, decision: RoutingDecision, cands: Candidates, *, no_proxy: bool
) -> _Proof:
    """``--no-proxy`` or a standalone profile: the first candidate, said loudly to be
    unproven (in the record, a warning and the activity log)."""
    how = "--no-proxy" if no_proxy else "proxy.standalone in the profile"
    model = cands.models[0] if cands.models else decision.model
    verification: dict[str, Any] = {
        "method": "none",
        "reason": how,
        "note": "UNVERIFIED: no proxy check proved this model is served",
    }
    warning = f"UNVERIFIED spawn ({how}): nothing proved the worker runs on {model}"
    activity.log(ws, "unverified_spawn", caste=decision.caste, model=model, reason=how)
    return _Proof(model, [], verification, [warning, *decision.warnings])


def record_worker(
    s: ColonyState,
    route: VerifiedRoute,
    request: SpawnRequest,
    worker_id: str,
    warnings: list[str],
    **extra: Any,
) -> Worker:
    """Add the worker ``route`` describes to the state (inside the caller's transaction)."""
    _check_respawn(s, request.respawn_of)
    if s.status == "paused":
        warnings.append(
            f"the colony is paused (since {s.session.paused_at}): this worker joins the "
            "paused session and is not in HANDOFF.md until the next pause; `aether resume` "
            "will check it"
        )
    caste, model = route.decision.caste, route.model
    worker = Worker(
        id=worker_id,
        caste=caste,
        model=model,
        model_source=route.source,
        model_reason=route.reason,
        profile_hash=route.decision.profile_hash,
        task=admitted_or_none(request.route.task),
        session_id=s.session.id,
        status="spawned",
        spawned_at=iso(),
        verified=route.verified,
        verification=route.verification,
        attempts=route.attempts,
        respawn_of=request.respawn_of,
        routing=route.routing_record(request.route.tools),
        **extra,
    )
    s.workers.append(worker)
    _link_and_announce(s, worker, route, request)
    return worker


def _link_and_announce(
    s: ColonyState, worker: Worker, route: VerifiedRoute, request: SpawnRequest
) -> None:
    """A respawn replaces the worker it names; a task id links the plan's task; the spawn
    (and an open proxy) become events."""
    worker_id, caste, model = worker.id, worker.caste, worker.model
    if request.respawn_of is not None:
        old = s.worker(request.respawn_of)
        assert old is not None
        old.replaced_by = worker_id
    for phase in s.plan.phases:
        for task in phase.tasks:
            if request.route.task is not None and task.id == request.route.task:
                task.worker_ids.append(worker_id)
    tag = "" if route.verified else " UNVERIFIED"
    s.add_event(
        "worker_spawned",
        f"{worker_id} ({caste}) on {model}{tag}",
        worker_id=worker_id,
        caste=caste,
        model=model,
        source=route.source,
        verified=route.verified,
        open_proxy=route.verification.get("open_proxy"),
    )
    if route.verification.get("open_proxy"):
        s.add_event(
            "open_proxy",
            f"the proxy at {route.endpoint} accepts any key",
            endpoint=route.endpoint,
        )


def log_spawned(ws: Workspace, worker: Worker, route: VerifiedRoute) -> None:
    activity.log(
        ws,
        "worker_spawned",
        worker_id=worker.id,
        caste=worker.caste,
        model=worker.model,
        source=worker.model_source,
        verified=worker.verified,
        method=route.verification.get("method"),
        deployment=route.verification.get("deployment"),
        session_id=route.session_id,
        runtime=(worker.runtime or {}).get("kind"),
    )


def spawn_worker(ws: Workspace, request: SpawnRequest) -> SpawnResult:
    route = route_spawn(ws, request)
    warnings = list(route.warnings)
    worker_id = new_id(f"w-{route.decision.caste}")
    with Store(ws, lock_timeout=request.lock_timeout).transaction() as tx:
        worker = record_worker(tx.state, route, request, worker_id, warnings)
    log_spawned(ws, worker, route)
    return SpawnResult(
        worker=worker, endpoint=route.endpoint, key_env=route.key_env, warnings=warnings
    )


def source_and_reason(
    decision: RoutingDecision, cands: Candidates, model: str, attempts: list[Any]
) -> tuple[str, str]:
    """Where the spawned model came from, and why, as recorded on the worker.

    * the decision's own model: the decision's source and reason;
    * ``AETHER_MODEL_n`` replaced the list and its first usable model answered: source
      ``environment`` (the profile's choice was never tried);
    * otherwise a later candidate answered: source ``fallback``, naming what failed first.
    """
    if model == decision.model:
        return decision.source, decision.reason
    by_env = cands.source == "environment"
    failed = [
        f"{a.model}: {a.error or a.outcome}"
        for a in attempts
        if a.outcome != "ok" and a.model != model
    ]
    if by_env and cands.models and model == cands.models[0]:
        return "environment", (
            f"the AETHER_MODEL_n list replaces the profile's choice ({decision.model}: "
            f"{decision.reason}); {model} is its first usable model"
        )
    where = "next in the AETHER_MODEL_n list" if by_env else "next in the profile's chain"
    unavailable = "; ".join(failed) or "no detail"
    return "fallback", f"unavailable first: {unavailable}; {model} is {where}"
