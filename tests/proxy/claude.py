"""The REAL Claude Code client for the agent-runtime tests, and a way to run it headless.

``@anthropic-ai/claude-code@2.1.328`` is installed once with npm into a cache directory
(``~/.cache/aether-tests/claude-code-2.1.328``, or ``$AETHER_TEST_CLAUDE_DIR``), like the
LiteLLM venv. npm does not run the package's postinstall here, so the native binary is called
directly from its platform package. These tests never skip because the client is missing: if
it cannot be installed or run, they fail.

Each run gets its own ``HOME`` (nothing touches the user's ``~/.claude``), talks to the real
LiteLLM proxy only, and finds ``aether`` on ``PATH`` the way a user's shell would.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers import AETHER
from tests.proxy import npm_cache
from tests.proxy.upstream import Script, Upstream

CLAUDE_VERSION = "2.1.328"
PACKAGE = f"@anthropic-ai/claude-code@{CLAUDE_VERSION}"
BINARY = Path("node_modules/@anthropic-ai/claude-code-linux-x64/claude")


def install_dir() -> Path:
    return npm_cache.install_dir("claude-code", CLAUDE_VERSION, "AETHER_TEST_CLAUDE_DIR")


def ensure_claude() -> Path:
    """The binary, installing the pinned package when it is missing (tests/proxy/npm_cache.py)."""
    return npm_cache.ensure_binary(install_dir(), PACKAGE, CLAUDE_VERSION, BINARY)


@dataclass
class ClaudeRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        """The final JSON result line of ``--output-format json``."""
        lines = [line for line in self.stdout.strip().splitlines() if line.strip()]
        assert lines, f"claude printed nothing; stderr:\n{self.stderr[-3000:]}"
        doc: dict[str, Any] = json.loads(lines[-1])
        return doc


def claude_env(home: Path, key: str, **extra: str) -> dict[str, str]:
    """A minimal environment: its own HOME, aether on PATH, the proxy key (for aether's
    verification and as Claude Code's bearer token). The proxy URL is *not* set here: it
    comes from the env block `aether claude install` wrote into the project's settings."""
    env = {
        "HOME": str(home),
        "PATH": f"{Path(AETHER).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "LITELLM_MASTER_KEY": key,
        "ANTHROPIC_AUTH_TOKEN": key,
        "ANTHROPIC_MODEL": "cc-queen",
        "AETHER_SERVER": "off",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    env.update(extra)
    return env


def run_claude(
    project: Path, env: dict[str, str], prompt: str = "go", *, max_turns: int = 6
) -> ClaudeRun:
    binary = ensure_claude()
    done = subprocess.run(
        [str(binary), "-p", prompt, "--output-format", "json", "--max-turns", str(max_turns)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    return ClaudeRun(done.returncode, done.stdout, done.stderr)


def start_claude(project: Path, env: dict[str, str], prompt: str, *, max_turns: int = 6) -> Any:
    """``claude -p`` started in the background (a ``subprocess.Popen``; its pid is Claude
    Code's own: the binary is run directly)."""
    binary = ensure_claude()
    return subprocess.Popen(
        [str(binary), "-p", prompt, "--output-format", "json", "--max-turns", str(max_turns)],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


# --- projects set up for the Claude Code tests ---------------------------------------------------


GOAL = "Ship the frobnicator for the widget factory"


def cc_profile(endpoint: str) -> str:
    models = {
        "cc-queen": "cost: 5",
        "cc-builder": "cost: 3",
        "cc-prime": "cost: 4",
        "cc-opus": "cost: 5, aliases: [opus]",
        "cc-sonnet": "cost: 3, aliases: [sonnet]",
        "cc-haiku": "cost: 1, aliases: [haiku]",
    }
    lines = ["format: 2", "strict: true", "models:"]
    lines += [
        f"  {m}: {{provider: anthropic, context_window: 200000, capabilities: [code, tools], "
        f"speed: 3, {extra}}}"
        for m, extra in models.items()
    ]
    lines += [
        "castes:",
        "  queen: {model: cc-queen, chain: [cc-opus]}",
        "  prime: {model: cc-prime, chain: [cc-opus]}",
        "  builder: {model: cc-builder, chain: [cc-sonnet]}",
        "  scout: {model: cc-haiku, chain: [cc-sonnet]}",
        "task_routing:",
        "  enabled: true",
        "  groups:",
        "    deep-design: {keywords: [architecture, redesign], model: cc-opus, castes: [builder]}",
        "proxy:",
        f"  endpoint: {endpoint}",
        "  key_env: LITELLM_MASTER_KEY",
        "  probe: first-use",
        "timeouts: {attempt_s: 20, connect_s: 5}",
    ]
    return "\n".join(lines) + "\n"


def state_of(project: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (project / ".aether" / "data" / "COLONY_STATE.json").read_text()
    )
    return doc


def spawn(subagent_type: str, prompt: str, description: str = "a task") -> dict[str, str]:
    return {"subagent_type": subagent_type, "description": description, "prompt": prompt}


def queen_run(
    project: Path,
    home: Path,
    upstream: Upstream,
    spawns: list[dict[str, str]] | Script,
    *,
    prompt: str = "go",
    cwd: Path | None = None,
    **env: str,
) -> ClaudeRun:
    """One ``claude -p`` session whose queen follows ``spawns`` (or a whole script)."""
    from tests.proxy.conftest import MASTER_KEY

    upstream.reset(spawns if isinstance(spawns, Script) else Script(spawns=spawns))
    run = run_claude(cwd or project, claude_env(home, env.pop("key", MASTER_KEY), **env), prompt)
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-3000:])
    return run


def subagent_models(upstream: Upstream) -> list[str]:
    """Models of the requests that were not the queen's."""
    return [m for m in upstream.models_seen() if m != "cc-queen"]
