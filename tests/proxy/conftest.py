"""A REAL LiteLLM proxy for the routing tests.

``litellm[proxy]==1.106.2`` lives in a cached venv (``~/.cache/aether-tests/litellm-1.106.2``,
or ``$AETHER_TEST_LITELLM_VENV``); the fixture creates it with ``python -m venv`` + pip when it
is missing (CI on a fresh machine). These tests never skip because the proxy is missing: if it
cannot be installed or started, they fail.

One proxy serves the whole test session (mock models, a master key, 127.0.0.1, a free port);
it is stopped by its PID in teardown. Facts about the proxy's answers are in
aether/proxy.py and docs/spawn.md. The failure mocks were verified by experiment on 1.106.2:

* ``mock_response: litellm.InternalServerError`` -> 500, ``litellm.RateLimitError`` -> 429,
  ``litellm.ContextWindowExceededError`` -> 400;
* ``mock_timeout: true`` sleeps for the request's timeout (the ``x-litellm-timeout`` header
  wins over ``litellm_params.timeout``) and answers 408;
* ``mock_delay: N`` sleeps N s and ignores ``x-litellm-timeout`` (a hung upstream: only the
  client-side socket timeout ends it);
* a model group with two deployments that both fail cools down after two failures and then
  answers ``429`` with error type ``all_deployments_in_cooldown`` (single-deployment groups
  never cool down with the default router settings).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.proxy import claude
from tests.proxy.upstream import Upstream

LITELLM_VERSION = "1.106.2"
MASTER_KEY = "sk-aether-test-master-7f3a9c"
KEY_ENV = "LITELLM_MASTER_KEY"

#: caste -> its own mock model, so a probe header proves which caste's model answered
CASTE_MODELS = {
    "queen": "mock-queen",
    "prime": "mock-prime",
    "architect": "mock-architect",
    "route-setter": "mock-route-setter",
    "oracle": "mock-oracle",
    "builder": "mock-builder",
    "watcher": "mock-watcher",
    "archaeologist": "mock-archaeologist",
    "chaos": "mock-chaos",
    "colonizer": "mock-colonizer",
    "scout": "mock-scout",
}
#: models in the test profile that fail in a known way (served by the proxy unless noted)
FAILING = {
    "broken": "litellm.InternalServerError",  # 500
    "ratelimited": "litellm.RateLimitError",  # 429
    "ctxerr": "litellm.ContextWindowExceededError",  # 400
}
SPARE = ["mock-spare-a", "mock-spare-b"]
#: Anthropic-style deployments answered by the scripted upstream (tests/proxy/upstream.py):
#: the models the Claude Code tests run the queen and its subagents on
CLAUDE_MODELS = [
    "cc-queen",
    "cc-builder",
    "cc-opus",
    "cc-sonnet",
    "cc-haiku",
    "cc-scout",
    "cc-prime",
]
#: OpenAI-Responses deployments answered by the same upstream (tests/proxy/responses.py): the
#: models the Codex CLI tests run their main agent and its subagents on
CODEX_MODELS = ["cx-main", "cx-builder", "cx-scout", "cx-other"]


def venv_dir() -> Path:
    override = os.environ.get("AETHER_TEST_LITELLM_VENV")
    if override:
        return Path(override)
    return Path.home() / ".cache" / "aether-tests" / f"litellm-{LITELLM_VERSION}"


def _installed(venv: Path) -> bool:
    if not (venv / "bin" / "litellm").exists():
        return False
    if (venv / ".aether-complete").exists():
        return True
    return any(venv.glob(f"lib/python*/site-packages/litellm-{LITELLM_VERSION}.dist-info"))


def ensure_litellm() -> Path:
    """The ``litellm`` executable, installing it into the cached venv when missing."""
    venv = venv_dir()
    if _installed(venv):
        return venv / "bin" / "litellm"
    from filelock import FileLock

    venv.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(venv) + ".install-lock", timeout=900):
        if _installed(venv):
            return venv / "bin" / "litellm"
        if venv.exists():
            shutil.rmtree(venv)  # a half-made venv from an interrupted install
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
        done = subprocess.run(
            [*pip, "-q", f"litellm[proxy]=={LITELLM_VERSION}"], capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.fail(
                f"could not install litellm[proxy]=={LITELLM_VERSION} into {venv}:\n"
                + done.stderr[-3000:]
            )
        (venv / ".aether-complete").write_text(LITELLM_VERSION + "\n")
    return venv / "bin" / "litellm"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _deployment(name: str, mock: str, **extra: object) -> str:
    params = {"model": f"openai/{name}", "api_key": "sk-fake-upstream", "mock_response": mock}
    params.update(extra)  # type: ignore[arg-type]
    inner = ", ".join(
        f"{k}: {v!r}" if isinstance(v, str) else f"{k}: {str(v).lower()}" for k, v in params.items()
    )
    return f"  - model_name: {name}\n    litellm_params: {{{inner}}}\n"


def _upstream_deployment(name: str, upstream_url: str) -> str:
    return (
        f"  - model_name: {name}\n    litellm_params: {{model: anthropic/{name}, "
        f"api_base: {upstream_url!r}, api_key: sk-fake-upstream}}\n"
    )


def _responses_deployment(name: str, upstream_url: str) -> str:
    # an openai/ deployment: LiteLLM passes POST /v1/responses on to {api_base}/responses
    return (
        f"  - model_name: {name}\n    litellm_params: {{model: openai/{name}, "
        f"api_base: {upstream_url + '/v1'!r}, api_key: sk-fake-upstream}}\n"
    )


def proxy_config(*, open_proxy: bool = False, upstream_url: str | None = None) -> str:
    lines = ["model_list:\n"]
    for model in [*CASTE_MODELS.values(), *SPARE]:
        lines.append(_deployment(model, f"hello from {model}"))
    if upstream_url is not None:
        lines += [_upstream_deployment(m, upstream_url) for m in CLAUDE_MODELS]
        lines += [_responses_deployment(m, upstream_url) for m in CODEX_MODELS]
    for model, mock in FAILING.items():
        lines.append(_deployment(model, mock))
    # honours x-litellm-timeout: sleeps that long, then answers 408
    lines.append(_deployment("slow", "late", mock_timeout=True, timeout=30))
    # ignores every timeout: only the client's socket timeout ends the wait
    lines.append(_deployment("hang", "late", mock_delay=30))
    # two failing deployments: the group cools down -> 429 all_deployments_in_cooldown
    for suffix in ("a", "b"):
        lines.append(
            f"  - model_name: cooling\n    litellm_params: {{model: openai/cooling-{suffix}, "
            "api_key: sk-fake-upstream, mock_response: litellm.RateLimitError}\n"
        )
    lines.append("router_settings: {num_retries: 0}\n")
    lines.append("litellm_settings: {num_retries: 0}\n")
    if open_proxy:
        lines.append("general_settings: {dangerously_permit_weak_or_unset_master_key: true}\n")
    else:
        lines.append(f"general_settings: {{master_key: {MASTER_KEY}}}\n")
    return "".join(lines)


@dataclass
class RunningProxy:
    url: str
    port: int
    pid: int
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        # the proxy runs in its own session (start_new_session): signal its group, i.e. this
        # PID's own children, never anything else
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)  # a request in a mock_delay keeps it busy: don't wait
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def start_proxy(
    workdir: Path, *, open_proxy: bool = False, upstream_url: str | None = None
) -> RunningProxy:
    litellm = ensure_litellm()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.yaml"
    config.write_text(proxy_config(open_proxy=open_proxy, upstream_url=upstream_url))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LITELLM", "OPENAI"))}
    env.update(
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_TELEMETRY="False",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    log = workdir / "proxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(litellm), "--config", str(config), "--port", str(port), "--host", "127.0.0.1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
            start_new_session=True,
        )
    proxy = RunningProxy(f"http://127.0.0.1:{port}", port, process.pid, log, process)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the LiteLLM proxy exited with {process.returncode}:\n"
                + log.read_text(errors="replace")[-3000:]
            )
        try:
            with urllib.request.urlopen(proxy.url + "/health/liveliness", timeout=1) as resp:
                if resp.status == 200:
                    return proxy
        except OSError:
            pass
        time.sleep(0.2)
    proxy.stop()
    pytest.fail(
        "the LiteLLM proxy did not become live within 120 s:\n"
        + log.read_text(errors="replace")[-3000:]
    )


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    """The scripted Anthropic-Messages model behind the proxy's ``cc-*`` deployments."""
    server = Upstream().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def litellm_proxy(
    tmp_path_factory: pytest.TempPathFactory, upstream: Upstream
) -> Iterator[RunningProxy]:
    proxy = start_proxy(tmp_path_factory.mktemp("litellm-proxy"), upstream_url=upstream.url)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="session")
