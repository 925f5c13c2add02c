"""``aether spawn``, ``worker …``, ``workers``, ``costs`` and ``breaker …``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from aether.cli.common import JSON_OPTION, execute, fail, lock_timeout, warn, workspace

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.spawn import SpawnResult
    from aether.ops.workers import CostsResult, WorkerListResult, WorkerUpdateResult

worker_app = typer.Typer(
    help="Workers report back: report, heartbeat, done, fail.", no_args_is_help=True
)
_COMMAND = typer.Argument(None, help="The worker command (after --).")
breaker_app = typer.Typer(
    help="The per-model circuit breaker: status, reset.", no_args_is_help=True
)


def spawn(
    ctx: typer.Context,
    caste: str = typer.Option(..., "--caste", help="The worker's caste (e.g. builder)."),
    task: str | None = typer.Option(None, "--task", help="What the worker is to do."),
    model: str | None = typer.Option(None, "--model", help="Use this model (must be known)."),
    context_tokens: int | None = typer.Option(
        None, "--context-tokens", help="Expected context size; models too small are skipped."
    ),
    tools: str | None = typer.Option(None, "--tools", help="Comma-separated tool names."),
    no_proxy: bool = typer.Option(
        False, "--no-proxy", help="Skip proxy verification: the worker is recorded UNVERIFIED."
    ),
    print_env: bool = typer.Option(
        False, "--print-env", help="Print shell exports for the worker (eval them)."
    ),
    exec_: bool = typer.Option(
        False, "--exec", help="Run the command after `--` with the worker's environment."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", min=1, help="--exec timeout in seconds (default: model-aware)."
    ),
    command: list[str] | None = _COMMAND,
    json_out: bool = JSON_OPTION,
) -> None:
    """Spawn a worker on the model its caste calls for, proven through the LiteLLM proxy."""
    if print_env and exec_:
        _usage("--print-env and --exec exclude each other")
    if print_env and json_out:
        _usage("--print-env prints shell lines; it excludes --json")
    if command and not exec_:
        _usage("a command was given without --exec")
    if exec_ and not command:
        _usage("--exec needs a command after --, e.g. --exec -- claude -p 'TASK'")
    tool_list = tuple(t.strip() for t in tools.split(",")) if tools else ()
    ws_holder: list[Any] = []

    def run() -> SpawnResult:
        from aether.errors import AetherError, AllModelsFailed
        from aether.ops.spawn import SpawnRequest, spawn_worker
        from aether.routing.resolve import RouteRequest

        ws = workspace(ctx)
        ws_holder.append(ws)
        try:
            return spawn_worker(
                ws,
                SpawnRequest(
                    RouteRequest(
                        caste, task, model, context_tokens=context_tokens, tools=tool_list
                    ),
                    no_proxy=no_proxy,
                    lock_timeout=lock_timeout(ctx),
                ),
            )
        except AllModelsFailed as exc:
            if not json_out:  # people get the per-model table; --json carries it in the error
                from aether.activity import redact

                sys.stderr.write(redact(attempts_table(exc.attempts)))
            if print_env or exec_:
                raise fail(exc, json_out) from None
            raise
        except AetherError as exc:
            if print_env or exec_:  # the spawn's own result is not printed on these paths
                raise fail(exc, json_out) from None
            raise

    if print_env:
        result = execute(False, run, _render_nothing)
        _warnings(result.warnings)
        from aether.ops.worker_env import shell_exports

        sys.stdout.write(shell_exports(result.worker, result.endpoint, result.key_env))
        return
    if not exec_:
        result = execute(json_out, run, _render_spawn)
        _warnings(result.warnings)
        return
    # --exec: a failed spawn still prints its JSON error with --json; a successful one prints
    # nothing yet (the one JSON object is the finished worker)
    result = execute(False, run, _render_nothing)
    _warnings(result.warnings)
    _exec(ctx, ws_holder[0], result, list(command or []), timeout, json_out)


def attempts_table(attempts: list[dict[str, Any]]) -> str:
    """``AllModelsFailed`` for people: one row per model tried (plain text, on stderr)."""
    head = ("model", "outcome", "status", "timed out", "error")
    rows = [
        (
            str(a.get("model") or "?"),
            str(a.get("outcome") or ""),
            "-" if a.get("status") is None else str(a.get("status")),
            "yes" if a.get("timed_out") else "no",
            str(a.get("error") or "")[:120],
        )
        for a in attempts
    ]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(4)]
    lines = []
    for r in (head, *rows):
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
        )
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _usage(message: str) -> None:
    sys.stderr.write(f"aether: error: {message}.\n")
    raise typer.Exit(2)


def _warnings(warnings: list[str]) -> None:
    for w in warnings:
        warn(w)


def _exec(
    ctx: typer.Context,
    ws: Any,
    spawned: SpawnResult,
    argv: list[str],
    timeout: float | None,
    json_out: bool,
) -> None:
    from aether.cli.child import child_runner
    from aether.ops.worker_env import worker_env
    from aether.ops.worker_exec import ExecResult, exec_timeout_for, run_exec

    def run() -> ExecResult:
        limit = timeout if timeout is not None else exec_timeout_for(ws, spawned.worker.model)
        return run_exec(
            ws,
            spawned.worker,
            argv,
            worker_env(spawned.worker, spawned.endpoint, spawned.key_env),
            timeout_s=limit,
            run_child=child_runner(stdout_to_stderr=json_out),
            lock_timeout=lock_timeout(ctx),
        )

    result = execute(json_out, run, _render_exec)
    _warnings(result.warnings)
    if result.exit_code != 0:
        raise typer.Exit(result.exit_code)


def _render_nothing(result: Any, console: Console) -> None:
    return None


def _render_spawn(result: SpawnResult, console: Console) -> None:
    w = result.worker
    flag = "verified" if w.verified else "[bold red]UNVERIFIED[/bold red]"
    console.print(f"{w.id}  {w.caste} on [bold]{w.model}[/bold]  ({flag})")
    console.print(f"  source: {w.model_source}: {w.model_reason}", markup=False)
    how = w.verification.get("method")
    if how == "probe":
        console.print(
            f"  proved by a 1-token probe: deployment {w.verification.get('deployment')}",
            markup=False,
        )
    elif how == "models-list":
        console.print("  proved by the authenticated model list (probed earlier this session)")
    for a in w.attempts:
        if a.outcome != "ok":
            console.print(
                f"  tried {a.model}: {a.outcome} {a.status or ''} {a.error or ''}", markup=False
            )
    console.print(
        f'Next: eval "$(aether spawn --caste {w.caste} --print-env)" or '
        f"aether worker heartbeat {w.id}",
        markup=False,
    )


def _render_exec(result: Any, console: Console) -> None:
    w = result.worker
    console.print(f"{w.id} {w.status}: exit {w.exit_code}, {w.duration_s} s", markup=False)


def _render_worker(result: WorkerUpdateResult, console: Console) -> None:
    w = result.worker
    console.print(f"{w.id}  {w.status}  {w.caste} on {w.model}", markup=False)
    _warnings(result.warnings)


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
        from aether.ops.workers import report

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
        _warnings(result.warnings)


@worker_app.command("heartbeat")
def worker_heartbeat(
    ctx: typer.Context,
    worker_id: str = typer.Argument(..., metavar="ID"),
    json_out: bool = JSON_OPTION,
) -> None:
    """Say the worker is alive (marks it running)."""

    def run() -> WorkerUpdateResult:
        from aether.ops.workers import heartbeat

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
        from aether.ops.workers import finish

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
        from aether.ops.workers import finish

        return finish(
            workspace(ctx), worker_id, ok=False, reason=reason, lock_timeout=lock_timeout(ctx)
        )

    execute(json_out, run, _render_worker)


def workers(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="Only this status."),
    json_out: bool = JSON_OPTION,
) -> None:
    """List the colony's workers: caste, model, verified, status, reported model."""

    def run() -> WorkerListResult:
        from aether.ops.workers import list_workers

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
    for w in result.workers:
        used = (w.model_used or "") + (" MISMATCH" if w.model_mismatch else "")
        table.add_row(
            w.id, w.caste, w.model, "yes" if w.verified else "NO", w.status, used, w.spawned_at
        )
    console.print(table)


