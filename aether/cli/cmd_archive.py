"""``aether archive [--name N] [--reset]`` and ``archive list|verify|restore``.

Shape: ``archive`` is a Typer group whose callback (``invoke_without_command=True``) creates a
chamber when no subcommand is given, so ``aether archive`` archives and ``aether archive list``
lists. A chamber is never addressed positionally by the callback, so a chamber called "list"
cannot be confused with the subcommand.

Confirmation and progress for the destructive and long commands are aether/cli/confirm.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, execute, init_workspace, lock_timeout, workspace
from aether.cli.confirm import confirm_or_refuse, progress_bar

if TYPE_CHECKING:
    from rich.console import Console

    from aether.chamber import VerifyResult
    from aether.ops.colony.archive import ArchiveResult, ChamberListResult
    from aether.ops.colony.restore import RestoreResult
    from aether.workspace import Workspace

archive_app = typer.Typer(
    name="archive",
    help="Verified copies of the colony in .aether/chambers/ (run alone to create one).",
    invoke_without_command=True,
    rich_markup_mode=None,
)


@archive_app.callback()
def archive(
    ctx: typer.Context,
    name: str | None = typer.Option(
        None, "--name", help="Label for the chamber (default: the colony name or goal)."
    ),
    reset: bool = typer.Option(
        False, "--reset", help="After the archive verified, reset the colony (see `aether reset`)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="With --reset: do not ask."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Copy the colony into a verified chamber (state, memory, handoff, log, profile)."""
    if ctx.invoked_subcommand is not None:
        return
    if reset:
        confirm_or_refuse("Archive the colony and then reset its working state?", yes, json_out)

    def run() -> ArchiveResult:
        ws = workspace(ctx)
        with progress_bar(not json_out) as progress:
            if reset:
                from aether.ops.colony.archive import ArchiveResult as Result
                from aether.ops.colony.reset import reset_colony

                done = reset_colony(
                    ws, label=name, progress=progress, lock_timeout=lock_timeout(ctx)
                )
                assert done.chamber is not None
                return Result(done.chamber, reset=done)
            from aether.ops.colony.archive import archive_colony

            return archive_colony(ws, label=name, progress=progress, lock_timeout=lock_timeout(ctx))

    execute(json_out, run, _render_archive)


def _render_archive(result: ArchiveResult, console: Console) -> None:
    info = result.chamber.to_json()
    console.print(f"Archived and verified: {result.chamber.path}", markup=False, soft_wrap=True)
    console.print(
        f"  {info['files']} files, {info['bytes']} bytes, sha256 of each in manifest.json"
    )
    if result.reset is not None:
        console.print(f"Reset: working state cleared; new session {result.reset.session_id}")


@archive_app.command("list")
def list_(ctx: typer.Context, json_out: bool = JSON_OPTION) -> None:
    """List chambers: name, goal, date, counts."""

    def run() -> ChamberListResult:
        from aether.ops.colony.archive import list_chambers

        return list_chambers(_archive_ws(ctx))

    execute(json_out, run, _render_list)


def _render_list(result: ChamberListResult, console: Console) -> None:
    from aether.cli.plain import TextTable

    if not result.chambers and not result.unreadable:
        console.print("No chambers yet. Create one: aether archive", markup=False)
        return
    table = TextTable("name", "goal", "date", "phases", "workers", "learnings", "decisions")
    for c in result.chambers:
        counts = c.manifest.get("counts") or {}
        table.add_row(
            c.name,
            str(c.manifest.get("goal", ""))[:50],
            str(c.manifest.get("created_at", "")),
            *(str(counts.get(k, "-")) for k in ("phases", "workers", "learnings", "decisions")),
        )
    console.print(table)
    for bad in result.unreadable:
        console.print(f"unreadable chamber {bad['name']}: {bad['problem']}", markup=False)


def _archive_ws(ctx: typer.Context) -> Workspace:
    """The colony, or for restore/list, a .aether/ that has chambers but lost its state."""
    from aether.errors import NoColony

    try:
        return workspace(ctx)
    except NoColony:
        ws = init_workspace(ctx)
        if ws.chambers_dir.is_dir():
            return ws
        raise


@archive_app.command("verify")
def verify(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="A chamber from `archive list`."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Re-check every file of a chamber against its manifest (exit 63 on any mismatch)."""

    def run() -> VerifyResult:
        from aether.ops.colony.archive import require_verified

        return require_verified(_archive_ws(ctx), name)

    execute(json_out, run, _render_verify)


def _render_verify(result: VerifyResult, console: Console) -> None:
    console.print(
        f"Chamber {result.chamber.name}: all "
        f"{len(result.chamber.manifest['files'])} files match the manifest.",
        markup=False,
    )


@archive_app.command("restore")
def restore(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="A chamber from `archive list`."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Overwrite an active colony (working state, or another colony): it is archived first.",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Restore state and memory from a verified chamber (memory is merged, never dropped)."""

    def run() -> RestoreResult:
        from aether.ops.colony.restore import restore_chamber

        with progress_bar(not json_out) as progress:
            return restore_chamber(
                _archive_ws(ctx),
                name,
                force=force,
                progress=progress,
                lock_timeout=lock_timeout(ctx),
            )

    execute(json_out, run, _render_restore)


def _render_restore(result: RestoreResult, console: Console) -> None:
    if result.safety_chamber:
        console.print(
            f"The current colony was archived first: {result.safety_chamber.name}", markup=False
        )
    console.print(
        f"Restored {len(result.restored)} file(s) from {result.chamber.name}; "
        f"{result.memory_added} memory item(s) merged.",
        markup=False,
    )
    if result.backup:
        console.print(f"previous state kept at {result.backup}", markup=False, soft_wrap=True)
    if result.profile_differs:
        console.print("note: the current profile differs from the archived one (not restored)")


def register(app: typer.Typer) -> None:
    app.add_typer(archive_app, name="archive")
