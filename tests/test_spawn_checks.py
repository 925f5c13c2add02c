"""Every way the proxy check can fail stops ``aether spawn`` with its own exit code and records
nothing. The real LiteLLM proxy (tests/proxy) cannot be made to answer 401, 403, a 503
readiness or a malformed model list on demand, so a tiny stdlib HTTP server plays those
answers here; the cases the real proxy can produce are tested against it in tests/proxy."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.helpers import assert_clean_error, clean_env, snapshot, wait_for

KEY = "sk-aether-checks-secret-9911"
Answer = tuple[int, dict[str, object] | str]


class Scripted(ThreadingHTTPServer):
    answers: dict[str, Answer]
    seen: list[tuple[str, str]]
    #: requests held until every party of the barrier has arrived (None: none held)
    hold: Callable[[BaseHTTPRequestHandler], threading.Barrier | None]


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path))
        status, body = self.server.answers.get(self.path, (404, {"error": "no route"}))
        barrier = self.server.hold(self)
        if barrier is not None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                status, body = 503, {"error": "asked one after the other"}
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def fake_proxy() -> Iterator[Scripted]:
    server = Scripted(("127.0.0.1", 0), Handler)
    server.answers, server.seen, server.hold = {}, [], lambda request: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def use(colony: Path, server: Scripted) -> None:
    path = colony / ".aether" / "model-profiles.yaml"
    text = path.read_text()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    assert "http://127.0.0.1:4000" in text
    path.write_text(text.replace("http://127.0.0.1:4000", url))


READY: Answer = (200, {"status": "healthy"})
MODELS: Answer = (200, {"data": [{"id": "claude-sonnet-4-5"}]})


@pytest.mark.parametrize(
    ("answers", "code", "words"),
    [
        ({"/health/readiness": (503, {"status": "unhealthy"})}, 50, "not ready"),
        ({"/health/readiness": (200, {"status": "starting"})}, 50, "not ready"),
        (
            {"/health/readiness": READY, "/v1/models": (401, {"error": {"message": "bad"}})},
            52,
            "key rejected",
        ),
        (
            {
                "/health/readiness": READY,
                "/v1/models": (400, {"error": {"type": "no_db_connection", "message": "x"}}),
            },
            52,
            "key rejected",
        ),
        ({"/health/readiness": READY, "/v1/models": (403, {"error": "no"})}, 52, "forbidden"),
        ({"/health/readiness": READY, "/v1/models": (502, "bad gateway")}, 54, "proxy error"),
        (
            {"/health/readiness": READY, "/v1/models": (200, "<html>login</html>")},
            54,
            "unexpected answer",
        ),
        (
            {"/health/readiness": READY, "/v1/models": (200, {"data": [{"id": "other"}]})},
            53,
            "serves none of",
        ),
    ],
)
def test_each_failed_check_has_its_code_and_records_nothing(
    colony: Path,
    run_aether: RunAether,
    fake_proxy: Scripted,
    answers: dict[str, Answer],
    code: int,
    words: str,
) -> None:
    use(colony, fake_proxy)
    fake_proxy.answers = answers
    before = snapshot(colony / ".aether" / "data")
    r = run_aether("spawn", "--caste", "builder", "--json", env=clean_env(LITELLM_MASTER_KEY=KEY))
    assert_clean_error(r, code)
    assert words in r.stderr and KEY not in r.stderr + r.stdout
    assert json.loads(r.stdout)["error"]["exit_code"] == code
    assert snapshot(colony / ".aether" / "data") == before
    # never the billed /health
    assert all(path != "/health" for _, path in fake_proxy.seen)


def test_a_probe_without_the_deployment_header_is_not_proof(
    colony: Path, run_aether: RunAether, fake_proxy: Scripted
) -> None:
    use(colony, fake_proxy)
    fake_proxy.answers = {
        "/health/readiness": READY,
        "/v1/models": MODELS,
        "/v1/chat/completions": (200, {"choices": []}),
    }
    before = snapshot(colony / ".aether" / "data")
    r = run_aether("spawn", "--caste", "builder", "--json", env=clean_env(LITELLM_MASTER_KEY=KEY))
    # sonnet answered without x-litellm-model-name; the rest of the chain is not served
    assert r.returncode == 55, r.stderr
    rows = json.loads(r.stdout)["error"]["attempts"]
    assert "x-litellm-model-name" in rows[0]["error"]
    data_after = snapshot(colony / ".aether" / "data")
    for name in ("breaker.json", "COLONY_STATE.json.lock.holder"):
        data_after.pop(name, None)
        before.pop(name, None)
    assert data_after == before


def test_a_key_echoed_by_the_proxy_is_scrubbed_whatever_its_variable_is_called(
    colony: Path, run_aether: RunAether, fake_proxy: Scripted
) -> None:
    use(colony, fake_proxy)
    path = colony / ".aether" / "model-profiles.yaml"
    path.write_text(path.read_text().replace("key_env: LITELLM_MASTER_KEY", "key_env: PROXY_CRED"))
    cred = "plain-credential-7Qx9w2"  # neither an sk- shape nor a *KEY/*TOKEN variable name
    echo: dict[str, object] = {"error": {"message": f"invalid credential {cred}"}}
    fake_proxy.answers = {"/health/readiness": READY, "/v1/models": (401, echo)}
    r = run_aether("spawn", "--caste", "builder", "--json", env=clean_env(PROXY_CRED=cred))
    assert_clean_error(r, 52)
    fake_proxy.answers = {
        "/health/readiness": READY,
        "/v1/models": MODELS,
        "/v1/chat/completions": (503, echo),
    }
    r2 = run_aether("spawn", "--caste", "builder", "--json", env=clean_env(PROXY_CRED=cred))
    assert r2.returncode == 55, r2.stderr
    for out in (r, r2):
        assert cred not in out.stdout + out.stderr
    for file in (colony / ".aether").rglob("*"):
        if file.is_file():
            assert cred.encode() not in file.read_bytes(), file


def test_a_probe_that_times_out_names_the_profiles_attempt_budget() -> None:
    """``timeouts.attempt_s: 3`` must read "no answer within 3 s", not the socket's own
    deadline (which waits a little longer, for the proxy's own timeout answer)."""
    import socket

    from aether import proxy, proxy_http

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection in the kernel, never answers
    try:
        endpoint = proxy_http.parse_endpoint(f"http://127.0.0.1:{silent.getsockname()[1]}")
        result = proxy.probe(endpoint, KEY, "claude-sonnet-4-5", timeout_s=0.2)
    finally:
        silent.close()
    assert result.timed_out and not result.ok
    assert result.error == "no answer within 0.2 s (timeouts.attempt_s)"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_aether_proxy_url_takes_precedence_over_the_profile(
    colony: Path, run_aether: RunAether, fake_proxy: Scripted
) -> None:
    """The profile names a port nobody listens on; AETHER_PROXY_URL names the proxy that
    answers, and every proxy check (spawn and doctor) goes there."""
    path = colony / ".aether" / "model-profiles.yaml"
    dead = f"http://127.0.0.1:{_closed_port()}"
    path.write_text(path.read_text().replace("http://127.0.0.1:4000", dead))
    url = f"http://127.0.0.1:{fake_proxy.server_address[1]}"
    fake_proxy.answers = {"/health/readiness": (503, {"status": "unhealthy"})}
    env = clean_env(LITELLM_MASTER_KEY=KEY, AETHER_PROXY_URL=url)
    r = run_aether("spawn", "--caste", "builder", "--json", env=env)
    assert_clean_error(r, 50)
    assert f"the LiteLLM proxy at {url}: not ready" in r.stderr, r.stderr
    assert ("GET", "/health/readiness") in fake_proxy.seen
    fake_proxy.answers = {"/health/readiness": READY}
    doctor = json.loads(run_aether("doctor", "--json", env=env).stdout)
    proxy_check = next(c for c in doctor["checks"] if c["check"] == "proxy")
    assert proxy_check["level"] == "ok", proxy_check
    assert f"{url} (from AETHER_PROXY_URL) ready" in proxy_check["message"]
    shown = json.loads(run_aether("profile", "show", "--json", env=env).stdout)
    assert shown["proxy"] == {"endpoint": url, "from": "AETHER_PROXY_URL"}
    # unset (or empty), the profile's endpoint is in force again
    for unset in (clean_env(), clean_env(AETHER_PROXY_URL="")):
        shown = json.loads(run_aether("profile", "show", "--json", env=unset).stdout)
        assert shown["proxy"] == {"endpoint": dead, "from": "proxy.endpoint in the profile"}


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("ftp://127.0.0.1:4000", "is not an http(s) URL"),
        ("127.0.0.1:4000", "is not an http(s) URL"),
        ("http://127.0.0.1:99999", "has an invalid port"),
        ("http://admin:hunter2-secret@127.0.0.1:4000", "carries a user name or password"),
    ],
)
def test_a_bad_aether_proxy_url_is_refused_where_the_proxy_is_used(
    colony: Path, run_aether: RunAether, value: str, words: str
) -> None:
    env = clean_env(LITELLM_MASTER_KEY=KEY, AETHER_PROXY_URL=value)
    before = snapshot(colony / ".aether" / "data")
    r = run_aether("spawn", "--caste", "builder", env=env)
    assert_clean_error(r, 21)
    assert f"AETHER_PROXY_URL {words}" in r.stderr
    assert "hunter2" not in r.stderr + r.stdout
    assert snapshot(colony / ".aether" / "data") == before
    # commands that never reach the proxy are not stopped by it
    assert run_aether("route", "fix the parser", env=env).returncode == 0
    assert run_aether("pause", "--note", "n", env=env).returncode == 0


