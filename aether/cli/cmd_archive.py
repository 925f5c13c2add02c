"""``aether archive [--name N] [--reset]``, ``archive list|verify|restore`` and ``aether reset``.

Shape: ``archive`` is a Typer group whose callback (``invoke_without_command=True``) creates a
chamber when no subcommand is given, so ``aether archive`` archives and ``aether archive list``
lists. A chamber is never addressed positionally by the callback, so a chamber called "list"
cannot be confused with the subcommand.

Confirmation for destructive commands lives here, the only layer that knows the terminal:
without ``--yes`` reset asks; with no terminal and no ``--yes`` it refuses (exit 65).
``--forget-memory`` additionally needs the colony id or name typed back (prompt, or
``--confirm-colony``), even with ``--yes``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, execute, fail, init_workspace, lock_timeout, workspace

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.archive import ListResult, VerifyResult
    from aether.ops.reset import ResetResult
    from aether.ops.restore import ArchiveResult, RestoreResult
    from aether.workspace import Workspace

#: archives smaller than this finish before a progress bar would be worth drawing
PROGRESS_MIN_BYTES = 8 * 1024 * 1024

archive_app = typer.Typer(
    name="archive",
    help="Verified copies of the colony in .aether/chambers/ (run alone to create one).",
    invoke_without_command=True,
    rich_markup_mode=None,
)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on stderr once an archive is large enough."""
    if not enabled:
        yield None
        return
    state: dict[str, object] = {}

    def update(done: int, total: int) -> None:
        if total < PROGRESS_MIN_BYTES:
            return
        if "bar" not in state:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

            bar = Progress(
                "archiving",
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            bar.start()
            state["bar"] = bar
            state["task"] = bar.add_task("archive", total=total)
        from rich.progress import Progress, TaskID

        bar_ = state["bar"]
        task = state["task"]
        assert isinstance(bar_, Progress) and isinstance(task, int)
        bar_.update(TaskID(task), completed=done)

    try:
        yield update
    finally:
        from rich.progress import Progress

        bar = state.get("bar")
        if isinstance(bar, Progress):
            bar.stop()


def _confirm_or_refuse(question: str, yes: bool, json_out: bool) -> None:
    from aether.errors import Aborted, ConfirmationRequired

    if yes:
        return
    if not sys.stdin.isatty():
        raise fail(
            ConfirmationRequired(
                "this command changes the colony and needs confirmation, but there is no terminal "
                "to ask on",
                meaning="nothing was changed",
                fix="pass --yes (or --dry-run to see what it would do)",
            ),
            json_out,
        )
    if not typer.confirm(question, default=False, err=True):
        raise fail(Aborted("answered no", meaning="nothing was changed"), json_out)


def _forget_confirmation(ws: Workspace, given: str | None, json_out: bool) -> str:
    from aether.errors import AetherError, ConfirmationRequired
    from aether.ops.reset import preview_reset

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
        _confirm_or_refuse("Archive the colony and then reset its working state?", yes, json_out)

    def run() -> ArchiveResult:
        ws = workspace(ctx)
        with _progress(not json_out) as progress:
            if reset:
                from aether.ops.reset import reset_colony
                from aether.ops.restore import ArchiveResult as Result

                done = reset_colony(
                    ws, label=name, progress=progress, lock_timeout=lock_timeout(ctx)
                )
                assert done.chamber is not None
                return Result(done.chamber, reset=done)
            from aether.ops.restore import archive_colony

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

    def run() -> ListResult:
        from aether.ops.archive import list_chambers

        return list_chambers(_archive_ws(ctx))

    execute(json_out, run, _render_list)


def _render_list(result: ListResult, console: Console) -> None:
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
        from aether.ops.archive import require_verified

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
        from aether.ops.restore import restore_chamber

        with _progress(not json_out) as progress:
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
    from pathlib import Path

    def preview() -> ResetResult:
        from aether.ops.reset import preview_reset

        return preview_reset(workspace(ctx), forget_memory=forget_memory)

    if dry_run:
        execute(json_out, preview, _render_reset)
        return
    from aether.errors import AetherError

    try:
        ws = workspace(ctx)
    except AetherError as exc:
        raise fail(exc, json_out) from None
    if not force:  # before asking: a question that ends in a refusal wastes the user's time
        _refuse_while_running(ws, json_out)
    _confirm_or_refuse(
        "Archive the colony, then clear its working state (memory is kept)?", yes, json_out
    )
    confirmation = _forget_confirmation(ws, confirm_colony, json_out) if forget_memory else None

    def run() -> ResetResult:
        from aether.ops.reset import reset_colony

        with _progress(not json_out) as progress:
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


def _refuse_while_running(ws: Workspace, json_out: bool) -> None:
    from aether.errors import AetherError
    from aether.ops.reset import preview_reset, refuse_running

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


def register(app: typer.Typer) -> None:
    app.add_typer(archive_app, name="archive")
    app.command()(reset)
