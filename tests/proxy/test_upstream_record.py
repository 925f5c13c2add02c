"""The scripted upstream's record belongs to the test that made the requests.

The upstream is shared by every test of a session. A test that kills its client while a model's
answer is delayed leaves that request in flight (the proxy still forwards it); the record of
whatever test runs when the delay ends must not gain it. It did: an extra ``cx-builder`` request
turned up in a later Codex test on a loaded CI machine, 20 s after the killed-session test.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from tests.proxy.responses import ResponsesScript
from tests.proxy.upstream import Script, Upstream

# the proxy directory's tests are one selection (tests/test_test_selection.py): this one starts
# no proxy, but it tests the upstream those tests share
pytestmark = pytest.mark.proxy


@pytest.fixture
def own_upstream() -> Iterator[Upstream]:
    server = Upstream().start()
    try:
        yield server
    finally:
        server.stop()


def _post_in_background(url: str, body: dict[str, object]) -> threading.Thread:
    def post() -> None:
        request = urllib.request.Request(
            url, json.dumps(body).encode(), {"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
        except (urllib.error.URLError, ConnectionError, OSError):
            pass  # dropped unanswered: the connection closes

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread


def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_delayed_responses_request_stays_in_the_record_of_the_script_it_arrived_under(
    own_upstream: Upstream,
) -> None:
    own_upstream.responses.reset(ResponsesScript(delays={"cx-builder": 20.0}))
    body = {"model": "cx-builder", "stream": True, "input": "write the parser"}
    pending = _post_in_background(own_upstream.url + "/v1/responses", body)
    _until(lambda: own_upstream.responses.models_seen() == ["cx-builder"])  # on arrival
    started = time.monotonic()
    own_upstream.responses.reset(ResponsesScript())  # the next test begins
    pending.join(timeout=10)
    assert not pending.is_alive() and time.monotonic() - started < 5  # not the 20 s delay
    assert own_upstream.responses.models_seen() == []


def test_a_delayed_messages_request_stays_in_the_record_of_the_script_it_arrived_under(
    own_upstream: Upstream,
) -> None:
    own_upstream.reset(Script(delays={"cc-builder": 20.0}))
    body = {"model": "cc-builder", "stream": True, "messages": [{"role": "user", "content": "go"}]}
    pending = _post_in_background(own_upstream.url + "/v1/messages", body)
    _until(lambda: own_upstream.models_seen() == ["cc-builder"])
    started = time.monotonic()
    own_upstream.reset(Script())
    pending.join(timeout=10)
    assert not pending.is_alive() and time.monotonic() - started < 5
    assert own_upstream.models_seen() == []