@pytest.mark.parametrize(
    ("alone", "asks_the_list_first"),
    [
        ((200, {"id": "claude-sonnet-4-5", "object": "model"}), False),
        ((404, {"detail": "The model does not exist or is not accessible"}), True),
        ((200, {"id": "another-model"}), True),  # an answer about another model proves nothing
        ((400, {"error": {"type": "no_db_connection"}}), True),
    ],
)
def test_a_spawn_asks_for_its_first_model_alone_and_for_the_list_when_that_does_not_prove_it(
    colony: Path,
    run_aether: RunAether,
    fake_proxy: Scripted,
    alone: Answer,
    asks_the_list_first: bool,
) -> None:
    """``GET /v1/models/{name}`` costs the real proxy about half the whole list; only a 200
    naming the model proves it served. Anything else asks for the list, which decides."""
    use(colony, fake_proxy)
    fake_proxy.answers = {
        "/health/readiness": READY,
        "/v1/models/claude-sonnet-4-5": alone,
        "/v1/models": MODELS,
        "/v1/chat/completions": (200, {"choices": []}),
    }
    r = run_aether("spawn", "--caste", "builder", "--json", env=clean_env(LITELLM_MASTER_KEY=KEY))
    assert r.returncode == 55, r.stderr  # the probe has no deployment header: not proof
    paths = [path for _, path in fake_proxy.seen]
    # readiness, the model alone and the open-proxy check are asked at once, in any order
    first = ["/health/readiness", "/v1/models", "/v1/models/claude-sonnet-4-5"]
    assert sorted(paths[:3]) == first, paths
    probe = paths.index("/v1/chat/completions")
    # one list request is the open-proxy check's (a bogus key, once a session)
    assert paths[:probe].count("/v1/models") == 1 + asks_the_list_first, paths


