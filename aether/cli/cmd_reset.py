"""``aether reset``: archive, then clear the working state; memory and profile are kept."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, execute, fail, lock_timeout, workspace
from aether.cli.confirm import confirm_or_refuse, progress_bar

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.colony.reset import ResetResult
    from aether.workspace import Workspace


def reset(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be cleared and kept."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    forget_memory: bool = typer.Option(
        False,
        "--forget-memory",
        help="Also delete .aether/memory/ (after the archive; needs the colony id typed back).",
    ),
    confirm_colony: str | None = typer.Option(
        None,
        "--confirm-colony",
        metavar="ID_OR_NAME",
        help="With --forget-memory and no terminal: the colony id or name, as confirmation.",
    ),
    export: str | None = typer.Option(
        None, "--export", metavar="FILE", help="Also export the memory to FILE first."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Reset even while workers may still be running (their reports are then lost).",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Clear workers, plan, session, events and breaker state; keep memory and profile.

    Always archives first (a verified chamber) and says where. Refuses while workers may still
    be running, unless --force.
    """
    if dry_run:
        execute(json_out, lambda: _preview(ctx, forget_memory), _render_reset)
        return
    ws, confirmation = _confirmed_reset(
        ctx,
        yes=yes,
        force=force,
        forget_memory=forget_memory,
        confirm_colony=confirm_colony,
        json_out=json_out,
    )

    def run() -> ResetResult:
        from aether.ops.colony.reset import reset_colony

        with progress_bar(not json_out) as progress:
            return reset_colony(
                ws,
                forget_memory=forget_memory,
                forget_confirmation=confirmation,
                export=Path(export) if export else None,
                progress=progress,
                lock_timeout=lock_timeout(ctx),
                force=force,
            )

    execute(json_out, run, _render_reset)


def _preview(ctx: typer.Context, forget_memory: bool) -> ResetResult:
    """``--dry-run``: what a reset would clear and keep."""
    from aether.ops.colony.reset import preview_reset

    return preview_reset(workspace(ctx), forget_memory=forget_memory)


def _confirmed_reset(
    ctx: typer.Context,
    *,
    yes: bool,
    force: bool,
    forget_memory: bool,
    confirm_colony: str | None,
    json_out: bool,
) -> tuple[Workspace, str | None]:
    """The colony, once the reset may go ahead: nothing running (unless ``force``), the user
    agreed, and (``--forget-memory``) typed the colony back."""
    from aether.errors import AetherError

    try:
        ws = workspace(ctx)
    except AetherError as exc:
        raise fail(exc, json_out) from None
    if not force:  # before asking: a question that ends in a refusal wastes the user's time
        _refuse_while_running(ws, json_out)
    confirm_or_refuse(
        "Archive the colony, then clear its working state (memory is kept)?", yes, json_out
    )
    confirmation = _forget_confirmation(ws, confirm_colony, json_out) if forget_memory else None
    return ws, confirmation


def _refuse_while_running(ws: Workspace, json_out: bool) -> None:
    from aether.errors import AetherError
    from aether.ops.colony.reset import preview_reset, refuse_running

    try:
        refuse_running(preview_reset(ws).plan)
    except AetherError as exc:
        raise fail(exc, json_out) from None


def _render_reset(result: ResetResult, console: Console) -> None:
    plan = result.plan
    head = "Would clear" if result.dry_run else "Cleared"
    console.print(f"{head}:")
    for item in plan.cleared:
        console.print(f"  - {item['what']}: {item['detail']}", markup=False)
    console.print("Kept:" if not result.dry_run else "Would keep:")
    for item in plan.kept:
        console.print(f"  - {item['what']}: {item['detail']}", markup=False)
    if result.dry_run:
        console.print("Nothing was changed (dry run). A reset archives the colony first.")
        return
    if result.chamber:
        console.print(
            f"Archived first (verified): {result.chamber.path}", markup=False, soft_wrap=True
        )
    if result.export:
        console.print(f"Memory exported to {result.export}", markup=False)
    if result.memory_forgotten:
        console.print("Memory deleted (it remains in the chamber).")
    console.print(f"New session {result.session_id}.")


def _forget_confirmation(ws: Workspace, given: str | None, json_out: bool) -> str:
    from aether.errors import AetherError, ConfirmationRequired
    from aether.ops.colony.reset import preview_reset

    if given:
        return given
    if not sys.stdin.isatty():
        raise fail(
            ConfirmationRequired(
                "--forget-memory needs the colony id or name typed back, and there is no terminal",
                meaning="nothing was changed",
                fix="add --confirm-colony COLONY_ID (see `aether status`)",
            ),
            json_out,
        )
    try:
        plan = preview_reset(ws, forget_memory=True).plan
    except AetherError as exc:
        raise fail(exc, json_out) from None
    answer: str = typer.prompt(
        f"This deletes {plan.memory_items} memory items (they stay in the archive). "
        f"Type the colony id ({plan.colony_id}) or name to confirm",
        err=True,
    )
    return answer


def register(app: typer.Typer) -> None:
    app.command()(reset)
