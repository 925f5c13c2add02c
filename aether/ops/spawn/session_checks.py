"""The proxy's free answers a spawn's proof starts from, asked at the same time: readiness and
the open-proxy check (once a colony session), and whether it serves the first candidate (every
spawn) — and the session's once-only checks asked ahead, by ``session-start``, before its first
spawn waits for them. aether/ops/spawn/verify.py reads the answers in order and fails closed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aether import activity, proxy, proxy_http
from aether.ops.spawn.proxy_proofs import SessionCache
from aether.records import record
from aether.routing.table import ProxyConnection
from aether.workspace import Workspace


@record
class FirstAnswers:
    """The proxy's answers a verification starts from (None: not asked)."""

    #: ``GET /health/readiness``: asked once a colony session
    ready: proxy.ProxyCheck | None
    #: whether the proxy serves the first candidate by that name (``proxy.model_listed``)
    alone: proxy.ProxyCheck | None
    #: whether it took a deliberately bogus key: asked once a session, when the profile wants
    open_proxy: bool | None
    asked_open: bool


def ask_at_once(
    settings: ProxyConnection,
    ep: proxy_http.Endpoint,
    key: str,
    cache: SessionCache,
    first: str,
) -> FirstAnswers:
    """Readiness, the first candidate and the open-proxy check, asked at the same time.

    Each request waits on the proxy, not on the others: asked one after the other they were
    13 ms of the 17 ms a served ``pre-agent`` took inside a live Claude Code session; at once,
    about the slowest of them. Each request keeps its own bounds (``settings.connect_s``), so
    the wait is never longer than in series; the answers are read in the series' order
    (readiness first), so a failure is reported as it always was. All three are free GETs.
    """
    timeout = settings.connect_s
    ask_ready = not cache.valid
    ask_open = settings.open_proxy_check and cache.open_proxy is None
    ready, alone, open_proxy = _at_once(
        (lambda: proxy.check_readiness(ep, timeout=timeout)) if ask_ready else None,
        lambda: proxy.model_listed(ep, key, first, timeout=timeout),
        (lambda: proxy.check_open_proxy(ep, timeout=timeout)) if ask_open else None,
    )
    return FirstAnswers(ready, alone, open_proxy, ask_open)


def check_proxy_ahead(ws: Workspace, session_id: str) -> None:
    """The checks a colony session asks the proxy once — readiness and the open-proxy check —
    asked before its first spawn needs them, so that spawn only asks whether its model is
    served: ``session-start`` leaves this for after its answer when a server runs the hook
    (aether.ops.hooks.session), while the main model thinks. Kept as a spawn keeps them
    (``SessionCache``): only when the proxy answered ready. Nothing is raised and nothing is
    logged as a failure: whatever is missing or fails here the spawn asks again, and reports.
    """
    from aether.errors import AetherError
    from aether.routing.loader import load_profile_file

    try:
        settings = load_profile_file(ws.profile_file, ws.cache_dir).table.proxy
        ep = proxy_http.parse_endpoint(settings.endpoint, settings.endpoint_from)
    except AetherError:
        return
    key = os.environ.get(settings.key_env, "")
    if settings.standalone or not key.strip() or proxy.key_problem(key):
        return
    cache = SessionCache.load(ws, session_id, ep.url, key)
    if cache.valid:
        return
    ask_open = settings.open_proxy_check
    ready, open_proxy = _at_once(
        lambda: proxy.check_readiness(ep, timeout=settings.connect_s),
        (lambda: proxy.check_open_proxy(ep, timeout=settings.connect_s)) if ask_open else None,
    )
    if not ready.ok:
        return
    if ask_open:
        _keep_open_proxy_answer(ws, ep, cache, open_proxy)
    cache.save()


def _at_once(*calls: Callable[[], Any] | None) -> list[Any]:
    """Each call's result, in order (None for a call that is None): the first call runs in this
    thread, each other one in a thread of its own; an exception one raised is raised here.
    Every thread has ended on return (a finished command ends its process at once only when no
    other thread runs: aether.cli.main.end_process)."""
    import threading

    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            results[index] = call()
        except BaseException as exc:  # handed to the caller's thread below
            errors[index] = exc

    asked = [(index, call) for index, call in enumerate(calls) if call is not None]
    threads = [
        threading.Thread(target=run, args=(index, call), daemon=True) for index, call in asked[1:]
    ]
    for thread in threads:
        thread.start()
    if asked:
        run(*asked[0])  # a spawn later in a session asks one thing: no thread at all
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results


def open_proxy_warnings(
    ws: Workspace, ep: proxy_http.Endpoint, cache: SessionCache, answers: FirstAnswers
) -> list[str]:
    if answers.asked_open:
        _keep_open_proxy_answer(ws, ep, cache, answers.open_proxy)
    if not cache.open_proxy:
        return []
    return [
        f"the proxy at {ep.url} accepted a deliberately bogus key: it is OPEN to anyone "
        "who can reach it (set a master_key in its config)"
    ]


def _keep_open_proxy_answer(
    ws: Workspace, ep: proxy_http.Endpoint, cache: SessionCache, open_proxy: bool | None
) -> None:
    """The open-proxy check's answer kept for the session; an open proxy is logged once."""
    cache.open_proxy = open_proxy
    if open_proxy:
        activity.log(ws, "open_proxy", endpoint=ep.url)
