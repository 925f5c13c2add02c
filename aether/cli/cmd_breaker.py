"""``aether breaker status | reset``: the per-model circuit breakers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, execute, lock_timeout, workspace

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.routing.breakers import BreakerReport

breaker_app = typer.Typer(
    help="The per-model circuit breaker: status, reset.", no_args_is_help=True
)


@breaker_app.command("status")
def breaker_status(ctx: typer.Context, json_out: bool = JSON_OPTION) -> None:
    """Show each model's breaker: closed, open (until when) or half-open."""

    def run() -> BreakerReport:
        from aether.ops.routing.breakers import breaker_status as status_op

        return status_op(workspace(ctx), lock_timeout=lock_timeout(ctx))

    execute(json_out, run, _render_breaker)


@breaker_app.command("reset")
def breaker_reset(
    ctx: typer.Context,
    model: str = typer.Argument(..., metavar="MODEL"),
    json_out: bool = JSON_OPTION,
) -> None:
    """Close MODEL's breaker now (forget its failures)."""

    def run() -> BreakerReport:
        from aether.ops.routing.breakers import reset_breaker

        return reset_breaker(workspace(ctx), model, lock_timeout=lock_timeout(ctx))

    execute(json_out, run, _render_breaker)


def _render_breaker(result: BreakerReport, console: Console) -> None:
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
    app.add_typer(breaker_app, name="breaker")
