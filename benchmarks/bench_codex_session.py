"""What a Codex user feels: a whole ``codex exec`` session with aether against the same session
in a plain project, with the real Codex CLI and the real LiteLLM proxy (the pinned versions the
tests use) to the scripted upstream model of the tests.

    python -m benchmarks.bench_codex_session [--runs N]

Two projects, one proxy, one upstream: **aether** — ``aether init``, the Codex tests' profile,
``aether codex install`` and, in its ``CODEX_HOME/config.toml``, exactly the provider block and
trust lines install printed — and **plain** — a hand-written ``builder`` agent file on the same
model as aether's builder, the same provider, no hooks. The main model spawns one builder and
waits for it (``aether-builder`` / ``builder``), or spawns none. Sessions alternate aether,
plain, aether, plain, ...; the table gives the median of the per-pair ratios (this machine
drifts ±30 %). Rows: aether as installed (its hooks start ``aether serve`` and hand it the
rest; "warm": the server the first session started still runs), and aether with
``AETHER_SERVER=off`` (every hook its own process). Every builder the aether sessions spawned is
checked to be recorded completed with its tokens.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    SESSION_HEADER,
    aether_in,
    agent_session_bench,
    recorded_builders,
    session_rows,
    table,
)
from tests.proxy import codex
from tests.proxy.conftest import MASTER_KEY
from tests.proxy.responses import ResponsesScript, spawn_agent, wait_agent
from tests.proxy.upstream import Upstream


def _setup(root: Path, proxy_url: str) -> tuple[Path, dict[str, str], Path, dict[str, str]]:
    """(the aether project, its environment, the plain project, its environment)."""
    with_aether, plain, home = root / "aether", root / "plain", root / "home"
    for directory in (with_aether, plain, home):
        directory.mkdir()
    aether_home, plain_home = root / "codex-home-aether", root / "codex-home-plain"
    env = codex.codex_env(home, aether_home, MASTER_KEY, TMPDIR=str(root))
    env.pop("AETHER_SERVER")  # as installed: hooks start and use the server
    aether_in(with_aether, env, "init", "Codex session benchmark")
    profile = with_aether / ".aether" / "model-profiles.yaml"
    profile.write_text(codex.cx_profile(proxy_url))
    installed = json.loads(aether_in(with_aether, env, "codex", "install", "--json"))
    aether_home.mkdir()
    block = installed["provider_block"] + "\n" + installed["trust_block"]
    (aether_home / "config.toml").write_text(block)
    codex.write_config(plain_home, proxy_url, "cx-main", trusted=(plain,))
    codex.write_agent(plain, "builder", "cx-builder", "writes code")
    plain_env = {**env, "CODEX_HOME": str(plain_home)}
    return with_aether, env, plain, plain_env


def _script(agent: str | None) -> ResponsesScript:
    turns = [[spawn_agent(agent, "write the widget parser")], [wait_agent()]] if agent else []
    return ResponsesScript(main="cx-main", turns=turns)


def _session(upstream: Upstream, project: Path, env: dict[str, str], agent: str | None) -> float:
    upstream.responses.reset(_script(agent))
    codex.ensure_codex()  # installed before the clock starts
    started = time.perf_counter()
    done = codex.run_codex(project, env, "build it")
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"codex exec failed in {project.name}: {done.stderr[-2000:]}")
    return elapsed


def _timed(
    runs: int,
    upstream: Upstream,
    with_aether: Path,
    env: dict[str, str],
    plain: Path,
    plain_env: dict[str, str],
) -> list[list[str]]:
    alone = {**env, "AETHER_SERVER": "off"}
    cases: dict[str, tuple[dict[str, str], str | None, str | None]] = {
        "one subagent, as installed (server warm)": (env, "aether-builder", "builder"),
        "no subagent, as installed (server warm)": (env, None, None),
        "one subagent, every hook its own process (AETHER_SERVER=off)": (
            alone,
            "aether-builder",
            "builder",
        ),
    }
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in cases}
    for i in range(runs + 1):  # the first round warms the caches and starts the server
        for label, (aether_env, mine, theirs) in cases.items():
            a = _session(upstream, with_aether, aether_env, mine)
            # the hooks the server took after its acknowledgement are done before this
            aether_in(with_aether, env, "status", "--json")
            p = _session(upstream, plain, plain_env, theirs)
            if i:
                times[label][0].append(a)
                times[label][1].append(p)
    return session_rows(times)


def main() -> None:
    result: dict[str, Any] = {}
    with agent_session_bench() as (runs, root, upstream, proxy):
        with_aether, env, plain, plain_env = _setup(root, proxy.url)
        result["rows"] = _timed(runs, upstream, with_aether, env, plain, plain_env)
        result["builders"] = recorded_builders(with_aether)
        aether_in(with_aether, env, "serve", "--stop")
    print(table(result["rows"], SESSION_HEADER))
    print()
    total, done, tokens = result["builders"]
    print(
        f"Builders the aether sessions spawned: {total}; completed: {done}; with the tokens of "
        f"their rollout: {tokens}."
    )


if __name__ == "__main__":
    main()
