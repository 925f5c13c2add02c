"""`aether route` as a whole process against a bare Typer hello-world (target <= 1.3x).

The target and the latest figures are in docs/performance.md.

    python -m benchmarks.bench_routing [--runs N]

Measures a warm profile cache (the normal case: the profile changes rarely, routes are asked
for often) and a cold one (the cache file removed before every run: YAML parse + validation).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from benchmarks.common import aether_cmd, bench_env, paired_header, paired_ratio, table

TASK = "Analyze the flaky login test and plan a fix"


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
        cache = project / ".aether" / "cache" / "profile.json"
        rows = []
        for label, argv, before in (
            ("aether route --json (warm cache)", ["route", TASK, "--caste", "builder", "--json"],
             None),
            ("aether route (warm cache, text)", ["route", TASK, "--caste", "builder"], None),
            ("aether route --json (cold cache)", ["route", TASK, "--caste", "builder", "--json"],
             lambda: cache.unlink(missing_ok=True)),
        ):  # fmt: skip
            ms, base, ratio = paired_ratio([*aether, *argv], runs=runs, cwd=project, before=before)
            rows.append([label, f"{ms:.0f}", f"{base:.0f}", f"{ratio:.2f}"])
    print(
        table(
            rows,
            paired_header(runs),
        )
    )


if __name__ == "__main__":
    main()