def open_litellm_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    """A proxy that accepts any key (``dangerously_permit_weak_or_unset_master_key``)."""
    proxy = start_proxy(tmp_path_factory.mktemp("litellm-open-proxy"), open_proxy=True)
    try:
        yield proxy
    finally:
        proxy.stop()


def _model_block(name: str, context_window: int = 200000) -> str:
    return (
        f"  {name}:\n    provider: openai\n    context_window: {context_window}\n"
        "    capabilities: [code, tools]\n    speed: 3\n    cost: 2\n"
    )


def profile_text(
    endpoint: str,
    *,
    castes: dict[str, tuple[str, list[str]]] | None = None,
    probe: str = "first-use",
    open_proxy_check: bool = True,
    attempt_s: float = 2,
    connect_s: float = 2,
    failures: int = 3,
    cooldown_s: float = 60,
    standalone: bool = False,
    key_env: str = KEY_ENV,
) -> str:
    """A format-2 profile mapping each caste to its own mock model."""
    table = castes or {c: (m, ["mock-spare-a"]) for c, m in CASTE_MODELS.items()}
    models = sorted({*CASTE_MODELS.values(), *SPARE, *FAILING, "slow", "hang", "cooling", "ghost"})
    out = ["format: 2\nstrict: true\nmodels:\n"]
    out += [_model_block(m) for m in models]
    out.append("castes:\n")
    for caste, (model, chain) in table.items():
        out.append(f"  {caste}: {{model: {model}, chain: [{', '.join(chain)}]}}\n")
    out.append(
        f"proxy:\n  endpoint: {endpoint}\n  key_env: {key_env}\n  probe: {probe}\n"
        f"  open_proxy_check: {str(open_proxy_check).lower()}\n"
        f"  standalone: {str(standalone).lower()}\n"
        f"timeouts:\n  attempt_s: {attempt_s}\n  connect_s: {connect_s}\n"
        f"breaker:\n  failures: {failures}\n  cooldown_s: {cooldown_s}\n"
    )
    return "".join(out)


def write_profile(project: Path, endpoint: str, **kwargs: object) -> None:
    (project / ".aether" / "model-profiles.yaml").write_text(
        profile_text(endpoint, **kwargs)  # type: ignore[arg-type]
    )


def proxy_env(key: str | None = MASTER_KEY, **extra: str) -> dict[str, str]:
    from tests.helpers import clean_env

    env = clean_env(**extra)
    env.pop(KEY_ENV, None)
    if key is not None:
        env[KEY_ENV] = key
    return env


@pytest.fixture
def cc_project(
    project: Path, run_aether: RunAether, litellm_proxy: RunningProxy, upstream: Upstream
) -> Path:
    assert run_aether("init", claude.GOAL).returncode == 0
    (project / ".aether" / "model-profiles.yaml").write_text(claude.cc_profile(litellm_proxy.url))
    installed = run_aether("claude", "install", "--json")
    assert installed.returncode == 0, installed.stderr
    upstream.reset()
    return project


@pytest.fixture
def home(test_home: Path) -> Path:
    """Claude Code's HOME is the one aether ran with: ``aether claude install`` put its relay
    in ``~/.claude/`` there."""
    return test_home
