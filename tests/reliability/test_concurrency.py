"""Concurrency suite: 50 real ``aether`` processes on one colony, and a SIGKILLed lock holder.

No lost update: the serial grows by exactly the number of acknowledged state writes, and every
acknowledged worker and memory item is present. No process fails except by the documented lock
timeout (exit 22).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from aether.memory import load_all
from aether.state.store import Store
from aether.workspace import Workspace
from tests.helpers import AETHER, clean_env
from tests.lock_scripts import HOLDER, WAITER, start_script

LOCK_TIMEOUT_EXIT = 22


def _aether(project: Path, *args: str) -> dict[str, object]:
    result = subprocess.run(
        [AETHER, *args], cwd=project, env=clean_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (args, result.stderr)
    payload = json.loads(result.stdout)
    assert isinstance(payload, dict)
    return payload


def _serial(project: Path) -> int:
    return Store(Workspace(project)).load().state.serial


def test_fifty_concurrent_processes_lose_nothing(fresh_colony: Path) -> None:
    project = fresh_colony
    seeded = [
        str(_aether(project, "spawn", "--caste", "builder", "--no-proxy", "--json")["id"])
        for _ in range(5)
    ]
    # how many state writes one of each command makes, measured rather than assumed
    writes_per: dict[str, int] = {}
    for name, argv in {
        "spawn": ["spawn", "--caste", "scout", "--no-proxy", "--json"],
        "report": ["worker", "heartbeat", seeded[0], "--json"],
        "memory": ["memory", "add", "learning", "calibration", "--json"],
        "pause": ["pause", "--json"],
        # a second pause: the colony is now paused, as it is for every concurrent pause below
        "repause": ["pause", "--json"],
    }.items():
        before = _serial(project)
        _aether(project, *argv)
        writes_per[name] = _serial(project) - before
    assert writes_per["spawn"] == 1 and writes_per["report"] == 1
    writes_per["pause"] = writes_per.pop("repause")

    jobs: list[tuple[str, list[str]]] = []
    for i in range(50):
        kind = ("spawn", "report", "memory", "status", "pause")[i % 5]
        if kind == "spawn":
            argv = [
                "spawn",
                "--caste",
                ("builder", "watcher", "scout")[i % 3],
                "--task",
                f"concurrent task {i}",
                "--no-proxy",
                "--json",
            ]
        elif kind == "report":
            argv = ["worker", "heartbeat", seeded[i % len(seeded)], "--json"]
        elif kind == "memory":
            argv = ["memory", "add", "decision", f"concurrent decision {i}", "--json"]
        elif kind == "status":
            argv = ["status", "--json"]
        else:
            argv = ["pause", "--json"]
        jobs.append((kind, argv))

    start_serial = _serial(project)
    env = clean_env(AETHER_LOCK_TIMEOUT="60")
    started = time.monotonic()
    procs = [
        (
            kind,
            subprocess.Popen(
                [AETHER, *argv],
                cwd=project,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for kind, argv in jobs
    ]
    results = [(kind, *p.communicate(timeout=300), p.returncode) for kind, p in procs]
    wall = time.monotonic() - started

    acknowledged_writes = 0
    workers: set[str] = set()
    memory: set[str] = set()
    for kind, out, err, code in results:
        assert code in (0, LOCK_TIMEOUT_EXIT), (kind, code, err)
        assert "Traceback" not in err
        if code != 0:
            continue
        payload = json.loads(out)  # exactly one JSON object, even under contention
        if kind == "spawn":
            workers.add(payload["id"])
        elif kind == "memory":
            memory.add(payload["item"]["text"])
        acknowledged_writes += writes_per.get(kind, 0)

    state = Store(Workspace(project)).load().state
    assert state.serial - start_serial == acknowledged_writes, "a write was lost"
    present = {w.id for w in state.workers}
    assert workers <= present
    remembered = {
        i.text for items in load_all(Workspace(project).memory_dir).values() for i in items
    }
    assert memory <= remembered
    print(f"\n50 concurrent processes: {wall:.2f} s wall, {acknowledged_writes} writes")


def test_sigkilled_holder_delays_waiters_by_at_most_100ms(fresh_colony: Path) -> None:
    def start(script: str) -> subprocess.Popen[str]:
        return start_script(script, fresh_colony, clean_env())[0]

    holder = start(HOLDER)
    waiters = [start(WAITER) for _ in range(5)]  # each has found the lock held
    killed_at = time.monotonic()
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    acquired = []
    for w in waiters:
        assert w.stdout is not None
        acquired.append(float(w.stdout.readline()))
        w.wait(timeout=30)
    first_delay = min(acquired) - killed_at
    assert first_delay <= 0.1, f"the first waiter got the lock {first_delay * 1000:.0f} ms late"
    print(f"\ndead holder: first waiter after {first_delay * 1000:.1f} ms")
