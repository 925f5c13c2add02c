"""Workers after they are spawned: ``aether worker report|heartbeat|done|fail|respawn``,
``aether workers`` and ``aether costs``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from aether.cli.common import JSON_OPTION, execute, lock_timeout, warn_each, workspace

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.workers.report import CostsResult, WorkerListResult, WorkerUpdateResult
    from aether.ops.workers.respawn import RespawnOutcome

worker_app = typer.Typer(
    help="Workers report back (report, heartbeat, done, fail); orphans are replaced "
    "(respawn) or closed (close).",
    no_args_is_help=True,
)


def _render_worker(result: WorkerUpdateResult, console: Console) -> None:
    w = result.worker
    console.print(f"{w.id}  {w.status}  {w.caste} on {w.model}", markup=False)
    warn_each(result.warnings)


@worker_app.command("report")
def worker_report(
    ctx: typer.Context,
    worker_id: str = typer.Argument(..., metavar="ID"),
    model_used: str = typer.Option(..., "--model-used", help="The model the worker ran on."),
    tokens_in: int | None = typer.Option(None, "--tokens-in", min=0),
    tokens_out: int | None = typer.Option(None, "--tokens-out", min=0),
    cost: float | None = typer.Option(None, "--cost", min=0, help="Cost in USD."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Report the model a worker used, and its tokens and cost (a mismatch is flagged)."""

    def run() -> WorkerUpdateResult:
        from aether.ops.workers.report import report

        return report(
            workspace(ctx),
            worker_id,
            model_used=model_used,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=cost,
            lock_timeout=lock_timeout(ctx),
        )

    result = execute(json_out, run, _render_worker)
    if json_out:
        warn_each(result.warnings)


@worker_app.command("heartbeat")
def worker_heartbeat(
    ctx: typer.Context,
    worker_id: str = typer.Argument(..., metavar="ID"),
    json_out: bool = JSON_OPTION,
) -> None:
    """Say the worker is alive (marks it running)."""

    def run() -> WorkerUpdateResult:
        from aether.ops.workers.report import heartbeat

        return heartbeat(workspace(ctx), worker_id, lock_timeout=lock_timeout(ctx))

    execute(json_out, run, _render_worker)


@worker_app.command("done")
def worker_done(
    ctx: typer.Context,
    worker_id: str = typer.Argument(..., metavar="ID"),
    json_out: bool = JSON_OPTION,
) -> None:
    """Mark the worker completed."""

    def run() -> WorkerUpdateResult:
        from aether.ops.workers.report import finish

        return finish(workspace(ctx), worker_id, ok=True, lock_timeout=lock_timeout(ctx))

    execute(json_out, run, _render_worker)


@worker_app.command("fail")
def worker_fail(
    ctx: typer.Context,
    worker_id: str = typer.Argument(..., metavar="ID"),
    reason: str = typer.Option(..., "--reason", help="Why it failed."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Mark the worker failed, with a reason."""

    def run() -> WorkerUpdateResult:
        from aether.ops.workers.report import finish

        return finish(
            workspace(ctx), worker_id, ok=False, reason=reason, lock_timeout=lock_timeout(ctx)
        )

    execute(json_out, run, _render_worker)


@worker_app.command("close")
def worker_close(
    ctx: typer.Context,
    worker_id: str = typer.Argument(..., metavar="ID", help="The lost or never-started worker."),
    reason: str = typer.Option(..., "--reason", help="Why nobody will re-run it."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Close a lost or never-started worker: it is listed as waiting no more."""

    def run() -> WorkerUpdateResult:
        from aether.ops.workers.report import close

        return close(workspace(ctx), worker_id, reason=reason, lock_timeout=lock_timeout(ctx))

    execute(json_out, run, _render_worker)


@worker_app.command("respawn")
def respawn(
    ctx: typer.Context,
    worker_id: str = typer.Argument(..., metavar="ID", help="The lost or never-started worker."),
    no_proxy: bool = typer.Option(
        False, "--no-proxy", help="Spawn without proxy verification (recorded as unverified)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Replace a lost or never-started worker: same caste, task and pinned model, linked.

    A Claude Code subagent is handed back instead: the next session's main agent is asked to
    re-run it, and that spawn is linked to it."""

    def run() -> RespawnOutcome:
        from aether.ops.workers.respawn import respawn_worker

        return respawn_worker(
            workspace(ctx), worker_id, no_proxy=no_proxy, lock_timeout=lock_timeout(ctx)
        )

    execute(json_out, run, _render_respawn)


def _render_respawn(result: RespawnOutcome, console: Console) -> None:
    if result.handed_back:
        console.print(
            f"Handed {result.lost_id} ({result.caste}) back to be re-run: the next Claude Code "
            "session's briefing asks its main agent to spawn it again, and that spawn is "
            "linked to it",
            markup=False,
        )
        return
    worker = result.worker or {}
    console.print(
        f"Respawned {result.lost_id} as {worker.get('id')} ({result.caste} on "
        f"{worker.get('model')}, pinned {result.pinned_model})",
        markup=False,
    )


def workers(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="Only this status."),
    json_out: bool = JSON_OPTION,
) -> None:
    """List the colony's workers: caste, model, verified, status, reported model."""

    def run() -> WorkerListResult:
        from aether.ops.workers.report import list_workers

        return list_workers(workspace(ctx), status=status)

    execute(json_out, run, _render_workers)


def _render_workers(result: WorkerListResult, console: Console) -> None:
    from aether.cli.plain import TextTable

    if not result.workers:
        console.print("no workers")
        return
    table = TextTable(
        "id", "caste", "model", "verified", "status", "model used", "spawned", whole=("id",)
    )
    from aether.worker_tree import indent

    for w, depth in zip(result.workers, result.depths, strict=True):
        used = (w.model_used or "") + (" MISMATCH" if w.model_mismatch else "")
        verified = "session" if w.is_main_session else ("yes" if w.verified else "NO")
        table.add_row(
            indent(depth) + w.id, w.caste, w.model, verified, w.status, used, w.spawned_at
        )
    console.print(table)


def costs(ctx: typer.Context, json_out: bool = JSON_OPTION) -> None:
    """Tokens and cost reported by workers, per model and per caste."""

    def run() -> CostsResult:
        from aether.ops.workers.report import costs as costs_op

        return costs_op(workspace(ctx))

    execute(json_out, run, _render_costs)


def _render_costs(result: CostsResult, console: Console) -> None:
    from aether.cli.plain import TextTable

    for title, rows in (("per model", result.by_model), ("per caste", result.by_caste)):
        numbers = ("workers", "tokens in", "tokens out", "cost USD")
        table = TextTable("name", *numbers, title=title, right=numbers)
        for name, b in rows.items():
            table.add_row(
                name,
                f"{b.get('workers', 0):g}",
                f"{b.get('tokens_in', 0):g}",
                f"{b.get('tokens_out', 0):g}",
                _cost_text(b),
            )
        console.print(table)


def _cost_text(bucket: dict[str, Any]) -> str:
    """A known cost in USD; ``unknown`` when no worker's cost is known; the known part and how
    many are unknown when some are."""
    known, unknown = bucket.get("cost_usd"), bucket.get("cost_unknown", 0)
    if known is None:
        return "unknown"
    return f"{known:.4f}" + (f" + {unknown} unknown" if unknown else "")


def register(app: typer.Typer) -> None:
    app.command()(workers)
    app.command()(costs)
    app.add_typer(worker_app, name="worker")
