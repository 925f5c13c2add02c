"""The persistent circuit breaker, with an injected clock (no sleeping)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from aether.routing.breaker import Breaker
from aether.workspace import Workspace


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path)
    w.data_dir.mkdir(parents=True)
    return w


def make(ws: Workspace, clock: Clock, **kw: float) -> Breaker:
    return Breaker(
        ws,
        failures=int(kw.get("failures", 3)),
        cooldown_s=kw.get("cooldown", 60),
        clock=clock,
        lock_timeout=2,
    )


def test_three_consecutive_failures_open_it_for_the_cooldown(ws: Workspace) -> None:
    clock = Clock()
    b = make(ws, clock)
    assert b.gate("m").allowed
    assert b.record_failure("m", "HTTP 500") is False
    assert b.record_failure("m", "HTTP 500") is False
    assert b.gate("m").state == "closed"
    assert b.record_failure("m", "HTTP 500") is True
    gate = b.gate("m")
    assert (gate.allowed, gate.state) == (False, "open")
    clock.now += 59.9
    assert not b.gate("m").allowed
    # a fresh Breaker object (a new process) sees the same state: it is on disk
    assert not make(ws, clock).gate("m").allowed
    assert json.loads(ws.breaker_file.read_text())["models"]["m"]["consecutive_failures"] == 3


def test_a_success_resets_the_consecutive_count(ws: Workspace) -> None:
    clock = Clock()
    b = make(ws, clock)
    b.record_failure("m", "x")
    b.record_failure("m", "x")
    b.record_success("m")
    b.record_failure("m", "x")
    b.record_failure("m", "x")
    assert b.gate("m").allowed  # 2 consecutive, not 4 in a window


def test_other_models_succeeding_do_not_close_it(ws: Workspace) -> None:
    clock = Clock()
    b = make(ws, clock)
    for _ in range(3):
        b.record_failure("m", "x")
    b.record_success("other")
    clock.now += 30
    assert not b.gate("m").allowed
    assert b.gate("other").allowed


def test_half_open_allows_exactly_one_probe(ws: Workspace) -> None:
    clock = Clock()
    b = make(ws, clock)
    for _ in range(3):
        b.record_failure("m", "x")
    clock.now += 60
    first = b.gate("m")
    assert (first.allowed, first.state, first.probe) == (True, "half-open", True)
    second = make(ws, clock).gate("m")  # another process meanwhile
    assert not second.allowed and "another process" in second.reason
    # the probe fails: open again for a full cooldown
    assert b.record_failure("m", "timeout") is True
    clock.now += 59
    assert not b.gate("m").allowed
    clock.now += 1
    assert b.gate("m").probe
    b.record_success("m")
    assert b.gate("m").state == "closed"
    # closed again: it takes three new failures to open it
    b.record_failure("m", "x")
    assert b.gate("m").allowed


def test_an_abandoned_probe_claim_expires(ws: Workspace) -> None:
    clock = Clock()
    b = make(ws, clock)
    for _ in range(3):
        b.record_failure("m", "x")
    clock.now += 61
    assert b.gate("m").probe
    clock.now += 200  # the claimer died mid-probe
    assert make(ws, clock).gate("m").probe


def test_release_probe_gives_it_back(ws: Workspace) -> None:
    clock = Clock()
    b = make(ws, clock)
    for _ in range(3):
        b.record_failure("m", "x")
    clock.now += 61
    assert b.gate("m").probe
    b.release_probe("m")
    assert b.gate("m").probe


def test_configurable_threshold_and_cooldown(ws: Workspace) -> None:
    clock = Clock()
    b = make(ws, clock, failures=1, cooldown=5)
    assert b.record_failure("m", "x") is True
    clock.now += 5
    assert b.gate("m").state == "half-open"


def test_status_and_reset(ws: Workspace) -> None:
    clock = Clock()
    b = make(ws, clock)
    for _ in range(3):
        b.record_failure("m", "HTTP 503 sk-secretvalue123")
    rows = b.status()
    assert rows[0]["model"] == "m" and rows[0]["state"] == "open"
    assert rows[0]["retry_in_s"] == 60.0
    assert "secretvalue" not in ws.breaker_file.read_text()
    assert b.reset("m") is True
    assert b.reset("m") is False
    assert b.gate("m").state == "closed"
    assert b.status() == []


def test_a_corrupt_file_is_moved_aside_not_overwritten(ws: Workspace) -> None:
    ws.breaker_file.write_text("{not json")
    clock = Clock()
    b = make(ws, clock)
    assert b.gate("m").allowed
    assert b.quarantined is not None
    assert Path(b.quarantined).read_text() == "{not json"
    b.record_failure("m", "x")
    assert json.loads(ws.breaker_file.read_text())["format"] == 1


def test_no_lock_is_held_across_a_network_call(
    colony: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify_route against a stand-in transport that fails if the colony lock is held while
    it "talks to the network"; covers the breaker's closed, open, half-open (claim under the
    lock) and re-open paths in one walk."""
    from filelock import FileLock, Timeout

    from aether import proxy, proxy_http
    from aether.ops.spawn.verify import verify_route
    from aether.records import replace
    from aether.routing.loader import load_profile_file
    from aether.routing.table import ProxyConnection
    from aether.state.store import Store

    ws = Workspace(colony)
    table = load_profile_file(ws.profile_file, ws.cache_dir).table
    models = sorted(table.models)[:3]
    good = "sk-good-key-1234567890"
    calls: list[tuple[str, str | None]] = []
    probing = threading.Lock()

    def fake(
        endpoint: proxy_http.Endpoint,
        method: str,
        path: str,
        *,
        key: str | None = None,
        body: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
    ) -> proxy_http.HttpResponse:
        # the first requests of a verification run at once, each in its own thread: one
        # probe at a time, or two probes would find each other's hold
        with probing:
            probe = FileLock(str(ws.lock_file))
            try:
                probe.acquire(timeout=0)
            except Timeout:
                pytest.fail(f"the colony lock is held during {method} {path}")
            probe.release()
        model = str(body["model"]) if body else None
        calls.append((path, model))
        if path == "/health/readiness":
            return proxy_http.HttpResponse(200, {}, b'{"status": "healthy"}', 1.0)
        if path == "/v1/models":
            if key != good:
                return proxy_http.HttpResponse(401, {}, b'{"error": {"message": "bad key"}}', 1.0)
            data = {"data": [{"id": m} for m in models]}
            return proxy_http.HttpResponse(200, {}, json.dumps(data).encode(), 1.0)
        if model == models[2]:
            return proxy_http.HttpResponse(
                200, {"x-litellm-model-name": f"openai/{model}"}, b"{}", 1.0
            )
        return proxy_http.HttpResponse(503, {}, b'{"error": {"message": "down"}}', 1.0)

    monkeypatch.setattr(proxy, "request", fake)
    monkeypatch.setenv("LITELLM_MASTER_KEY", good)
    settings = replace(ProxyConnection(), breaker_failures=1, breaker_cooldown_s=0, probe="always")
    session = Store(ws).load().state.session.id
    for _ in range(2):  # 1st: closed -> opened; 2nd: half-open probe claimed, failed, re-opened
        out = verify_route(ws, table, settings, tuple(models), session_id=session, lock_timeout=2)
        assert out.model == models[2]
        assert [a.status for a in out.attempts] == [503, 503, 200]
    probed = [m for path, m in calls if path == "/v1/chat/completions"]
    assert probed == [*models, *models]
    state = json.loads(ws.breaker_file.read_text())["models"]
    assert state[models[0]]["consecutive_failures"] == 2
    assert "probe_claimed_at" not in state[models[0]]
    # the stand-in does catch a held lock
    with Store(ws, lock_timeout=2).lock(), pytest.raises(pytest.fail.Exception):
        verify_route(ws, table, settings, tuple(models), session_id=session, lock_timeout=2)


def test_the_default_clock_is_aethers_clock(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an injected clock the breaker reads the same clock as every timestamp aether
    writes, so ``AETHER_NOW`` moves it too: the process-level tests (a real proxy) step past a
    cooldown without sleeping through it."""
    monkeypatch.setenv("AETHER_NOW", "2031-05-01T10:00:00Z")
    b = Breaker(ws, failures=1, cooldown_s=30, lock_timeout=2)
    assert b.record_failure("m", "boom")
    gate = b.gate("m")
    assert not gate.allowed and gate.retry_at == 1935396030.0  # 10:00:30 that day
    monkeypatch.setenv("AETHER_NOW", "2031-05-01T10:00:31Z")
    gate = b.gate("m")
    assert gate.allowed and gate.state == "half-open" and gate.probe
