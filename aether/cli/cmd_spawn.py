"""``aether spawn``: route, prove and record a worker; ``--print-env`` and ``--exec`` hand it
over (the worker's own reports are in cmd_workers.py)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from aether.cli.common import JSON_OPTION, execute, fail, lock_timeout, warn_each, workspace

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.spawn.spawn import SpawnRequest, SpawnResult

_COMMAND = typer.Argument(None, help="The worker command (after --).")


def spawn(
    ctx: typer.Context,
    caste: str = typer.Option(..., "--caste", help="The worker's caste (e.g. builder)."),
    task: str | None = typer.Option(None, "--task", help="What the worker is to do."),
    model: str | None = typer.Option(None, "--model", help="Use this model (must be known)."),
    context_tokens: int | None = typer.Option(
        None,
        "--context-tokens",
        min=1,
        help="Expected context size; models too small are skipped.",
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
    _refuse_flag_mix(print_env=print_env, exec_=exec_, json_out=json_out, command=command)
    tool_list = tuple(t.strip() for t in tools.split(",")) if tools else ()
    ws_holder: list[Any] = []

    def run() -> SpawnResult:
        from aether.ops.spawn.spawn import SpawnRequest
        from aether.routing.resolve import RouteRequest

        ws = workspace(ctx)
        ws_holder.append(ws)
        route = RouteRequest(caste, task, model, context_tokens=context_tokens, tools=tool_list)
        request = SpawnRequest(route, no_proxy=no_proxy, lock_timeout=lock_timeout(ctx))
        return _spawn_or_fail(ws, request, json_out=json_out, handing_over=print_env or exec_)

    if print_env:
        result = execute(False, run, _render_nothing)
        warn_each(result.warnings)
        from aether.ops.spawn.worker_env import shell_exports

        sys.stdout.write(shell_exports(result.worker, result.endpoint, result.key_env))
        return
    if not exec_:
        result = execute(json_out, run, _render_spawn)
        warn_each(result.warnings)
        return
    # --exec: a failed spawn still prints its JSON error with --json; a successful one prints
    # nothing yet (the one JSON object is the finished worker)
    result = execute(False, run, _render_nothing)
    warn_each(result.warnings)
    _exec(ctx, ws_holder[0], result, list(command or []), timeout, json_out)


def _refuse_flag_mix(
    *, print_env: bool, exec_: bool, json_out: bool, command: list[str] | None
) -> None:
    if print_env and exec_:
        _usage("--print-env and --exec exclude each other")
    if print_env and json_out:
        _usage("--print-env prints shell lines; it excludes --json")
    if command and not exec_:
        _usage("a command was given without --exec")
    if exec_ and not command:
        _usage("--exec needs a command after --, e.g. --exec -- claude -p 'TASK'")


def _spawn_or_fail(
    ws: Any, request: SpawnRequest, *, json_out: bool, handing_over: bool
) -> SpawnResult:
    """The spawn; a failure that hands nothing over (``--print-env``, ``--exec``) is reported
    here, since the spawn's own result is never printed on those paths."""
    from aether.errors import AetherError, AllModelsFailed
    from aether.ops.spawn.spawn import spawn_worker

    try:
        return spawn_worker(ws, request)
    except AllModelsFailed as exc:
        if not json_out:  # people get the per-model table; --json carries it in the error
            from aether.redaction import redact

            sys.stderr.write(redact(attempts_table(exc.attempts)))
        if handing_over:
            raise fail(exc, json_out) from None
        raise
    except AetherError as exc:
        if handing_over:
            raise fail(exc, json_out) from None
        raise


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


def _exec(
    ctx: typer.Context,
    ws: Any,
    spawned: SpawnResult,
    argv: list[str],
    timeout: float | None,
    json_out: bool,
) -> None:
    from aether.cli.child import child_runner
    from aether.ops.spawn.worker_env import worker_env
    from aether.ops.spawn.worker_exec import ExecResult, exec_timeout_for, run_exec

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
    warn_each(result.warnings)
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


def register(app: typer.Typer) -> None:
    app.command()(spawn)