def test_a_sessions_first_checks_are_asked_at_once(
    colony: Path, run_aether: RunAether, fake_proxy: Scripted
) -> None:
    """Readiness, the first model alone and the open-proxy check (a bogus key) are free
    requests a session's first spawn waits for: asked at the same time, each held here until
    all three have arrived. Asked one after the other, the first would wait in vain (the
    barrier breaks after 3 s and it is answered 503: exit 50)."""
    use(colony, fake_proxy)
    fake_proxy.answers = {
        "/health/readiness": READY,
        "/v1/models/claude-sonnet-4-5": (200, {"id": "claude-sonnet-4-5"}),
        "/v1/models": MODELS,  # to the bogus key too: an open proxy, a warning
        "/v1/chat/completions": (200, {"choices": []}),
    }
    together = threading.Barrier(3, timeout=3)

    def hold(request: BaseHTTPRequestHandler) -> threading.Barrier | None:
        bogus = "sk-aether-bogus-" in str(request.headers.get("Authorization"))
        first = request.path in ("/health/readiness", "/v1/models/claude-sonnet-4-5")
        return together if first or (request.path == "/v1/models" and bogus) else None

    fake_proxy.hold = hold
    r = run_aether("spawn", "--caste", "builder", "--json", env=clean_env(LITELLM_MASTER_KEY=KEY))
    # every check passed; the probe has no deployment header, so it is no proof (exit 55)
    assert r.returncode == 55, r.stderr
    assert "x-litellm-model-name" in json.loads(r.stdout)["error"]["attempts"][0]["error"]
    assert not together.broken


