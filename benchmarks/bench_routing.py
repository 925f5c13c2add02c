"""`aether route` as a whole process against a bare Typer hello-world (issue 4: target <= 1.3x).

    python -m benchmarks.bench_routing [--runs N]

Measures a warm profile cache (the normal case: the profile changes rarely, routes are asked
for often) and a cold one (the cache file removed before every run: YAML parse + validation).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from benchmarks.common import BARE, aether_cmd, bench_env, median_ms, table, time_runs

TASK = "Analyze the flaky login test and plan a fix"


def _cold_runs(aether: list[str], project: Path, runs: int) -> list[float]:
    import time

    cache = project / ".aether" / "cache" / "profile.json"
    times: list[float] = []
    for i in range(runs + 2):
        cache.unlink(missing_ok=True)
        started = time.perf_counter()
        subprocess.run([*aether, "route", TASK, "--caste", "builder", "--json"], cwd=project,
                       env=bench_env(), capture_output=True, check=True)  # fmt: skip
        if i >= 2:
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    runs = max(10, args.runs)
    aether = aether_cmd()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        subprocess.run([*aether, "init", "routing benchmark"], cwd=project, check=True,
                       capture_output=True, env=bench_env())  # fmt: skip
        base = median_ms(time_runs(BARE, runs=runs))
        rows = [["bare Typer hello-world", f"{base:.0f}", "1.00"]]
        for label, argv in (
            ("aether route --json (warm cache)", ["route", TASK, "--caste", "builder", "--json"]),
            ("aether route (warm cache, text)", ["route", TASK, "--caste", "builder"]),
        ):
            ms = median_ms(time_runs([*aether, *argv], runs=runs, cwd=project))
            rows.append([label, f"{ms:.0f}", f"{ms / base:.2f}"])
        cold = median_ms(_cold_runs(aether, project, runs))
        rows.append(["aether route --json (cold cache)", f"{cold:.0f}", f"{cold / base:.2f}"])
    print(table(rows, ["command", f"median ms ({runs} runs)", "× bare Typer"]))


if __name__ == "__main__":
    main()
