"""Time ``aether migrate`` as a whole process against a bare Typer hello-world.

Cases: a copy of the real 2.0 anchor file (../shared/anchor-states/v2.0.*.json); generated
3.0 files with 1,000 / 5,000 / 10,000 events and 100 / 500 / 1,000 learnings, written compactly
(to show the cost is linear in size); and the large colony as the old tool wrote it — indented,
every event an object with its details, every learning with its evidence, like the real 3.0
anchors — 10,000 events and 1,000 learnings, ~3 MB (the issue's target: <= 1.5x). Each run
migrates a fresh copy (a migrated file would be a no-op). Prints a Markdown table of medians
over ``--runs`` runs (default 11).

    python -m benchmarks.bench_migrate [--runs N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import aether_cmd, compile_aether, paired_ratio

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "anchor-states"


def synthetic_3_0(events: int, learnings: int) -> dict[str, Any]:
    return {
        "version": "3.0",
        "goal": "Synthetic colony for the migrate benchmark",
        "state": "EXECUTING",
        "current_phase": "3",
        "session_id": "session_bench",
        "initialized_at": "2026-02-01T00:00:00Z",
        "plan": {
            "generated_at": "2026-02-01T00:10:00Z",
            "confidence": 80,
            "phases": [
                {"number": n, "name": f"Phase {n}", "status": "pending",
                 "tasks": [{"id": f"{n}.{t}", "goal": f"Task {n}.{t}"} for t in range(1, 6)]}
                for n in range(1, 11)
            ],
        },
        "memory": {
            "phase_learnings": [
                {"id": f"learning_{i}", "phase": i % 10,
                 "learnings": [{"claim": f"Learning number {i}: keep writes atomic",
                                "status": "validated"}],
                 "timestamp": "2026-02-01T01:00:00Z"}
                for i in range(learnings)
            ],
            "decisions": [{"decision": f"Decision {i}"} for i in range(learnings // 10)],
            "instincts": [],
        },
        "errors": {"records": [], "flagged_patterns": []},
        "signals": [],
        "events": [
            f"2026-02-01T02:{i % 60:02d}:00Z | task_done | builder | finished task {i}"
            if i % 2
            else {"timestamp": "2026-02-01T02:00:00Z", "type": "tick", "worker": "queen",
                  "details": f"event {i}"}
            for i in range(events)
        ],
        "paused": False,
        "model_profile": {"active_profile": "default", "proxy_endpoint": "http://localhost:4000"},
    }  # fmt: skip


EVENT_TYPES = ("task_started", "task_completed", "phase_started", "worker_spawned", "swarm_done")
WORKERS = ("builder", "watcher", "scout", "queen", "swarm")


def as_the_old_tool_wrote_it(events: int, learnings: int) -> dict[str, Any]:
    """A large 3.0 colony in the shape of the real anchors (object events with details,
    learnings with status and evidence, decisions with a rationale); written indented."""
    doc = synthetic_3_0(0, 0)
    doc.update(
        current_phase=3,
        milestone="First Mound",
        build_started_at="2026-02-01T00:05:00Z",
        created_at="2026-02-01T00:00:00Z",
        last_updated="2026-02-14T02:39:18.211Z",
        graveyards=[],
    )
    doc["memory"] = {
        "phase_learnings": [
            {
                "id": f"learning_{i}",
                "phase": i % 10,
                "learnings": [
                    {
                        "claim": f"Learning {i}: writes go through a temp file, fsync and an "
                        "atomic rename so a crash never tears the state",
                        "status": "validated",
                        "tested": True,
                        "evidence": f"Validated in phase {i % 10} by the watcher",
                    }
                ],
                "source": "worker:builder",
                "timestamp": "2026-02-01T01:00:00Z",
            }
            for i in range(learnings)
        ],
        "decisions": [
            {
                "decision": f"Decision {i}",
                "rationale": "keeps the state readable",
                "timestamp": "2026-02-01T01:00:00Z",
            }
            for i in range(learnings // 10)
        ],
        "instincts": [],
    }
    doc["events"] = [
        {
            "timestamp": f"2026-02-{1 + i // 1440 % 28:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z",
            "type": EVENT_TYPES[i % 5],
            "worker": WORKERS[i % 5],
            "details": f"Event {i}: the {WORKERS[i % 5]} finished task {i % 50} of phase {i % 10} "
            "after checking the lock, the backup and the atomic write path",
        }
        for i in range(events)
    ]
    return doc


def bench_file(source: Path, runs: int, work: Path) -> tuple[float, float]:
    """(median ms, median of per-pair ratios to bare Typer) of ``aether migrate`` on a fresh
    copy of ``source`` each run."""
    project = work / source.stem
    data = project / ".aether" / "data"

    def fresh() -> None:
        shutil.rmtree(project, ignore_errors=True)
        data.mkdir(parents=True)
        shutil.copy(source, data / "COLONY_STATE.json")

    fresh()
    ms, _, ratio = paired_ratio([*aether_cmd(), "migrate"], runs=runs, cwd=project, before=fresh)
    return ms, ratio


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args(argv)
    compile_aether()
    rows: list[tuple[str, int, tuple[float, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        anchors = sorted(SHARED.glob("v2.0.*.json")) if SHARED.is_dir() else []
        if anchors:
            rows.append(
                (
                    "migrate: real 2.0 anchor",
                    anchors[0].stat().st_size,
                    bench_file(anchors[0], args.runs, work),
                )
            )
        else:
            print(f"(skipping the real 2.0 file: {SHARED} is absent)", file=sys.stderr)
        for events, learnings in ((1_000, 100), (5_000, 500), (10_000, 1_000)):
            path = work / f"synthetic-{events}.json"
            path.write_text(json.dumps(synthetic_3_0(events, learnings)), encoding="utf-8")
            rows.append(
                (
                    f"migrate: 3.0, {events:,} events, {learnings:,} learnings",
                    path.stat().st_size,
                    bench_file(path, args.runs, work),
                )
            )
        large = work / "old-tool-10000.json"
        doc = as_the_old_tool_wrote_it(10_000, 1_000)
        large.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        rows.append(
            (
                "migrate: 3.0 as the old tool wrote it (indented), 10,000 events, 1,000 learnings",
                large.stat().st_size,
                bench_file(large, args.runs, work),
            )
        )
    print(f"{args.runs} runs each, whole processes, each paired with a bare Typer run\n")
    print("| case | file size | median | × bare Typer (median of pairs) |")
    print("|---|---:|---:|---:|")
    for name, size, (ms, ratio) in rows:
        print(f"| {name} | {size / 1024:,.0f} KiB | {ms:,.0f} ms | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
