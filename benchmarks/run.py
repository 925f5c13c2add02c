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

from benchmarks.common import HERE, compile_aether


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


PREAMBLE = """\
Every figure is a whole process (`subprocess.run` of the installed `aether` entry point) against
a bare Typer hello-world in the same environment (`benchmarks/bare_typer.py`), after two warm-up
runs. This machine's speed drifts by up to ±30 % over minutes, so every ratio is paired: the bare
app runs right before each measured run and the table reports the median of the per-pair ratios
(medians of raw milliseconds from different tables are not comparable). Regenerate with
`python -m benchmarks.run --output docs/performance.md`. Bytecode is compiled first, as `pip
install` does: this machine sets `PYTHONDONTWRITEBYTECODE=1`, which would otherwise recompile
aether's sources on every run while Typer's own bytecode is already cached. Targets from the
issues: each command ≤ 1.3× bare Typer; flat in colony age (≤ 1.2× from 100 to 10,000 past
workers); migrate of a small file ≤ 1.5×, and of a 3 MB 3.0 colony (10,000 events, 1,000
learnings) ≤ 1.5×; 20 concurrent spawns ≤ 1.1 s wall; a dead lock holder delays the next writer
≤ 0.1 s; a `claude -p` session with one subagent ≤ 1.15× the same session in a plain project,
≤ +2 KB per main-model request; every served hook through the launcher ≤ 40 ms, a routed and
recorded spawn ≤ 0.15× its own process.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", nargs="*", default=None, help="bench_<name> to run")
    parser.add_argument("--output", default=None, help="write the report to this file too")
    args = parser.parse_args()
    compile_aether()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    out: list[str] = []

    def emit(text: str) -> None:
        out.append(text)
        print(text, flush=True)

    emit(f"# Performance — measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    emit(f"Machine: {machine()}\n")
    emit(PREAMBLE)
    for script in scripts:
        emit(f"## {script.stem.removeprefix('bench_')}\n")
        result = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{script.stem}", "--runs", str(args.runs)],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            emit(f"_failed:_ `{result.stderr.strip().splitlines()[-1:]}`\n")
            continue
        emit(result.stdout.strip() + "\n")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
