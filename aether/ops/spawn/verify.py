"""Proving a spawn's model through the proxy, failing closed (docs/spawn.md).

``verify_route`` walks the candidate models (``aether.routing.fallback``) and returns the first
one the proxy provably serves, with one ``RoutingAttempt`` per model tried. It raises - and the
caller records nothing - when the proxy itself fails a check (unreachable, not ready, key
missing or rejected, 5xx) or when every candidate fails (``AllModelsFailed``; ``ModelNotServed``
when the only reason was that no candidate is served).

Every spawn asks the proxy, authenticated, whether it serves the first candidate (``GET
/v1/models/{name}``), and for the whole list (``GET /v1/models``) when it is not found that way
or another candidate is needed.
Readiness and the open-proxy check are done once per colony session, asked at the same time as
the first candidate (aether/ops/spawn/session_checks.py), and a model is probed
(one paid 1-token request) only when neither this session nor a proof younger than the
profile's ``proxy.probe_ttl_s`` has proven it (aether/ops/spawn/proxy_proofs.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from aether import activity, proxy, proxy_http
from aether.errors import AllModelsFailed, ModelNotServed
from aether.ops.spawn.proxy_proofs import ProbeProofs, SessionCache
from aether.ops.spawn.session_checks import FirstAnswers, ask_at_once, open_proxy_warnings
from aether.records import field, record
from aether.redaction import redact
from aether.routing.breaker import Breaker
from aether.routing.table import ProxyConnection, RoutingTable
from aether.state.model import RoutingAttempt
from aether.timeutil import iso
from aether.workspace import Workspace


@record
class RouteOutcome:
    model: str
    attempts: list[RoutingAttempt]
    verification: dict[str, Any]
    warnings: list[str]
    open_proxy: bool | None


def _names(table: RoutingTable, model: str) -> list[str]:
    info = table.models.get(model)
    return [model, *(info.aliases if info else ())]


def deployment_matches(deployment: str, names: list[str]) -> bool:
    """Does the ``x-litellm-model-name`` deployment look like this model (prefix-tolerant)?"""
    tail = deployment.rsplit("/", 1)[-1].lower()
    return any(tail == n.lower() or tail.startswith(n.lower()) for n in names)


def _fail(ws: Workspace, check: proxy.ProxyCheck, settings: ProxyConnection, key: str) -> Exception:
    # the key's value out, whatever its variable is called (``key_env`` may not look secret)
    check.detail = redact(check.detail, also=(key,))
    activity.log(ws, "proxy_failure", **check.to_json())
    return proxy.error_for(check, key_env=settings.key_env)


@record
class _Trial:
    """What every model's attempt in one verification shares."""

    ws: Workspace
    ep: proxy_http.Endpoint
    key: str
    table: RoutingTable
    settings: ProxyConnection
    cache: SessionCache
    proofs: ProbeProofs
    breaker: Breaker
    served: _ServedModels


@record
class _Attempt:
    record: RoutingAttempt
    verification: dict[str, Any] = field(default_factory=dict)
    warning: str | None = None


def verify_route(
    ws: Workspace,
    table: RoutingTable,
    settings: ProxyConnection,
    candidates: tuple[str, ...],
    *,
    session_id: str,
    lock_timeout: float | None,
    skipped: tuple[tuple[str, str], ...] = (),
) -> RouteOutcome:
    key = _proxy_key(ws, settings)
    ep = proxy_http.parse_endpoint(settings.endpoint, settings.endpoint_from)
    cache = SessionCache.load(ws, session_id, ep.url, key)
    first = _names(table, candidates[0])[0] if candidates else ""
    answers = ask_at_once(settings, ep, key, cache, first)
    served = _served_models(ws, settings, ep, key, answers)
    warnings = open_proxy_warnings(ws, ep, cache, answers)
    breaker = Breaker(
        ws,
        failures=settings.breaker_failures,
        cooldown_s=settings.breaker_cooldown_s,
        lock_timeout=lock_timeout,
    )
    proofs = ProbeProofs.load(ws, ep.url, key)
    trial = _Trial(ws, ep, key, table, settings, cache, proofs, breaker, served)
    attempts: list[RoutingAttempt] = [
        RoutingAttempt(model=m, outcome="skipped", error=why, at=iso()) for m, why in skipped
    ]
    for index, model in enumerate(candidates):
        attempt = _try_model(trial, model)
        attempts.append(attempt.record)
        if attempt.record.outcome == "ok":
            return _verified(trial, model, attempt, attempts, warnings)
        nxt = candidates[index + 1] if index + 1 < len(candidates) else None
        _log_failure(ws, attempt.record, nxt)
    cache.save()
    raise _every_model_failed(ep, candidates, attempts)


