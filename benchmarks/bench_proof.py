"""Issue 7's figures: every command against bare Typer, cost versus colony age, state size
after 10,000 spawns, and the delay a dead lock holder causes.

    python -m benchmarks.bench_proof [--runs N] [--spawns N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.bench_session import _worker
from benchmarks.common import (
    aether_cmd,
    bench_env,
    paired_header,
    paired_ratio,
    table,
)
from tests.lock_scripts import HOLDER, WAITER, start_script

REPO = Path(__file__).resolve().parent.parent


def _run(aether: list[str], project: Path, *args: str) -> str:
    done = subprocess.run(
        [*aether, *args], cwd=project, env=bench_env(), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"aether {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def every_command(aether: list[str], runs: int) -> str:
    """Every command, each run paired with a bare Typer run (ratio = median of pair ratios)."""
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        _run(aether, project, "init", "benchmark colony")
        _run(aether, project, "memory", "add", "learning", "benchmarks are whole processes")
        _run(aether, project, "archive", "--name", "bench")
        commands: list[tuple[str, list[str], list[str] | None]] = [
            ("init --force", ["init", "benchmark colony", "--force"], None),
            ("status", ["status"], None),
            ("status --json", ["status", "--json"], None),
            ("workers --json", ["workers", "--json"], None),
            ("costs --json", ["costs", "--json"], None),
            ("route --json", ["route", "write the parser", "--json"], None),
            ("profile show", ["profile", "show"], None),
            ("profile validate", ["profile", "validate"], None),
            ("memory list --json", ["memory", "list", "--json"], None),
            ("archive list --json", ["archive", "list", "--json"], None),
            ("doctor --no-proxy --json", ["doctor", "--no-proxy", "--json"], None),
            ("schema", ["schema"], None),
            ("migrate --check (current)", ["migrate", "--check"], None),
            (
                "spawn --no-proxy --json",
                ["spawn", "--caste", "scout", "--no-proxy", "--json"],
                None,
            ),
            ("worker heartbeat", ["worker", "heartbeat", "(a fresh worker)"], None),
            ("memory add", ["memory", "add", "decision", "same text every run"], None),
            ("pause", ["pause"], None),
            ("resume (after a pause)", ["resume"], [*aether, "pause"]),
        ]
        for label, argv, before in commands:
            if label == "worker heartbeat":
                argv = [
                    "worker",
                    "heartbeat",
                    json.loads(
                        _run(aether, project, "spawn", "--caste", "builder", "--no-proxy", "--json")
                    )["id"],
                ]
            ms, base, ratio = paired_ratio([*aether, *argv], runs=runs, cwd=project, before=before)
            rows.append([f"aether {label}", f"{ms:.0f}", f"{base:.0f}", f"{ratio:.2f}"])
    return table(
        rows,
        paired_header(runs),
    )


def colony_age(aether: list[str], runs: int) -> str:
    """Each command at 1, 100, 1,000 and 10,000 past workers, paired with bare Typer; the
    flatness column divides ratios (not raw medians), so the machine's drift cancels."""
    rows: list[list[str]] = []
    at_100: dict[str, float] = {}
    for past in (1, 100, 1_000, 10_000):
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            _run(aether, project, "init", "age benchmark")
            state_file = project / ".aether/data/COLONY_STATE.json"
            data = json.loads(state_file.read_text())
            data["workers"] = [_worker(n, "completed") for n in range(past)]
            state_file.write_text(json.dumps(data))
            _run(aether, project, "pause")  # one real write: the store compacts
            _run(aether, project, "resume")
            size = state_file.stat().st_size
            for label, argv in (
                ("status --json", ["status", "--json"]),
                ("spawn --no-proxy", ["spawn", "--caste", "builder", "--no-proxy", "--json"]),
                ("pause", ["pause"]),
            ):
                ms, _, ratio = paired_ratio([*aether, *argv], runs=runs, cwd=project)
                if past == 100:
                    at_100[label] = ratio
                flat = f"{ratio / at_100[label]:.2f}" if label in at_100 else "—"
                rows.append(
                    [f"{past:,}", f"{size / 1024:.0f} KiB", f"aether {label}", f"{ms:.0f}",
                     f"{ratio:.2f}", flat]
                )  # fmt: skip
    return table(
        rows,
        [
            "past workers",
            "state",
            "command",
            f"median ms ({runs} runs)",
            "× bare Typer (median of pairs)",
            "× its 100-worker ratio",
        ],
    )


def ten_thousand_spawns(spawns: int) -> str:
    """Real spawn + done transactions in-process (the CLI's own code path minus start-up)."""
    from aether.ops.colony.status import init_colony
    from aether.ops.spawn.spawn import SpawnRequest, spawn_worker
    from aether.ops.workers.report import finish
    from aether.routing.resolve import RouteRequest
    from aether.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp))
        init_colony(ws, "ten thousand spawns", force=False)
        started = time.perf_counter()
        for n in range(spawns):
            route = RouteRequest(("builder", "scout")[n % 2], f"task {n}")
            worker = spawn_worker(ws, SpawnRequest(route, no_proxy=True)).worker
            finish(ws, worker.id, ok=True)
        elapsed = time.perf_counter() - started
        size = ws.state_file.stat().st_size
        history = ws.workers_history.stat().st_size if ws.workers_history.exists() else 0
    rows = [
        [
            f"{spawns:,}",
            f"{size / 1024:.0f} KiB",
            f"{history / 1048576:.1f} MiB",
            f"{elapsed / spawns * 1000:.1f} ms",
        ]
    ]
    return table(
        rows,
        [
            "spawns (each then done)",
            "state file",
            "workers.history.jsonl",
            "per spawn+done, in-process",
        ],
    )


def dead_holder(aether: list[str], rounds: int = 5) -> str:
    delays: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        _run(aether, project, "init", "lock benchmark")
        for _ in range(rounds):
            procs = [start_script(script, project, bench_env())[0] for script in (HOLDER, WAITER)]
            time.sleep(0.2)
            killed = time.monotonic()
            os.kill(procs[0].pid, signal.SIGKILL)
            assert procs[1].stdout is not None
            delays.append(float(procs[1].stdout.readline()) - killed)
            for p in procs:
                p.wait()
    rows = [
        [f"{statistics.median(delays) * 1000:.1f} ms", f"{max(delays) * 1000:.1f} ms", str(rounds)]
    ]
    return table(rows, ["waiter delay after SIGKILL (median)", "worst", "rounds"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--spawns", type=int, default=10_000)
    args = parser.parse_args()
    aether = aether_cmd()
    print("### Every command\n")
    print(every_command(aether, args.runs) + "\n")
    print("### Cost versus colony age\n")
    print(colony_age(aether, args.runs) + "\n")
    print(f"### State size after {args.spawns:,} spawns\n")
    print(ten_thousand_spawns(args.spawns) + "\n")
    print("### A dead lock holder\n")
    print(dead_holder(aether))


if __name__ == "__main__":
    main()
