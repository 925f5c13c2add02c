"""LiteLLM proxy checks: readiness, authenticated model list, open-proxy detection, probes.

An unhealthy proxy is data, not an exception: every check returns a ``ProxyCheck`` or
``ProbeResult`` naming the case; ``aether.ops.spawn.spawn`` decides whether that stops the spawn
(``error_for`` maps a failed check to the error a user acts on).

Facts this follows (measured on the real LiteLLM 1.106.2 proxy; tests/proxy/ runs these checks
against one):

* ``/health/liveliness`` and ``/health/readiness`` answer 200 to any key or none: they say
  nothing about auth. The check that fails closed is an *authenticated* ``GET /v1/models``;
  anything but 200 fails it. A wrong key gets 401, or 400 ``no_db_connection`` when the proxy
  has no database; no key at all gets a 500 from 1.106.2.
* ``/health`` makes a billed call to every deployment: never called here.
* The deployment that really answered is named by the ``x-litellm-model-name`` header.
* ``x-litellm-timeout`` makes the proxy give up upstream too; the socket timeout alone might
  leave the upstream call running.

The HTTP requests themselves are aether/proxy_http.py.
"""

from __future__ import annotations

from typing import Any

from aether.errors import (
    AetherError,
    ModelNotServed,
    ProxyAuthFailed,
    ProxyError,
    ProxyKeyMalformed,
    ProxyKeyMissing,
    ProxyUnreachable,
)
from aether.proxy_http import Endpoint, HttpResponse, TransportError, request
from aether.records import field, record

#: cases a check can end in; ``ok`` is the only success
CASES = (
    "ok",
    "connection-refused",
    "timeout",
    "not-ready",
    "key-missing",
    "key-rejected",
    "forbidden",
    "model-not-served",
    "proxy-error",
    "bad-response",
)

