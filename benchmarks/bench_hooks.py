"""``aether hook EVENT`` as Claude Code runs it: through .claude/hooks/aether-hook, one process.

    python -m benchmarks.bench_hooks [--runs N]

A colony set up with ``aether claude install``, its profile standalone (no proxy: what is
measured is aether's own work; a verified ``pre-agent`` adds the authenticated model list the
spawn benchmark measures). Each hook gets the JSON Claude Code 2.1.328 sends for its event.
First as separate processes, paired with a bare Typer run (target ≤ 1.3×); then handed to a
running ``aether serve`` by the launcher's own client, paired with the same hook in its own
process (targets: ≤ 40 ms; a routed and recorded spawn ≤ 0.15× its own process).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aether.cli.server import DEFERRED_HOOKS
from benchmarks.bench_spawn import aether_server
from benchmarks.common import aether_cmd, bench_env, paired_header, paired_ratio, table

SESSION = "bench-0000-4000-8000-000000000001"


def _input(event: str, **fields: Any) -> str:
    common = {"session_id": SESSION, "cwd": ".", "hook_event_name": event, "transcript_path": ""}
    return json.dumps({**common, **fields})


def _transcript(path: Path) -> Path:
    lines = []
    for n in range(20):
        message = {
            "id": f"msg_{n}",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "step done"}],
            "usage": {"input_tokens": 1000 + n, "output_tokens": 50},
        }
        lines.append(json.dumps({"type": "assistant", "message": message}))
    path.write_text("\n".join(lines) + "\n")
    return path


def _cases(project: Path) -> list[tuple[str, str, str, list[str] | None]]:
    """(label, hook, stdin, command run unmeasured before each run)."""
    agent = {"description": "parser", "prompt": "write the config parser"}
    transcript = _transcript(project / "agent.jsonl")
    return [
        (
            "pre-agent, not an aether subagent",
            "pre-agent",
            _input(
                "PreToolUse",
                tool_name="Agent",
                tool_use_id="t0",
                tool_input={**agent, "subagent_type": "general-purpose"},
            ),
            None,
        ),
        (
            "pre-agent, routed and recorded",
            "pre-agent",
            _input(
                "PreToolUse",
                tool_name="Agent",
                tool_use_id="t1",
                tool_input={**agent, "subagent_type": "aether-builder"},
            ),
            None,
        ),
        (
            "subagent-start",
            "subagent-start",
            _input("SubagentStart", agent_id="a1", agent_type="aether-builder"),
            None,
        ),
        (
            "agent-result",
            "agent-result",
            _input(
                "PostToolUse",
                tool_name="Agent",
                tool_use_id="t1",
                tool_input={**agent, "subagent_type": "aether-builder"},
                tool_response={"agentId": "a1", "resolvedModel": "claude-sonnet-4-5"},
            ),
            None,
        ),
        (
            "subagent-stop (20-message transcript)",
            "subagent-stop",
            _input(
                "SubagentStop",
                agent_id="a1",
                agent_type="aether-builder",
                agent_transcript_path=str(transcript),
            ),
            None,
        ),
        ("session-start, active colony", "session-start", _input("SessionStart"), None),
        ("session-start, resumes", "session-start", _input("SessionStart"), ["pause"]),
        ("pre-compact", "pre-compact", _input("PreCompact"), None),
        ("session-end, pauses", "session-end", _input("SessionEnd"), ["resume"]),
    ]


def _setup(project: Path, aether: list[str]) -> None:
    env = bench_env()
    run = {"cwd": project, "env": env, "check": True, "capture_output": True}
    subprocess.run([*aether, "init", "bench colony"], **run)  # type: ignore[call-overload]
    profile = project / ".aether" / "model-profiles.yaml"
    profile.write_text(profile.read_text().replace("proxy:\n", "proxy:\n  standalone: true\n"))
    subprocess.run([*aether, "claude", "install"], **run)  # type: ignore[call-overload]


def _checked(argv: list[str], stdin: str, project: Path, env: dict[str, str]) -> None:
    """A hook always exits 0; what it says on stderr is how it fails. Fail loudly here."""
    done = subprocess.run(argv, input=stdin, cwd=project, env=env, capture_output=True, text=True)
    if done.returncode != 0 or done.stderr.strip():
        raise SystemExit(f"{' '.join(argv)}: {done.returncode} {done.stderr.strip()}")


def _before(aether: list[str], project: Path, env: dict[str, str], cmd: list[str] | None) -> Any:
    if cmd is None:
        return None

    def run() -> None:
        subprocess.run([*aether, *cmd], cwd=project, env=env, capture_output=True)

    return run


def standalone(project: Path, aether: list[str], runs: int) -> str:
    launcher = str(project / ".claude" / "hooks" / "aether-hook")
    # each hook in its own process, as before servers: no server is started or used
    env = bench_env(CLAUDE_PROJECT_DIR=str(project), AETHER_SERVER="off")
    rows = []
    for label, hook, stdin, before in _cases(project):
        run_before: Callable[[], None] | None = _before(aether, project, env, before)
        if run_before:
            run_before()
        _checked([launcher, hook], stdin, project, env)
        ms, base, ratio = paired_ratio(
            [launcher, hook], runs=runs, cwd=project, env=env, before=run_before, stdin=stdin
        )
        rows.append([f"`aether hook {label}`", f"{ms:.0f}", f"{base:.0f}", f"{ratio:.2f}"])
    return table(rows, paired_header(runs))


def served(project: Path, aether: list[str], runs: int) -> str:
    """Each hook handed to a running server by the launcher's own client, paired with the same
    hook run in its own process (``AETHER_SERVER=off``: what every hook cost before), run by
    run. Hooks that only record are handed over in the background: their time is what the
    session waits for, and a served ``aether serve --status`` after each run waits until its
    work is done, so no run waits for another's."""
    launcher = str(project / ".claude" / "hooks" / "aether-hook")
    rows = []
    with (
        tempfile.TemporaryDirectory() as run_dir,
        aether_server(aether, project, Path(run_dir)) as env,
    ):
        # what Claude Code gives a hook: its project directory and its own pid (this process
        # stands for the session), and the aether found by the launcher's own rules
        env = {
            **env,
            "CLAUDE_PROJECT_DIR": str(project),
            "CLAUDE_PID": str(os.getpid()),
            "AETHER_BIN": aether[0],
        }
        alone = {**env, "AETHER_SERVER": "off"}
        for label, hook, stdin, before in _cases(project):
            run_before = _before(aether, project, env, before)
            pairs = []
            for i in range(runs + 2):
                settle_and = [run_before] if run_before else []
                for step in settle_and:
                    step()
                t0 = time.perf_counter()
                _checked([launcher, hook], stdin, project, alone)
                t1 = time.perf_counter()
                for step in settle_and:
                    step()
                subprocess.run(
                    [*aether, "serve", "--status"], cwd=project, env=env, capture_output=True
                )
                t2 = time.perf_counter()
                _checked([launcher, hook], stdin, project, env)
                t3 = time.perf_counter()
                subprocess.run(
                    [*aether, "serve", "--status"], cwd=project, env=env, capture_output=True
                )
                if i >= 2:
                    pairs.append((t3 - t2, t1 - t0))
            ms = statistics.median(p[0] for p in pairs) * 1000
            own = statistics.median(p[1] for p in pairs) * 1000
            ratio = statistics.median(p[0] / p[1] for p in pairs)
            deferred = " (handed over in the background)" if hook in DEFERRED_HOOKS else ""
            rows.append(
                [
                    f"`aether hook {label}`{deferred}",
                    f"{ms:.0f}",
                    f"{own:.0f}",
                    f"{ratio:.2f}",
                    "met" if ms <= 40 else "NOT met",
                ]
            )
    return table(
        rows,
        [
            "hook, through the launcher to a running server",
            f"median ms ({runs} runs)",
            "in its own process, ms (paired)",
            "× own process (median of pairs)",
            "≤ 40 ms",
        ],
    )


