"""Run every benchmark and print one Markdown report (what docs/performance.md publishes).

    python -m benchmarks.run [--runs N]

Each ``benchmarks/bench_*.py`` is a script printing Markdown tables; this runs them in turn as
separate processes (so one's imports cannot warm another's) and adds the machine they ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime

from benchmarks.common import HERE


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kib = int(fh.readline().split()[1])
            mem = f", {kib / 1048576:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{mem}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", nargs="*", default=None, help="bench_<name> to run")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    print(f"# aether benchmarks — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"Machine: {machine()}\n")
    for script in scripts:
        print(f"## {script.stem.removeprefix('bench_')}\n", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{script.stem}", "--runs", str(args.runs)],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            print(f"_failed:_ `{result.stderr.strip().splitlines()[-1:]}`\n")
            continue
        print(result.stdout.strip() + "\n", flush=True)


if __name__ == "__main__":
    main()