def _log_failure(ws: Workspace, failed: RoutingAttempt, nxt: str | None) -> None:
    """A candidate that failed: a fallback to ``nxt``, or (the last one) a proxy failure."""
    activity.log(
        ws,
        "fallback" if nxt else "proxy_failure",
        model=failed.model,
        outcome=failed.outcome,
        status=failed.status,
        error=failed.error,
        timed_out=failed.timed_out,
        next=nxt,
    )


def _proxy_key(ws: Workspace, settings: ProxyConnection) -> str:
    """The key from the environment variable the profile names; missing or malformed: refused."""
    key = os.environ.get(settings.key_env, "")
    if not key.strip():
        activity.log(ws, "proxy_failure", case="key-missing", key_env=settings.key_env)
        raise proxy.key_missing(settings.key_env)
    if proxy.key_problem(key):
        activity.log(ws, "proxy_failure", case="key-malformed", key_env=settings.key_env)
        proxy.check_key(settings.key_env, key)
    return key


@record
class _ServedModels:
    """The names the proxy serves, as far as one verification needs them: the first
    candidate's as the proxy answered for it alone, then the whole list once a name is not
    among them (every failure of the proxy raised as by ``_served_models``)."""

    known: set[str]
    list_all: Callable[[], set[str]]
    listed: bool = False

    def first(self, names: list[str]) -> str | None:
        found = next((n for n in names if n in self.known), None)
        if found is None and not self.listed:
            self.known |= self.list_all()
            self.listed = True
            found = next((n for n in names if n in self.known), None)
        return found


def _served_models(
    ws: Workspace,
    settings: ProxyConnection,
    ep: proxy_http.Endpoint,
    key: str,
    answers: FirstAnswers,
) -> _ServedModels:
    """Readiness (once a session), then (every time) the authenticated answer whether the
    proxy serves the first candidate — or, when it does not say so, the authenticated model
    list."""
    if answers.ready is not None and not answers.ready.ok:
        raise _fail(ws, answers.ready, settings, key)

    def list_all() -> set[str]:
        listed = proxy.list_models(ep, key, timeout=settings.connect_s)
        if not listed.ok:
            raise _fail(ws, listed, settings, key)
        return set(listed.served)

    alone = answers.alone
    if alone is not None and not alone.ok:
        raise _fail(ws, alone, settings, key)
    if alone is None:
        return _ServedModels(list_all(), list_all, listed=True)
    return _ServedModels(set(alone.served), list_all)


def _verified(
    trial: _Trial,
    model: str,
    attempt: _Attempt,
    attempts: list[RoutingAttempt],
    warnings: list[str],
) -> RouteOutcome:
    cache = trial.cache
    cache.verified_at = time.time()
    cache.save()
    if trial.breaker.quarantined:
        activity.log(trial.ws, "breaker_file_corrupt", moved_to=trial.breaker.quarantined)
    verification = {
        **attempt.verification,
        "endpoint": trial.ep.url,
        "key_env": trial.settings.key_env,
        "open_proxy": cache.open_proxy,
        "session_cached": cache.valid,
        "checked_at": iso(),
    }
    if attempt.warning:
        warnings.append(attempt.warning)
    return RouteOutcome(model, attempts, verification, warnings, cache.open_proxy)


def _every_model_failed(
    ep: proxy_http.Endpoint, candidates: tuple[str, ...], attempts: list[RoutingAttempt]
) -> Exception:
    tried = [a for a in attempts if a.outcome != "skipped" or a.model in candidates]
    if tried and all((a.error or "").startswith("not served") for a in tried):
        return ModelNotServed(
            "the proxy at {} serves none of: {}".format(ep.url, ", ".join(candidates)),
            meaning="no worker was recorded",
            fix="add the models to the proxy config (model_name) or change the profile",
        )
    rows: list[dict[str, object]] = [
        {
            "model": a.model,
            "outcome": a.outcome,
            "status": a.status,
            "error": a.error,
            "timed_out": a.timed_out,
        }
        for a in attempts
    ]
    return AllModelsFailed(
        f"every model in the fallback chain failed ({len(attempts)} tried)",
        attempts=rows,
        meaning="no worker was recorded",
        fix="see the per-model table (--json: error.attempts); `aether breaker status` "
        "shows open breakers",
    )


