"""Bounded state: events beyond the cap and finished workers beyond the cap leave the state
for append-only files — compacted, never silently discarded (docs/state-format.md)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunAether
from tests.helpers import inject_workers, state_of, worker, write_state


def test_events_and_finished_workers_are_compacted(run_aether: RunAether, colony: Path) -> None:
    data = state_of(colony)
    data["settings"]["event_cap"] = 3
    data["settings"]["finished_worker_cap"] = 4
    write_state(colony, data)
    inject_workers(
        colony,
        [
            worker(
                f"w-{n:02d}",
                "builder" if n % 2 else "scout",
                "claude-sonnet-4-5" if n % 2 else "claude-haiku-4-5",
                "completed",
            )
            for n in range(10)
        ]
        + [
            worker(
                "w-live",
                "builder",
                "claude-sonnet-4-5",
                "running",
                started_at="2026-01-01T00:00:00Z",
            )
        ],
    )
    for _ in range(3):
        assert run_aether("pause").returncode == 0
        assert run_aether("resume").returncode == 0
    state = state_of(colony)
    assert len(state["events"]) == 3
    archived = (colony / ".aether/data/events.archive.jsonl").read_text().splitlines()
    assert len(archived) == state["events_archived"] > 0
    assert all(json.loads(line)["type"] for line in archived)
    finished = [w for w in state["workers"] if w["status"] != "running"]
    assert len(finished) == 4
    history = [
        json.loads(x)
        for x in (colony / ".aether/data/workers.history.jsonl").read_text().splitlines()
    ]
    counted = sum(c["total"] for c in state["worker_counts"].values())
    assert counted == len(history) == 11 - len(state["workers"])
    assert set(state["worker_counts"]) <= {"builder/claude-sonnet-4-5", "scout/claude-haiku-4-5"}
    # nothing vanished: every worker id is in the state or the history file
    ids = {w["id"] for w in state["workers"]} | {w["id"] for w in history}
    assert ids == {f"w-{n:02d}" for n in range(10)} | {"w-live"}
