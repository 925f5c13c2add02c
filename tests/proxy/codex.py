"""The REAL OpenAI Codex CLI for the agent-runtime tests, and a way to run it headless.

``@openai/codex@0.171.0`` is installed once with npm into a cache directory
(``~/.cache/aether-tests/codex-0.171.0``, or ``$AETHER_TEST_CODEX_DIR``), like Claude Code's.
The package's ``bin/codex.js`` only picks the native binary out of the optional dependency
``@openai/codex-linux-x64`` (no postinstall, nothing fetched at run time), so the binary is run
directly. These tests never skip because the client is missing: if it cannot be installed or
run, they fail.

Each run gets its own ``CODEX_HOME`` whose ``config.toml`` points Codex at the real LiteLLM
proxy (a ``model_provider`` speaking the Responses API); the proxy key stays in the environment
(``env_key``), never in a file. The measured behaviour is in docs/codex.md.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers import AETHER
from tests.proxy import npm_cache

CODEX_VERSION = "0.171.0"
PACKAGE = f"@openai/codex@{CODEX_VERSION}"
BINARY = Path("node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex")
#: the variable the proxy key is in (``env_key`` of the provider in config.toml)
KEY_VARIABLE = "LITELLM_MASTER_KEY"
#: the namespace Codex 0.171.0 offers its subagent tools in (``spawn_agent``, ``wait_agent``)
AGENT_TOOLS = "multi_agent_v1"


def install_dir() -> Path:
    return npm_cache.install_dir("codex", CODEX_VERSION, "AETHER_TEST_CODEX_DIR")


def ensure_codex() -> Path:
    """The binary, installing the pinned package when it is missing (tests/proxy/npm_cache.py)."""
    return npm_cache.ensure_binary(install_dir(), PACKAGE, CODEX_VERSION, BINARY)


def write_config(
    codex_home: Path, proxy_url: str, model: str, *, trusted: tuple[Path, ...] = ()
) -> Path:
    """``CODEX_HOME/config.toml``: Codex talks to the proxy only, with the key from
    ``$LITELLM_MASTER_KEY``; ``trusted`` projects get their ``.codex/`` (agents, hooks) loaded."""
    codex_home.mkdir(parents=True, exist_ok=True)
    lines = [
        f"model = {json.dumps(model)}",
        'model_provider = "aetherproxy"',
        "",
        "[features]",
        "hooks = true",
        "",
        "[model_providers.aetherproxy]",
        'name = "LiteLLM proxy"',
        f"base_url = {json.dumps(proxy_url.rstrip('/') + '/v1')}",
        f"env_key = {json.dumps(KEY_VARIABLE)}",
        'wire_api = "responses"',
        # a failing request fails the turn at once (Codex retries 5 times, ~25 s, by default)
        "request_max_retries = 0",
        "stream_max_retries = 0",
    ]
    for project in trusted:
        lines += ["", f"[projects.{json.dumps(str(project))}]", 'trust_level = "trusted"']
    config = codex_home / "config.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def codex_env(home: Path, codex_home: Path, key: str, **extra: str) -> dict[str, str]:
    """A minimal environment: its own HOME and CODEX_HOME, aether and codex on PATH, the proxy
    key in the provider's ``env_key`` variable (which is also the profile's ``key_env``)."""
    binary = install_dir() / BINARY
    env = {
        "HOME": str(home),
        "CODEX_HOME": str(codex_home),
        "PATH": f"{Path(AETHER).parent}:{binary.parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        KEY_VARIABLE: key,
        "AETHER_SERVER": "off",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    env.update(extra)
    return env


#: ``codex exec`` headless: JSONL events on stdout, no git repository needed
EXEC_ARGS = ["exec", "--json", "--skip-git-repo-check"]


@dataclass
class CodexRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def events(self) -> list[dict[str, Any]]:
        """The JSONL events ``codex exec --json`` printed."""
        out: list[dict[str, Any]] = []
        for line in self.stdout.splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out

    def items(self, kind: str) -> list[dict[str, Any]]:
        return [
            e["item"]
            for e in self.events
            if e.get("type") == "item.completed" and e.get("item", {}).get("type") == kind
        ]


def run_codex(
    project: Path,
    env: dict[str, str],
    prompt: str = "go",
    *,
    args: list[str] | None = None,
    timeout: float = 180,
) -> CodexRun:
    binary = ensure_codex()
    done = subprocess.run(
        [str(binary), *(args if args is not None else EXEC_ARGS), prompt],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return CodexRun(done.returncode, done.stdout, done.stderr)


def write_agent(project: Path, name: str, model: str, description: str = "a worker") -> Path:
    """``.codex/agents/<name>.toml``: a subagent Codex runs on ``model``."""
    agents = project / ".codex" / "agents"
    agents.mkdir(parents=True, exist_ok=True)
    path = agents / f"{name}.toml"
    path.write_text(
        f"name = {json.dumps(name)}\ndescription = {json.dumps(description)}\n"
        f"model = {json.dumps(model)}\n"
        f'developer_instructions = "You are {name}. Do the task you are given."\n'
    )
    return path


def write_hooks(project: Path, hooks: dict[str, list[dict[str, Any]]]) -> Path:
    """``.codex/hooks.json``: ``{"hooks": {event: [matcher groups]}}`` as Claude Code's."""
    path = project / ".codex" / "hooks.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"hooks": hooks}, indent=2))
    return path


# --- projects set up for the Codex CLI tests -----------------------------------------------------


def cx_profile(endpoint: str) -> str:
    """A format-2 profile whose castes run on the Responses models of the scripted upstream."""
    models = {"cx-main": 5, "cx-builder": 3, "cx-scout": 1, "cx-other": 2}
    lines = ["format: 2", "strict: true", "models:"]
    lines += [
        f"  {m}: {{provider: openai, context_window: 200000, capabilities: [code, tools], "
        f"speed: 3, cost: {cost}}}"
        for m, cost in models.items()
    ]
    lines += [
        "castes:",
        "  queen: {model: cx-main, chain: [cx-other]}",
        "  builder: {model: cx-builder, chain: [cx-other]}",
        "  scout: {model: cx-scout, chain: [cx-other]}",
        "proxy:",
        f"  endpoint: {endpoint}",
        f"  key_env: {KEY_VARIABLE}",
        "  probe: first-use",
        "timeouts: {attempt_s: 20, connect_s: 5}",
    ]
    return "\n".join(lines) + "\n"
