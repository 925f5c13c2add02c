"""`aether init` and `aether status` as whole processes against a bare Typer app.

python benchmarks/bench_foundation.py [--runs N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.common import aether_cmd, paired_header, paired_ratio, table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    aether = aether_cmd()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for label, argv in (
            ("aether init --force", ["init", "benchmark colony", "--force"]),
            ("aether status", ["status"]),
            ("aether status --json", ["status", "--json"]),
        ):
            ms, base, ratio = paired_ratio([*aether, *argv], runs=args.runs, cwd=project)
            rows.append([label, f"{ms:.0f}", f"{base:.0f}", f"{ratio:.2f}"])
    print(
        table(
            rows,
            paired_header(args.runs),
        )
    )


if __name__ == "__main__":
    main()
