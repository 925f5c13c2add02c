"""`aether init` and `aether status` as whole processes against a bare Typer app.

python benchmarks/bench_foundation.py [--runs N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.common import BARE, aether_cmd, median_ms, table, time_runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    aether = aether_cmd()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        base = median_ms(time_runs(BARE, runs=args.runs))
        init = median_ms(
            time_runs([*aether, "init", "benchmark colony", "--force"], runs=args.runs, cwd=project)
        )
        status = median_ms(time_runs([*aether, "status"], runs=args.runs, cwd=project))
        status_json = median_ms(
            time_runs([*aether, "status", "--json"], runs=args.runs, cwd=project)
        )
    rows = [["bare Typer hello-world", f"{base:.0f}", "1.00"]]
    for label, ms in (
        ("aether init --force", init),
        ("aether status", status),
        ("aether status --json", status_json),
    ):
        rows.append([label, f"{ms:.0f}", f"{ms / base:.2f}"])
    print(table(rows, ["command", f"median ms ({args.runs} runs)", "× bare Typer"]))


if __name__ == "__main__":
    main()