MODELS = ("claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "kimi-k2.5")


def _listing_bytes(project: Path) -> int:
    """aether's entries in the list of agents Claude Code puts in every main-model request
    (``- NAME: DESCRIPTION (Tools: All tools)``, measured on 2.1.328)."""
    total = 0
    for path in (project / ".claude" / "agents").glob("aether-*.md"):
        text = path.read_text()
        name = json.loads(text.split("name: ", 1)[1].split("\n", 1)[0])
        description = json.loads(text.split("description: ", 1)[1].split("\n", 1)[0])
        total += len(f"- {name}: {description} (Tools: All tools)\n".encode())
    return total


def _grown(project: Path, aether: list[str], how: str) -> None:
    """Make the colony older (10,000 finished workers, compacted by one real write as the
    store does) or its profile wider (50 castes), then install again."""
    from benchmarks.bench_session import _worker

    env = bench_env()
    if how == "past":
        state_file = project / ".aether" / "data" / "COLONY_STATE.json"
        data = json.loads(state_file.read_text())
        data["workers"] += [_worker(n, "completed") for n in range(10_000)]
        state_file.write_text(json.dumps(data))
        for cmd in (["pause"], ["resume"]):
            subprocess.run([*aether, *cmd], cwd=project, env=env, check=True, capture_output=True)
    else:
        profile = project / ".aether" / "model-profiles.yaml"
        extra = "".join(
            f"  extra-{n:02d}: {{model: {MODELS[n % 4]}, chain: [{MODELS[(n + 1) % 4]}]}}\n"
            for n in range(39)
        )
        profile.write_text(profile.read_text().replace("castes:\n", "castes:\n" + extra, 1))
    subprocess.run(
        [*aether, "claude", "install"], cwd=project, env=env, check=True, capture_output=True
    )


def growth(aether: list[str], runs: int) -> str:
    """The served hooks the session waits for, the list of workers and the briefing, as the
    colony grows: fresh, 10,000 past workers, 50 castes in its profile."""
    rows = []
    for label, how in (
        ("fresh (11 castes)", None),
        ("10,000 past workers", "past"),
        ("50 castes in the profile", "castes"),
    ):
        with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as run_dir:
            project = Path(tmp)
            _setup(project, aether)
            if how:
                _grown(project, aether, how)
            cases = {c[0]: c for c in _cases(project)}
            with aether_server(aether, project, Path(run_dir)) as env:
                env = {
                    **env,
                    "CLAUDE_PROJECT_DIR": str(project),
                    "CLAUDE_PID": str(os.getpid()),
                    "AETHER_BIN": aether[0],
                }
                launcher = str(project / ".claude" / "hooks" / "aether-hook")
                ms = []
                for key in ("session-start, active colony", "pre-agent, routed and recorded"):
                    _, hook, stdin, _before_cmd = cases[key]
                    times = []
                    for i in range(runs + 2):
                        status = [*aether, "serve", "--status"]
                        subprocess.run(status, cwd=project, env=env, capture_output=True)
                        t0 = time.perf_counter()
                        _checked([launcher, hook], stdin, project, env)
                        if i >= 2:
                            times.append(time.perf_counter() - t0)
                    ms.append(statistics.median(times) * 1000)
                briefing = subprocess.run(
                    [launcher, "session-start"],
                    input=cases["session-start, active colony"][2],
                    cwd=project,
                    env=env,
                    capture_output=True,
                    text=True,
                ).stdout
                state = (project / ".aether" / "data" / "COLONY_STATE.json").stat().st_size
            rows.append(
                [
                    label,
                    f"{state // 1024} KiB",
                    f"{ms[0]:.0f}",
                    f"{ms[1]:.0f}",
                    f"{_listing_bytes(project):,}",
                    f"{len(briefing.encode()):,}",
                ]
            )
    return table(
        rows,
        [
            "colony",
            "state file",
            f"served session-start, ms (median of {runs})",
            "served pre-agent (routed, recorded), ms",
            "aether's agent list, bytes per request",
            "briefing, bytes",
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    aether = aether_cmd()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        _setup(project, aether)
        print(standalone(project, aether, args.runs))
        print()
        print(served(project, aether, args.runs))
    print()
    print(growth(aether, args.runs))
    print(
        "\nEach hook runs through the launcher Claude Code runs (`/bin/sh` finding aether; with a "
        "server, its own client run isolated by aether's interpreter). Run alone, `session-end, "
        "pauses` is the whole `aether pause`; handed to a server, the session waits only for "
        "its acknowledgement."
    )


if __name__ == "__main__":
    main()
