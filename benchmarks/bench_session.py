"""pause / resume / status as whole processes: 100 workers, and 10,000 past workers.

    python -m benchmarks.bench_session [--runs N]

Each run starts from the same state file (written before the timed pause), then times
``pause``, ``resume`` and ``status`` in turn. The 10,000-past-workers colony is built by
injecting 10,000 finished workers and letting one real write compact them (200 stay in the
state, the rest move to data/workers.history.jsonl with per caste/model counts), which is what
keeps its times close to the 100-worker colony's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import BARE, aether_cmd, bench_env, table


def _worker(n: int, status: str) -> dict[str, Any]:
    caste = ("builder", "scout", "watcher", "chaos")[n % 4]
    return {
        "id": f"w-{caste}-{n:06d}",
        "caste": caste,
        "model": "claude-sonnet-4-5",
        "model_source": "caste-default",
        "model_reason": "bench",
        "profile_hash": "p-bench",
        "spawned_at": "2026-01-01T00:00:00Z",
        "status": status,
        "task": f"task {n}",
        "started_at": "2026-01-01T00:00:01Z" if status != "spawned" else None,
        "finished_at": "2026-01-01T00:10:00Z" if status == "completed" else None,
    }


def _colony(project: Path, aether: list[str], past: int) -> bytes:
    env = bench_env()
    subprocess.run(
        [*aether, "init", "bench colony"], cwd=project, env=env, check=True, capture_output=True
    )
    state_file = project / ".aether/data/COLONY_STATE.json"
    data = json.loads(state_file.read_text())
    data["workers"] = [_worker(n, "completed") for n in range(past)]
    data["workers"] += [_worker(past + n, "running" if n % 2 else "spawned") for n in range(100)]
    state_file.write_text(json.dumps(data))
    # one real write: the store compacts finished workers beyond the cap
    subprocess.run([*aether, "pause"], cwd=project, env=env, check=True, capture_output=True)
    data = json.loads(state_file.read_text())
    data["status"] = "active"
    return json.dumps(data).encode()


def _cycle(project: Path, aether: list[str], template: bytes, runs: int) -> dict[str, float]:
    """Median ratio to a bare Typer run made just before each command (pairs cancel drift)."""
    env = bench_env()
    state_file = project / ".aether/data/COLONY_STATE.json"
    ratios: dict[str, list[float]] = {"pause": [], "resume": [], "status": []}
    for i in range(runs + 2):
        state_file.write_bytes(template)
        for cmd in ("pause", "resume", "status"):
            t0 = time.perf_counter()
            subprocess.run(BARE, capture_output=True)
            t1 = time.perf_counter()
            done = subprocess.run([*aether, cmd], cwd=project, env=env, capture_output=True)
            t2 = time.perf_counter()
            if done.returncode != 0:
                raise SystemExit(f"aether {cmd} failed: {done.stderr.decode().strip()}")
            if i >= 2:
                ratios[cmd].append((t2 - t1) / (t1 - t0))
    return {k: statistics.median(v) for k, v in ratios.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    aether = aether_cmd()
    results: dict[str, dict[str, float]] = {}
    sizes: dict[str, int] = {}
    for label, past in (("100 workers", 0), ("100 workers + 10,000 past", 10_000)):
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            template = _colony(project, aether, past)
            sizes[label] = len(template)
            results[label] = _cycle(project, aether, template, args.runs)
    rows = []
    small = results["100 workers"]
    for label, res in results.items():
        for cmd, ratio in res.items():
            rows.append(
                [
                    f"aether {cmd}",
                    f"{label} ({sizes[label] // 1024} KiB state)",
                    f"{ratio:.2f}",
                    f"{ratio / small[cmd]:.2f}",
                ]
            )
    print(
        table(
            rows,
            [
                "command",
                "colony",
                f"× bare Typer (median of {args.runs} pairs)",
                "× 100-worker figure",
            ],
        )
    )


if __name__ == "__main__":
    main()