def _try_model(trial: _Trial, model: str) -> _Attempt:
    """One candidate: the breaker's gate, served by the proxy, then (when due) a probe."""
    gate = trial.breaker.gate(model)
    if not gate.allowed:
        return _Attempt(RoutingAttempt(model=model, outcome="skipped", error=gate.reason, at=iso()))
    names = _names(trial.table, model)
    served_as = trial.served.first(names)
    if served_as is None:
        if gate.probe:
            trial.breaker.release_probe(model)
        error = "not served by the proxy (absent from /v1/models)"
        return _Attempt(RoutingAttempt(model=model, outcome="failed", at=iso(), error=error))
    probe = trial.settings.probe
    if probe == "first-use" and model not in trial.cache.probed and not gate.probe:
        proof = trial.proofs.fresh(model, trial.settings.probe_ttl_s)
        if proof is not None:  # proven by an earlier session's probe, younger than the TTL
            trial.cache.probed[model] = {**proof, "proof_reused": True}
            trial.cache.proofs_reused += 1
    need_probe = (
        probe == "always"
        or (probe == "first-use" and model not in trial.cache.probed)
        or gate.probe  # a half-open breaker allows exactly one real request
    )
    if not need_probe:
        earlier = trial.cache.probed.get(model)
        return _Attempt(
            RoutingAttempt(model=model, outcome="ok", status=200, at=iso()),
            {"method": "models-list", "served_as": served_as, "probed_earlier": earlier},
        )
    result = proxy.probe(trial.ep, trial.key, served_as, timeout_s=trial.settings.attempt_s)
    trial.cache.probes += 1
    activity.log(
        trial.ws, "proxy_probe", model=model, ok=result.ok, session_id=trial.cache.session_id
    )
    if result.ok:
        return _probe_passed(trial, model, served_as, names, result)
    return _probe_failed(trial, model, result, half_open=gate.probe)


def _probe_passed(
    trial: _Trial, model: str, served_as: str, names: list[str], result: proxy.ProbeResult
) -> _Attempt:
    trial.breaker.record_success(model)
    assert result.deployment is not None
    matches = deployment_matches(result.deployment, names)
    trial.cache.probed[model] = {"deployment": result.deployment, "at": iso()}
    if matches and trial.settings.probe_ttl_s > 0:
        trial.proofs.record(model, result.deployment)
    warning = (
        None
        if matches
        else (
            f"the proxy answered {model} from deployment {result.deployment!r}, whose name "
            "does not look like that model: check the proxy's model_list"
        )
    )
    return _Attempt(
        RoutingAttempt(model=model, outcome="ok", status=200, at=iso()),
        {
            "method": "probe",
            "served_as": served_as,
            "deployment": result.deployment,
            "deployment_matches": matches,
            "probe_ms": round(result.elapsed_ms, 1),
        },
        warning,
    )


def _probe_failed(
    trial: _Trial, model: str, result: proxy.ProbeResult, *, half_open: bool
) -> _Attempt:
    """A failed probe: an availability failure counts toward the breaker; anything else
    releases a half-open breaker's probe for the next caller."""
    error = redact(result.error or "failed", also=(trial.key,))
    if result.in_cooldown:
        error = f"unavailable now (proxy cooldown): {error}"
    if result.availability_failure:
        if trial.breaker.record_failure(model, error):
            activity.log(
                trial.ws,
                "breaker_opened",
                model=model,
                cooldown_s=trial.settings.breaker_cooldown_s,
                error=error,
            )
    elif half_open:
        trial.breaker.release_probe(model)
    return _Attempt(
        RoutingAttempt(
            model=model,
            outcome="failed",
            status=result.status,
            error=error,
            timed_out=result.timed_out,
            at=iso(),
        )
    )
