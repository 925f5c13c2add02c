"""`aether spawn` as whole processes: --no-proxy vs a bare Typer app, a verified session on
loopback vs --no-proxy (the cost of verification), and 20 concurrent spawns.

    python -m benchmarks.bench_spawn [--runs N]

The verified case starts a REAL LiteLLM proxy (the test fixture's cached venv, mock models) and
warms the session (readiness, open-proxy check, first-use probe) before measuring: what remains
per spawn is the authenticated GET /v1/models that every spawn repeats (fail closed).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import aether_cmd, bench_env, paired_ratio, table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    aether = aether_cmd()
    from tests.proxy.conftest import MASTER_KEY, profile_text, start_proxy

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "p"
        project.mkdir()
        subprocess.run([*aether, "init", "bench"], cwd=project, check=True, capture_output=True)
        no_proxy, base, no_proxy_ratio = paired_ratio(
            [*aether, "spawn", "--caste", "builder", "--no-proxy"], runs=args.runs, cwd=project
        )
        proxy = start_proxy(Path(tmp) / "proxy")
        try:
            (project / ".aether" / "model-profiles.yaml").write_text(profile_text(proxy.url))
            env = bench_env(LITELLM_MASTER_KEY=MASTER_KEY)
            verified_cmd = [*aether, "spawn", "--caste", "builder"]
            plain_cmd = [*aether, "spawn", "--caste", "builder", "--no-proxy"]
            # warm the session: readiness, the open-proxy check and the first-use probe
            subprocess.run(verified_cmd, cwd=project, env=env, check=True, capture_output=True)
            verified, _, verified_ratio = paired_ratio(
                verified_cmd, runs=args.runs, cwd=project, env=env
            )
            # the cost of verification: verified and --no-proxy spawns alternately, same colony
            diffs = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                subprocess.run(verified_cmd, cwd=project, env=env, check=True, capture_output=True)
                t1 = time.perf_counter()
                subprocess.run(plain_cmd, cwd=project, env=env, check=True, capture_output=True)
                t2 = time.perf_counter()
                diffs.append((t1 - t0) - (t2 - t1))
        finally:
            proxy.stop()
        walls = []
        for _ in range(max(3, args.runs // 5)):
            started = time.perf_counter()
            procs = [
                subprocess.Popen(
                    [*aether, "spawn", "--caste", "scout", "--no-proxy"],
                    cwd=project,
                    env=bench_env(AETHER_LOCK_TIMEOUT="60"),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(20)
            ]
            codes = [p.wait() for p in procs]
            walls.append(time.perf_counter() - started)
            if any(codes):
                raise SystemExit(f"a concurrent spawn failed: {codes}")
    rows = [
        ["aether spawn --no-proxy", f"{no_proxy:.0f}", f"{base:.0f}", f"{no_proxy_ratio:.2f}"],
        [
            "aether spawn, verified session on loopback",
            f"{verified:.0f}",
            "",
            f"{verified_ratio:.2f}",
        ],
    ]
    print(
        table(
            rows,
            [
                "command",
                f"median ms ({args.runs} runs)",
                "bare Typer ms (paired)",
                "× bare Typer (median of pairs)",
            ],
        )
    )
    print(
        f"\nVerification cost (verified session − --no-proxy, alternating in one colony, "
        f"median of {len(diffs)} pairs): {statistics.median(diffs) * 1000:.1f} ms\n"
    )
    print(
        f"20 concurrent `aether spawn --no-proxy`: median wall {statistics.median(walls):.2f} s "
        f"over {len(walls)} rounds; all 20 exited 0 every round."
    )


if __name__ == "__main__":
    main()
