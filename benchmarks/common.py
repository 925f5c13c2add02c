"""Timing helpers shared by the benchmark scripts: whole processes, medians, ratios."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BARE = [sys.executable, str(HERE / "bare_typer.py")]


def aether_cmd() -> list[str]:
    candidate = Path(sys.executable).parent / "aether"
    found = str(candidate) if candidate.exists() else shutil.which("aether")
    if not found:
        raise SystemExit("install aether first: pip install -e '.[test]'")
    return [found]


def bench_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETHER_")}
    env.update(extra)
    return env


def time_runs(
    argv: Sequence[str],
    *,
    runs: int = 15,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    warmup: int = 2,
    check: bool = True,
) -> list[float]:
    """Wall-clock seconds of ``runs`` whole-process executions (after ``warmup`` unmeasured)."""
    times: list[float] = []
    for i in range(warmup + runs):
        started = time.perf_counter()
        result = subprocess.run(
            list(argv), cwd=cwd, env=env or bench_env(), capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        if check and result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {result.stderr.strip()}")
        if i >= warmup:
            times.append(elapsed)
    return times


def median_ms(times: Sequence[float]) -> float:
    return statistics.median(times) * 1000


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def paired_header(runs: int) -> list[str]:
    """The columns of a table of ``paired_ratio`` rows: label, ms, bare ms, ratio."""
    return [
        "command",
        f"median ms ({runs} runs)",
        "bare Typer ms (paired)",
        "× bare Typer (median of pairs)",
    ]


def paired_ratio(
    argv: Sequence[str],
    *,
    runs: int = 15,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    before: Sequence[str] | Callable[[], None] | None = None,
    stdin: str | None = None,
) -> tuple[float, float, float]:
    """Run the bare Typer app and ``argv`` alternately; return (median ms of argv, median ms of
    the bare app, median of the per-pair ratios). Pairing cancels the slow drift of a shared
    machine, which otherwise moves a whole column between two medians taken minutes apart.
    ``before`` runs (unmeasured) ahead of each measured run: a command (``pause`` before
    ``resume``) or a function (put a fresh legacy file in place before ``migrate``). ``stdin``
    is written to the measured command (a hook's JSON).
    """
    mine: list[float] = []
    bare: list[float] = []
    for i in range(runs + 2):
        if callable(before):
            before()
        elif before is not None:
            subprocess.run(list(before), cwd=cwd, env=env or bench_env(), capture_output=True)
        t0 = time.perf_counter()
        subprocess.run(BARE, capture_output=True)
        t1 = time.perf_counter()
        result = subprocess.run(
            list(argv),
            cwd=cwd,
            env=env or bench_env(),
            capture_output=True,
            text=True,
            input=stdin,
        )
        t2 = time.perf_counter()
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {result.stderr.strip()}")
        if i >= 2:
            bare.append(t1 - t0)
            mine.append(t2 - t1)
    ratios = [m / b for m, b in zip(mine, bare, strict=True)]
    return (
        statistics.median(mine) * 1000,
        statistics.median(bare) * 1000,
        statistics.median(ratios),
    )


#: the columns of a table of ``session_rows``
SESSION_HEADER = ["session", "with aether (median s)", "plain (median s)", "× plain"]


def session_rows(times: dict[str, tuple[list[float], list[float]]]) -> list[list[str]]:
    """A row per case of paired agent sessions (seconds with aether, seconds in the plain
    project, run by run): the medians and the median of the per-pair ratios."""
    rows = []
    for label, (mine, theirs) in times.items():
        ratio = statistics.median(a / p for a, p in zip(mine, theirs, strict=True))
        rows.append(
            [
                label,
                f"{statistics.median(mine):.2f}",
                f"{statistics.median(theirs):.2f}",
                f"{ratio:.2f}",
            ]
        )
    return rows


def recorded_builders(project: Path) -> tuple[int, int, int]:
    """Every builder the colony of ``project`` recorded — in the state, and the finished ones
    the store moved past its cap into the workers' history —: (all, completed, completed with
    tokens)."""
    import json

    data = project / ".aether" / "data"
    state = json.loads((data / "COLONY_STATE.json").read_text())
    history = data / "workers.history.jsonl"
    lines = history.read_text().splitlines() if history.exists() else []
    past = [json.loads(line) for line in lines]
    builders = [w for w in [*past, *state["workers"]] if w.get("caste") == "builder"]
    done = [w for w in builders if w["status"] == "completed"]
    return len(builders), len(done), sum(1 for w in done if w.get("tokens_out"))


def aether_in(project: Path, env: dict[str, str], *args: str) -> str:
    """``aether ARGS`` run in ``project`` for a benchmark's set-up: its stdout; a failure ends
    the benchmark with aether's own line."""
    done = subprocess.run(
        [*aether_cmd(), *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise SystemExit(f"aether {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def compile_aether() -> None:
    """aether's bytecode compiled first, as ``pip install`` leaves it: this machine sets
    ``PYTHONDONTWRITEBYTECODE``, which would otherwise recompile aether's sources on every run
    while Typer's own bytecode is already cached."""
    import compileall

    compileall.compile_dir(str(HERE.parent / "aether"), quiet=1)


@contextmanager
def agent_session_bench() -> Iterator[tuple[int, Path, Any, Any]]:
    """What the agent-session benchmarks share: ``--runs`` from the command line (default 9),
    aether's bytecode compiled, the tests' scripted upstream and a real LiteLLM proxy in front
    of it, in a temporary directory — (runs, that directory, upstream, proxy); both stopped
    however the block ends."""
    import argparse
    import tempfile

    from tests.proxy.conftest import start_proxy
    from tests.proxy.upstream import Upstream

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    compile_aether()
    upstream = Upstream().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            proxy = start_proxy(root / "proxy", upstream_url=upstream.url)
            try:
                yield runs, root, upstream, proxy
            finally:
                proxy.stop()
    finally:
        upstream.stop()
