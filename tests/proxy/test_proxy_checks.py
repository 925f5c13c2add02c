"""``aether.proxy`` against the real LiteLLM proxy: every case is named, none raises."""

from __future__ import annotations

import pytest

from aether import proxy, proxy_http
from aether.errors import ProxyAuthFailed, ProxyError, ProxyUnreachable
from tests.proxy.conftest import CASTE_MODELS, MASTER_KEY, RunningProxy, free_port

#: every test here starts (or uses) the real LiteLLM proxy: `-m "not proxy"` leaves them out
pytestmark = pytest.mark.proxy


def test_readiness_and_models_with_the_right_key(litellm_proxy: RunningProxy) -> None:
    ep = proxy_http.parse_endpoint(litellm_proxy.url)
    assert proxy.check_readiness(ep, timeout=5).ok
    check = proxy.list_models(ep, MASTER_KEY, timeout=5)
    assert check.ok, check
    assert set(CASTE_MODELS.values()) <= set(check.served)
    assert "ghost" not in check.served


def test_wrong_key_is_rejected_not_healthy(litellm_proxy: RunningProxy) -> None:
    ep = proxy_http.parse_endpoint(litellm_proxy.url)
    # readiness passes with any key: it says nothing about auth (the anchor's pitfall)
    assert proxy.check_readiness(ep, timeout=5).ok
    check = proxy.list_models(ep, "sk-wrong-key-123456", timeout=5)
    assert check.case == "key-rejected" and check.status == 400
    assert isinstance(proxy.error_for(check, key_env="K"), ProxyAuthFailed)
    assert proxy.check_open_proxy(ep, timeout=5) is False


def test_connection_refused_is_data() -> None:
    ep = proxy_http.parse_endpoint(f"http://127.0.0.1:{free_port()}")
    check = proxy.list_models(ep, MASTER_KEY, timeout=2)
    assert check.case == "connection-refused"
    assert isinstance(proxy.error_for(check, key_env="K"), ProxyUnreachable)
    assert proxy.check_readiness(ep, timeout=2).case == "connection-refused"
    result = proxy.probe(ep, MASTER_KEY, "mock-scout", timeout_s=1)
    assert not result.ok and result.availability_failure and not result.timed_out


def test_probe_names_the_deployment(litellm_proxy: RunningProxy) -> None:
    ep = proxy_http.parse_endpoint(litellm_proxy.url)
    result = proxy.probe(ep, MASTER_KEY, "mock-builder", timeout_s=5)
    assert result.ok and result.deployment == "openai/mock-builder"


def test_probe_failures_are_classified(litellm_proxy: RunningProxy) -> None:
    ep = proxy_http.parse_endpoint(litellm_proxy.url)
    broken = proxy.probe(ep, MASTER_KEY, "broken", timeout_s=5)
    assert (broken.status, broken.availability_failure) == (500, True)
    limited = proxy.probe(ep, MASTER_KEY, "ratelimited", timeout_s=5)
    assert (limited.status, limited.availability_failure) == (429, True)
    ctx = proxy.probe(ep, MASTER_KEY, "ctxerr", timeout_s=5)
    assert (ctx.status, ctx.availability_failure) == (400, False)
    slow = proxy.probe(ep, MASTER_KEY, "slow", timeout_s=0.5)
    assert (slow.status, slow.timed_out, slow.availability_failure) == (408, True, True)
    hang = proxy.probe(ep, MASTER_KEY, "hang", timeout_s=0.3)
    assert hang.status is None and hang.timed_out and hang.availability_failure
    unknown = proxy.probe(ep, MASTER_KEY, "ghost", timeout_s=5)
    assert unknown.status == 400 and not unknown.availability_failure


def test_all_deployments_in_cooldown_is_not_a_new_failure(litellm_proxy: RunningProxy) -> None:
    ep = proxy_http.parse_endpoint(litellm_proxy.url)
    results = [proxy.probe(ep, MASTER_KEY, "cooling", timeout_s=5) for _ in range(4)]
    assert all(r.status == 429 for r in results)
    assert any(r.in_cooldown for r in results), [r.error for r in results]
    cooled = [r for r in results if r.in_cooldown]
    assert all(not r.availability_failure for r in cooled)


def test_a_5xx_from_the_model_list_is_a_proxy_error() -> None:
    check = proxy.ProxyCheck("proxy-error", "http://x", "models", 500, "boom")
    assert isinstance(proxy.error_for(check, key_env="K"), ProxyError)
