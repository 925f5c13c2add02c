"""What a user feels: a whole ``claude -p`` session with aether against the same session in a
plain project, with the real Claude Code and the real LiteLLM proxy (the pinned versions the
tests use) to the scripted upstream model of the tests.

    python -m benchmarks.bench_claude_session [--runs N]

Two projects, one proxy, one upstream: **aether** — ``aether init``, the Claude Code tests'
profile (caste models served by the upstream), ``aether claude install``, nothing started by
hand — and **plain** — a hand-written ``builder`` agent on the same model as aether's builder,
and the proxy's address in ``.claude/settings.json``. The install also puts aether's relay into
the home's ``~/.claude/settings.json`` (as for a user: it serves sessions started in a
subdirectory), which every session of that home then runs, the plain project's too; so the
plain project is also run from a second home aether never touched, and the last rows compare
against that and give what the relay costs a session in a project without aether. The queen
spawns one builder (``aether-builder`` / ``builder``) or none. Sessions alternate aether, plain,
aether, plain, ...; the table gives the median of the per-pair ratios (this machine drifts
±30 %). The aether sessions run
as users run them: one after the other, each pausing the colony at its end and resuming it at
the next start, the server the first one's hooks started still running ("warm"); "cold" rows
stop the server before each aether session (the first session after the idle timeout).

Also measured: the bytes of the main model's request on its first turn (aether's list of
workers and briefing against the plain project's one agent), with this profile and with the
default profile ``aether init`` writes; and the paid probes each session sent
(``aether status --json``: ``proxy.probes``).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    SESSION_HEADER,
    aether_cmd,
    aether_in,
    agent_session_bench,
    recorded_builders,
    session_rows,
    table,
)
from tests.proxy import claude
from tests.proxy.conftest import MASTER_KEY
from tests.proxy.upstream import Script, Upstream

PLAIN_AGENT = """---
name: builder
description: Writes code and tests for one task.
model: cc-builder
---
You build what you are asked to, then say what you did.
"""


def _spawn(kind: str) -> dict[str, str]:
    return {"subagent_type": kind, "description": "a task", "prompt": "write the widget parser"}


SCRIPT = Script(
    by_prompt={
        "aether-one": Script(spawns=[_spawn("aether-builder")]),
        "plain-one": Script(spawns=[_spawn("builder")]),
    }
)


def _env(home: Path) -> dict[str, str]:
    env = claude.claude_env(home, MASTER_KEY)
    env.pop("AETHER_SERVER")  # as installed: hooks start and use the server
    env["PATH"] = f"{Path(aether_cmd()[0]).parent}:{env['PATH']}"
    return env


def _setup(root: Path, proxy_url: str, env: dict[str, str]) -> tuple[Path, Path, Path]:
    with_aether, plain, default = root / "aether", root / "plain", root / "default"
    for project in (with_aether, plain, default):
        project.mkdir()
    aether_in(with_aether, env, "init", claude.GOAL)
    (with_aether / ".aether" / "model-profiles.yaml").write_text(claude.cc_profile(proxy_url))
    aether_in(with_aether, env, "claude", "install")
    aether_in(default, env, "init", claude.GOAL)
    profile = default / ".aether" / "model-profiles.yaml"
    profile.write_text(re.sub(r"endpoint: .*", f"endpoint: {proxy_url}", profile.read_text()))
    aether_in(default, env, "claude", "install")
    (plain / ".claude" / "agents").mkdir(parents=True)
    (plain / ".claude" / "agents" / "builder.md").write_text(PLAIN_AGENT)
    settings = {"env": {"ANTHROPIC_BASE_URL": proxy_url}}
    (plain / ".claude" / "settings.json").write_text(json.dumps(settings))
    return with_aether, plain, default


def _session(project: Path, env: dict[str, str], prompt: str) -> float:
    claude.ensure_claude()  # installed before the clock starts
    started = time.perf_counter()
    done = claude.run_claude(project, env, prompt)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"claude -p failed in {project.name}: {done.stderr[-2000:]}")
    return elapsed


def _settled(project: Path, env: dict[str, str]) -> dict[str, Any]:
    """The colony once the session's deferred hooks are done: a command handed to the server
    runs after them (the server takes one request at a time, in order)."""
    doc: dict[str, Any] = json.loads(aether_in(project, env, "status", "--json"))
    return doc


def _first_turn_bytes(upstream: Upstream, project: Path, env: dict[str, str]) -> int:
    upstream.reset(SCRIPT)
    _session(project, env, "nothing to do")
    queen = [s for s in upstream.seen if s.model == "cc-queen"]
    return queen[0].size


def main() -> None:
    with agent_session_bench() as (runs, root, upstream, proxy):
        home, bare_home = root / "home", root / "home-without-aether"
        home.mkdir()
        bare_home.mkdir()
        env, bare = _env(home), _env(bare_home)
        with_aether, plain, default = _setup(root, proxy.url, env)
        upstream.reset(SCRIPT)
        rows, probes = _timed(runs, with_aether, plain, env, bare)
        sizes = {
            "plain": _first_turn_bytes(upstream, plain, env),
            "aether (this profile)": _first_turn_bytes(upstream, with_aether, env),
            "aether (default profile)": _first_turn_bytes(upstream, default, env),
        }
        recorded = recorded_builders(with_aether)
        for project in (with_aether, default):
            subprocess.run(
                [*aether_cmd(), "serve", "--stop"], cwd=project, env=env, capture_output=True
            )
    print(table(rows, SESSION_HEADER))
    print()
    base = sizes["plain"]
    size_rows = [
        [label, f"{size:,}", "—" if label == "plain" else f"+{size - base:,}"]
        for label, size in sizes.items()
    ]
    print(table(size_rows, ["main model's first request", "bytes", "over plain"]))
    print()
    print(
        f"Paid probes per aether session (status --json proxy.probes), in order: "
        f"{', '.join(str(n) for n in probes)}"
    )
    print()
    total, done, tokens = recorded
    print(
        f"Builders the aether sessions spawned: {total}; completed: {done}; with the tokens of "
        "their transcript: "
        f"{tokens} (nothing the hooks do after their acknowledgement was lost)."
    )


def _timed(
    runs: int, with_aether: Path, plain: Path, env: dict[str, str], bare: dict[str, str]
) -> tuple[list[list[str]], list[int]]:
    """Paired sessions, case by case, round by round. ``env`` has aether's relay in its home
    (``aether claude install`` put it there, as for a user); ``bare`` is a home aether never
    touched: the last two rows compare against it."""
    one, none = ("aether-one", "plain-one"), ("nothing", "nothing")
    cases = {
        "one subagent, as installed (server warm)": (one, env, False),
        "no subagent, as installed (server warm)": (none, env, False),
        "one subagent, server stopped before each (cold)": (one, env, True),
        "one subagent, against a plain project in a home without aether": (one, bare, False),
    }
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in cases}
    tax = "a plain project's own session (one subagent): aether's relay in the home / none"
    times[tax] = ([], [])
    probes: list[int] = []
    for i in range(runs + 1):  # the first round warms the caches and starts the server
        for label, ((mine, theirs), their_env, cold) in cases.items():
            if cold:
                stop = [*aether_cmd(), "serve", "--stop"]
                subprocess.run(stop, cwd=with_aether, env=env, capture_output=True)
            a = _session(with_aether, env, mine)
            status = _settled(with_aether, env)
            if mine != "nothing" and not cold and their_env is env:
                probes.append(int(status["proxy"]["probes"]))
            p = _session(plain, their_env, theirs)
            if i:
                times[label][0].append(a)
                times[label][1].append(p)
        relayed, alone = _session(plain, env, "plain-one"), _session(plain, bare, "plain-one")
        if i:
            times[tax][0].append(relayed)
            times[tax][1].append(alone)
    return session_rows(times), probes


if __name__ == "__main__":
    main()