#: the prompt a probe sends: one token, so a probe costs as little as a request can
PROBE_BODY = {"messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}

#: extra seconds the socket waits beyond ``x-litellm-timeout`` so that the proxy's own 408
#: (which names the timeout) usually arrives before our socket gives up
SOCKET_GRACE_S = 1.0


@record
class ProxyCheck:
    """The outcome of one proxy check; ``case`` is one of ``CASES``."""

    case: str
    endpoint: str
    step: str  # "readiness", "models", "open-proxy"
    status: int | None = None
    detail: str = ""
    served: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.case == "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "endpoint": self.endpoint,
            "step": self.step,
            "status": self.status,
            "detail": self.detail,
            "served": self.served,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def check_readiness(endpoint: Endpoint, *, timeout: float) -> ProxyCheck:
    """``GET /health/readiness`` (unauthenticated; never ``/health``, which bills)."""
    try:
        resp = request(endpoint, "GET", "/health/readiness", timeout=timeout)
    except TransportError as exc:
        return ProxyCheck(exc.case, endpoint.url, "readiness", detail=exc.detail)
    if resp.status != 200:
        return ProxyCheck(
            "not-ready",
            endpoint.url,
            "readiness",
            resp.status,
            resp.error_text(),
            elapsed_ms=resp.elapsed_ms,
        )
    data = resp.json()
    status = data.get("status") if isinstance(data, dict) else None
    if status not in (None, "healthy", "connected"):
        return ProxyCheck(
            "not-ready",
            endpoint.url,
            "readiness",
            resp.status,
            f"status {status!r}",
            elapsed_ms=resp.elapsed_ms,
        )
    return ProxyCheck("ok", endpoint.url, "readiness", 200, elapsed_ms=resp.elapsed_ms)


def _classify_auth_failure(resp: HttpResponse) -> str:
    if resp.status == 401:
        return "key-rejected"
    if resp.status == 400 and (
        "no_db_connection" in resp.error_type() or "No connected db" in resp.error_text()
    ):
        return "key-rejected"
    if resp.status == 403:
        return "forbidden"
    if resp.status >= 500:
        return "proxy-error"
    return "bad-response"


def list_models(endpoint: Endpoint, key: str, *, timeout: float) -> ProxyCheck:
    """Authenticated ``GET /v1/models``: 200 and a list of model ids, or a named failure."""
    try:
        resp = request(endpoint, "GET", "/v1/models", key=key, timeout=timeout)
    except TransportError as exc:
        return ProxyCheck(exc.case, endpoint.url, "models", detail=exc.detail)
    if resp.status != 200:
        return ProxyCheck(
            _classify_auth_failure(resp),
            endpoint.url,
            "models",
            resp.status,
            resp.error_text(),
            elapsed_ms=resp.elapsed_ms,
        )
    data = resp.json()
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return ProxyCheck(
            "bad-response",
            endpoint.url,
            "models",
            200,
            "the answer to /v1/models is not a model list",
            elapsed_ms=resp.elapsed_ms,
        )
    served = sorted({str(i["id"]) for i in items if isinstance(i, dict) and "id" in i})
    return ProxyCheck("ok", endpoint.url, "models", 200, served=served, elapsed_ms=resp.elapsed_ms)


#: model names the proxy is asked about one at a time; any other name is looked up in the list
_ASKABLE_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-")


def model_listed(endpoint: Endpoint, key: str, name: str, *, timeout: float) -> ProxyCheck | None:
    """Authenticated ``GET /v1/models/{name}``: ~6 ms with LiteLLM 1.106.2 against ~11 for the
    whole list. "ok" (``served == [name]``) when the proxy serves it; a transport failure when
    no answer came; None for anything else — not found, refused, another shape, a name not
    asked for by itself — where the caller asks for the whole list, which says why."""
    if not name or not set(name) <= _ASKABLE_NAME:
        return None
    try:
        resp = request(endpoint, "GET", f"/v1/models/{name}", key=key, timeout=timeout)
    except TransportError as exc:
        return ProxyCheck(exc.case, endpoint.url, "models", detail=exc.detail)
    data = resp.json() if resp.status == 200 else None
    if not isinstance(data, dict) or data.get("id") != name:
        return None
    return ProxyCheck("ok", endpoint.url, "models", 200, served=[name], elapsed_ms=resp.elapsed_ms)


def bogus_key() -> str:
    import secrets

    return f"sk-aether-bogus-{secrets.token_hex(8)}"


def check_open_proxy(endpoint: Endpoint, *, timeout: float) -> bool | None:
    """Send a deliberately bogus key: True when the proxy accepts it (an open proxy).

    None when the answer says nothing either way (no HTTP answer).
    """
    try:
        resp = request(endpoint, "GET", "/v1/models", key=bogus_key(), timeout=timeout)
    except TransportError:
        return None
    return resp.status == 200


@record
class ProbeResult:
    """One 1-token completion against a model."""

    model: str
    ok: bool
    status: int | None = None
    deployment: str | None = None
    error: str | None = None
    timed_out: bool = False
    #: connection error, timeout, 408, 429, 5xx: counts against the breaker
    availability_failure: bool = False
    #: ``429 all_deployments_in_cooldown``: unavailable now, but not a new failure
    in_cooldown: bool = False
    elapsed_ms: float = 0.0
    cost_header_present: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "ok": self.ok,
            "status": self.status,
            "deployment": self.deployment,
            "error": self.error,
            "timed_out": self.timed_out,
            "availability_failure": self.availability_failure,
            "in_cooldown": self.in_cooldown,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def is_availability_status(status: int) -> bool:
    """Statuses that say the model is unavailable (not that the request was wrong)."""
    return status in (408, 429) or status >= 500


def probe(endpoint: Endpoint, key: str, model: str, *, timeout_s: float) -> ProbeResult:
    """A ``max_tokens: 1`` completion; reads ``x-litellm-model-name`` to name the deployment."""
    body = {"model": model, **PROBE_BODY}
    headers = {"x-litellm-timeout": f"{timeout_s:g}"}
    try:
        resp = request(
            endpoint,
            "POST",
            "/v1/chat/completions",
            key=key,
            body=body,
            headers=headers,
            timeout=timeout_s + SOCKET_GRACE_S,
        )
    except TransportError as exc:
        # the socket's deadline includes the grace; the budget the user set is attempt_s
        timed_out = exc.case == "timeout"
        error = f"no answer within {timeout_s:g} s (timeouts.attempt_s)" if timed_out else ""
        return ProbeResult(
            model, False, error=error or exc.detail, timed_out=timed_out, availability_failure=True
        )
    if resp.status == 200:
        deployment = resp.headers.get("x-litellm-model-name")
        if not deployment:
            return ProbeResult(
                model,
                False,
                200,
                error="the proxy answered without an x-litellm-model-name header, so the "
                "deployment that answered is unknown",
                elapsed_ms=resp.elapsed_ms,
            )
        return ProbeResult(
            model,
            True,
            200,
            deployment=deployment,
            elapsed_ms=resp.elapsed_ms,
            cost_header_present="x-litellm-response-cost" in resp.headers,
        )
    error = resp.error_text()
    in_cooldown = resp.status == 429 and (
        resp.error_type() == "all_deployments_in_cooldown"
        or "all deployments for selected model are in cooldown" in error.lower()
    )
    timed_out = resp.status == 408
    return ProbeResult(
        model,
        False,
        resp.status,
        error=error,
        timed_out=timed_out,
        availability_failure=is_availability_status(resp.status) and not in_cooldown,
        in_cooldown=in_cooldown,
        elapsed_ms=resp.elapsed_ms,
    )


_CASE_TEXT = {
    "connection-refused": "connection refused",
    "timeout": "timed out",
    "not-ready": "not ready",
    "key-rejected": "key rejected",
    "forbidden": "forbidden",
    "proxy-error": "proxy error",
    "bad-response": "unexpected answer",
    "model-not-served": "model not served",
}


def error_for(check: ProxyCheck, *, key_env: str) -> AetherError:
    """The error a failed check stops a spawn with (nothing is recorded)."""
    where = f"the LiteLLM proxy at {check.endpoint}"
    case = _CASE_TEXT.get(check.case, check.case)
    detail = f" ({check.detail})" if check.detail and check.detail != case else ""
    status = f" HTTP {check.status}" if check.status is not None else ""
    what = f"{where}: {case}{status}{detail}"
    if check.case in ("connection-refused", "timeout"):
        return ProxyUnreachable(
            what,
            meaning="no worker was recorded",
            fix="start the proxy (litellm --config FILE) or point aether at it (proxy.endpoint in "
            "the profile, or AETHER_PROXY_URL); "
            "use --no-proxy only to run unverified on purpose",
        )
    if check.case == "not-ready":
        return ProxyUnreachable(
            what,
            meaning="no worker was recorded",
            fix="wait for the proxy to finish starting, then retry",
        )
    if check.case == "key-rejected":
        return ProxyAuthFailed(
            what,
            meaning=f"the key in ${key_env} is not accepted; no worker was recorded",
            fix=f"export {key_env} with the proxy's master key or a virtual key",
        )
    if check.case == "forbidden":
        return ProxyAuthFailed(
            what,
            meaning=f"the key in ${key_env} may not list models; no worker was recorded",
            fix="use a key allowed to call this model",
        )
    if check.case == "model-not-served":
        return ModelNotServed(
            what,
            meaning="no worker was recorded",
            fix="add the model to the proxy config or change the profile",
        )
    return ProxyError(
        what,
        meaning="no worker was recorded",
        fix="check the proxy's own log; retry when it answers normally",
    )


def check_key(key_env: str, key: str) -> None:
    """Refuse a key no HTTP header can carry, naming what is wrong — never the key itself."""
    problem = key_problem(key)
    if problem:
        raise ProxyKeyMalformed(
            f"the proxy key in ${key_env} {problem}",
            meaning="it cannot be sent as a bearer token (a copy-paste from a file often adds "
            "a line break); nothing was recorded",
            fix=f"set {key_env} again without it, e.g. export {key_env}=\"$(tr -d '\\r\\n' < "
            'KEYFILE)"',
        )


def key_problem(key: str) -> str | None:
    """What makes ``key`` unusable as a bearer token, in words; None when nothing does."""
    if key != key.rstrip("\r\n"):
        return "ends with a line break"
    if key != key.strip():
        return "starts or ends with white space"
    for position, ch in enumerate(key, start=1):
        if ch == " ":
            return f"holds a space at position {position}"
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return f"holds a control character at position {position}"
        if not ch.isascii():
            return f"holds a character that is not ASCII at position {position}"
    return None


def key_missing(key_env: str) -> ProxyKeyMissing:
    return ProxyKeyMissing(
        f"the proxy key variable ${key_env} is not set (or empty)",
        meaning="aether cannot prove the model is served without an authenticated request; "
        "no worker was recorded",
        fix=f"export {key_env}=<your proxy key>, or pass --no-proxy to spawn unverified",
    )
