"""``aether init`` and ``aether status``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, execute, init_workspace, workspace

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.colony.status import InitResult, StatusResult


def init(
    ctx: typer.Context,
    goal: str = typer.Argument(..., help="What the colony is for."),
    name: str | None = typer.Option(None, "--name", help="A short name for the colony."),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing colony (it is backed up first)."
    ),
    nested: bool = typer.Option(
        False,
        "--nested",
        help="Create a colony inside another colony's project (commands run below this "
        "directory then use the new one).",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Create a colony in .aether/ (refuses to replace one without --force, or to nest one
    inside another colony's project without --nested)."""

    def run() -> InitResult:
        from aether.ops.colony.status import init_colony

        return init_colony(init_workspace(ctx), goal, force=force, name=name, nested=nested)

    execute(json_out, run, _render_init)


def _render_init(result: InitResult, console: Console) -> None:
    # goals and paths are the user's text: never read as markup
    console.print(f"Colony created in {result.ws.root}", markup=False)
    console.print(f"  goal:    {result.state.goal}", markup=False)
    console.print(f"  id:      {result.state.colony_id}", markup=False)
    if result.replaced_backup:
        console.print(
            f"  the previous colony was backed up to {result.replaced_backup}", markup=False
        )
    if result.profile_written:
        console.print(f"  profile: {result.ws.profile_file} (default; edit to taste)", markup=False)
    console.print("Next: aether status")


def status(ctx: typer.Context, json_out: bool = JSON_OPTION) -> None:
    """Show the colony: goal, status, phase, workers by caste and model, last events."""

    def run() -> StatusResult:
        from aether.ops.colony.status import colony_status

        return colony_status(workspace(ctx))

    execute(json_out, run, _render_status)


def _render_status(result: StatusResult, console: Console) -> None:
    s = result.state
    from aether.cli.plain import styled

    console.print(styled("bold", s.goal))
    status = s.status + (f" ({s.status_detail})" if s.status_detail else "")
    console.print(
        f"status: {status}   phase: {s.current_phase if s.current_phase is not None else '-'}"
        f"   session: {s.session.id}   serial: {s.serial}"
    )
    if result.upgraded_from:
        console.print(
            f"[yellow]state is format {result.upgraded_from}; shown upgraded in memory. "
            "Run `aether migrate` to convert the file.[/yellow]"
        )
    if s.plan.phases:
        console.print(f"plan: {len(s.plan.phases)} phases")
    if result.workers_by_caste_model:
        rows = [("caste", "model", "count")] + [
            (c, m, str(n)) for c, m, n in result.workers_by_caste_model
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        console.print("workers by caste and model:")
        for i, (caste, model, count) in enumerate(rows):
            line = f"  {caste:<{widths[0]}}  {model:<{widths[1]}}  {count:>{widths[2]}}"
            console.print(f"[bold]{line}[/bold]" if i == 0 else line, markup=i == 0)
    else:
        console.print("workers: none yet")
    _render_tree(result, console)
    if result.unverified_active:
        console.print(
            f"[yellow]{result.unverified_active} active worker(s) were spawned without proxy "
            "verification (--no-proxy)[/yellow]"
        )
    if result.mismatched:
        console.print(
            f"[red]{result.mismatched} worker(s) reported a model different from the one "
            "assigned[/red]"
        )
    if s.events:
        console.print("last events:")
        for e in s.events[-5:]:
            console.print(f"  {e.ts}  {e.type}  {e.message}", markup=False)
    if result.temp_files:
        console.print(f"{result.temp_files} leftover temp file(s); the next write removes them")


def _render_tree(result: StatusResult, console: Console) -> None:
    """This colony session's agent sessions and the workers each ran, as a tree."""
    from aether.session_report import session_label, tokens_text
    from aether.worker_tree import indent

    if not result.tree:
        return
    console.print("this session's workers (who spawned whom):")
    for depth, w in result.tree:
        if w.is_main_session:
            line = f"{session_label(w)}: {w.model}, {tokens_text(w)}"
        else:
            line = f"{w.id}  {w.caste} on {w.model}  {w.status}"
        console.print(f"  {indent(depth)}{line}", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(status)
