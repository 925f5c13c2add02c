"""Recording what a runtime says a worker used: tokens (and cost) per model, on the worker.

Shared by the ``subagent-stop`` hook (a subagent's transcript) and ``spawn --exec`` (what a
headless run's output says, read by its runtime: a Claude Code run's final result, a Codex
run's JSONL events and rollouts). Model names are mapped to the profile's own names first
(``RoutingTable.reported_model``), so ``cc-opus[1m]`` and ``cc-opus`` are one model, in the
record and in ``aether costs``.
"""

from __future__ import annotations

from typing import Any

from aether.errors import ProfileProblem
from aether.routing.table import RoutingTable
from aether.runtimes.usage import HeadlessRun, ModelUsage
from aether.state.model import ColonyState, Worker
from aether.workspace import Workspace


def routing_table(ws: Workspace) -> RoutingTable:
    from aether.routing.loader import load_profile_file

    return load_profile_file(ws.profile_file, ws.cache_dir).table


def profile_table(ws: Workspace) -> RoutingTable | None:
    """The routing table, or None when the profile cannot be read (a report is still
    recorded, with the names as reported)."""
    try:
        return routing_table(ws)
    except ProfileProblem:
        return None


def canonical(table: RoutingTable | None, model: str) -> str:
    return table.reported_model(model) if table is not None else model


def record_usage(
    worker: Worker,
    by_model: dict[str, ModelUsage],
    table: RoutingTable | None,
    *,
    cost_usd: float | None = None,
) -> None:
    """Set the worker's per-model usage, its totals and ``model_used`` (the model that wrote
    the most output)."""
    merged: dict[str, dict[str, Any]] = {}
    for model, usage in by_model.items():
        bucket = merged.setdefault(canonical(table, model), {})
        for key, value in usage.to_json().items():
            bucket[key] = round(bucket.get(key, 0) + value, 6)
    if not merged:
        return
    worker.usage_by_model = merged
    worker.tokens_in = sum(int(b.get("tokens_in", 0)) for b in merged.values())
    worker.tokens_out = sum(int(b.get("tokens_out", 0)) for b in merged.values())
    worker.model_used = max(merged, key=lambda m: (merged[m].get("tokens_out", 0), m))
    if cost_usd is not None:
        worker.cost_usd = round(cost_usd, 6)


def record_headless_run(
    ws: Workspace, state: ColonyState, worker: Worker, run: HeadlessRun
) -> None:
    """What a headless worker's output says it used (``spawn --exec``; the worker's runtime
    reads it: aether.runtimes.registry.headless_reader): tokens per model on the worker, and a
    mismatch when its main agent ran on another model than the assigned one — the model the
    runtime names for it, else the one that wrote the most output. The worker's own subagents
    may use others."""
    worker.runtime = dict(run.runtime)
    table = profile_table(ws)
    if run.by_model:
        record_usage(worker, run.by_model, table, cost_usd=run.cost_usd)
    if run.unattributed is not None:
        # the tokens are the runtime's word; which model used them is not known
        worker.tokens_in = (worker.tokens_in or 0) + run.unattributed.tokens_in
        worker.tokens_out = (worker.tokens_out or 0) + run.unattributed.output_tokens
    if run.main_models is None:
        ran = worker.model_used
        others = [ran] if ran is not None and ran != worker.model else []
    else:
        main = [canonical(table, m) for m in run.main_models]
        if main:
            worker.model_used = main[-1]
        others = [m for m in main if m != worker.model]
    if others:
        flag_mismatch(ws, state, worker, others, run.mismatch_how, run.source)


def flag_mismatch(
    ws: Workspace,
    state: ColonyState,
    worker: Worker,
    others: list[str],
    how: str,
    source: str,
) -> None:
    """Record that ``worker`` ran on ``others``, not its assigned model: the flag, an event
    (``status`` and HANDOFF.md read them) and an activity line (model names only)."""
    from aether import activity

    worker.model_mismatch = True
    state.add_event(
        "model_mismatch",
        f"{worker.id}: {how} {', '.join(others)}, assigned {worker.model}",
        worker_id=worker.id,
        assigned=worker.model,
        reported=others,
        source=source,
    )
    activity.log(ws, "model_mismatch", worker_id=worker.id, assigned=worker.model, reported=others)