def costs(ctx: typer.Context, json_out: bool = JSON_OPTION) -> None:
    """Tokens and cost reported by workers, per model and per caste."""

    def run() -> CostsResult:
        from aether.ops.workers import costs as costs_op

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
                f"{b.get('cost_usd', 0):.4f}",
            )
        console.print(table)


class _BreakerResult:
    def __init__(
        self, rows: list[dict[str, Any]], reset: str | None = None, was_open: bool | None = None
    ) -> None:
        self.rows, self.reset, self.was_open = rows, reset, was_open

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": True, "models": self.rows}
        if self.reset is not None:
            out.update(reset=self.reset, had_state=self.was_open)
        return out


def _breaker(ctx: typer.Context) -> Any:
    from aether.routing.breaker import Breaker
    from aether.routing.loader import load_profile_file

    ws = workspace(ctx)
    dump = load_profile_file(ws.profile_file, ws.cache_dir).dump
    b = dump.get("breaker") or {}
    return Breaker(
        ws,
        failures=int(b.get("failures", 3)),
        cooldown_s=float(b.get("cooldown_s", 60)),
        lock_timeout=lock_timeout(ctx),
    )


@breaker_app.command("status")
def breaker_status(ctx: typer.Context, json_out: bool = JSON_OPTION) -> None:
    """Show each model's breaker: closed, open (until when) or half-open."""
    execute(json_out, lambda: _BreakerResult(_breaker(ctx).status()), _render_breaker)


@breaker_app.command("reset")
def breaker_reset(
    ctx: typer.Context,
    model: str = typer.Argument(..., metavar="MODEL"),
    json_out: bool = JSON_OPTION,
) -> None:
    """Close MODEL's breaker now (forget its failures)."""

    def run() -> _BreakerResult:
        breaker = _breaker(ctx)
        had = breaker.reset(model)
        return _BreakerResult(breaker.status(), reset=model, was_open=had)

    execute(json_out, run, _render_breaker)


def _render_breaker(result: _BreakerResult, console: Console) -> None:
    if result.reset is not None:
        console.print(
            f"breaker of {result.reset} reset"
            if result.was_open
            else f"{result.reset} had no breaker state",
            markup=False,
        )
    if not result.rows:
        console.print("every breaker is closed (no failures recorded)")
    for r in result.rows:
        extra = f" until {r['retry_at']}" if r["state"] == "open" else ""
        console.print(
            f"{r['model']}: {r['state']}{extra}, {r['consecutive_failures']}/"
            f"{r['threshold']} consecutive failures; last: {r['last_error'] or '-'}",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.command()(spawn)
    app.command()(workers)
    app.command()(costs)
    from aether.cli.cmd_session import respawn

    worker_app.command("respawn")(respawn)
    app.add_typer(worker_app, name="worker")
    app.add_typer(breaker_app, name="breaker")