def test_a_served_session_start_asks_the_sessions_proxy_checks_ahead_of_its_first_spawn(
    colony: Path, run_aether: RunAether, fake_proxy: Scripted, tmp_path: Path
) -> None:
    """Readiness and the open-proxy check are asked once a colony session; a ``session-start``
    a server runs asks them after its answer (while the main model thinks), so the session's
    first spawn asks only about its model. A ``session-start`` run whole asks nothing: the
    spawn does it all, as before."""
    from tests.test_server_autostart import hook_env, hook_json, launch, server_status

    use(colony, fake_proxy)
    fake_proxy.answers = {
        "/health/readiness": READY,
        "/v1/models/claude-sonnet-4-5": (200, {"id": "claude-sonnet-4-5"}),
        "/v1/models": MODELS,
        "/v1/chat/completions": (200, {"choices": []}),
    }
    assert run_aether("claude", "install", "--no-relay").returncode == 0
    env = hook_env(colony, tmp_path, LITELLM_MASTER_KEY=KEY)
    try:
        first = launch(colony, "session-start", hook_json("SessionStart", source="startup"), env)
        assert first.returncode == 0 and "# aether colony" in first.stdout, first.stderr
        wait_for(lambda: server_status(run_aether, env) is not None, "the server a hook started")
        assert fake_proxy.seen == []  # run whole: nothing asked ahead
        again = launch(colony, "session-start", hook_json("SessionStart", source="resume"), env)
        assert again.returncode == 0 and "# aether colony" in again.stdout, again.stderr
        asked = {"/health/readiness", "/v1/models"}
        wait_for(lambda: {p for _, p in fake_proxy.seen} == asked, "the checks asked ahead")
        fake_proxy.seen.clear()
        spawn = {"subagent_type": "aether-builder", "description": "d", "prompt": "build it"}
        pre = hook_json("PreToolUse", tool_name="Agent", tool_input=spawn, tool_use_id="toolu_1")
        routed = launch(colony, "pre-agent", pre, env)
        assert routed.returncode == 0, routed.stderr
        paths = [p for _, p in fake_proxy.seen]
        # the model alone, then its paid probe (no deployment header here: not proof, so the
        # chain goes on): never readiness or the bogus key again
        assert paths[0] == "/v1/models/claude-sonnet-4-5", paths
        assert "/health/readiness" not in paths and "/v1/chat/completions" in paths, paths
    finally:
        run_aether("serve", "--stop", env=env)
