"""``aether migrate`` and ``aether schema``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, execute, lock_timeout, workspace

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.migrate_state import SchemaResult, StateMigrateResult


def migrate(
    ctx: typer.Context,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show the plan and a diff; change nothing on disk."
    ),
    check: bool = typer.Option(
        False,
        "--check",
        help="Exit 1 when a migration is needed, 0 when the file is current; write nothing.",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Upgrade the colony state file to the current format (backed up first, never rotated).

    Old files load without this: read-only commands upgrade them in memory, writing commands
    persist the upgrade. Running it on a current file does nothing.
    """

    def run() -> StateMigrateResult:
        from aether.errors import InvalidInput
        from aether.ops.migrate_state import migrate_colony

        if dry_run and check:
            raise InvalidInput(
                "--dry-run and --check cannot be combined",
                fix="use --check in scripts (exit status) and --dry-run to see the changes",
            )
        return migrate_colony(
            workspace(ctx), dry_run=dry_run, check=check, lock_timeout=lock_timeout(ctx)
        )

    execute(json_out, run, _render_migrate)


def _render_migrate(result: StateMigrateResult, console: Console) -> None:
    from aether.state.migrations import CURRENT_VERSION

    def out(text: str, markup: bool = True) -> None:
        console.print(text, markup=markup, soft_wrap=True)

    if not result.needed:
        out(f"{result.ws.state_file} is already format {CURRENT_VERSION}; nothing to do.")
        return
    out(f"{result.ws.state_file}: format {result.from_version} -> {CURRENT_VERSION}", markup=False)
    out("plan:")
    for i, step in enumerate(result.steps, 1):
        out(f"  {i}. {step.name}: {step.summary}", markup=False)
    if result.diff is not None:
        out("diff (nothing was written):")
        console.file.write(result.diff)
        console.file.flush()
    c = result.counts
    verb = "migrated" if result.written else "would migrate"
    out(
        f"{verb}: {c.get('phases', 0)} phases ({c.get('tasks', 0)} tasks), "
        f"{c.get('workers', 0)} workers, {c.get('events', 0)} events, "
        f"{c.get('errors', 0)} errors, {c.get('signals', 0)} signals, "
        f"{c.get('memory_items', 0)} memory items moved to .aether/memory/"
        + (f" ({c['memory_items_new']} new)" if "memory_items_new" in c else "")
        + f", {c.get('legacy_keys', 0)} legacy keys kept",
        markup=False,
    )
    if result.legacy_kept:
        out("  kept in legacy: " + ", ".join(result.legacy_kept), markup=False)
    for note in result.notes:
        out(f"  note: {note}", markup=False)
    if result.backup:
        out(f"pre-migration backup (never rotated): {result.backup}", markup=False)


def schema(json_out: bool = JSON_OPTION) -> None:
    """Print the JSON Schema of the current colony state (one JSON object; --json is the same)."""

    def run() -> SchemaResult:
        from aether.ops.migrate_state import SchemaResult

        return SchemaResult()

    # One JSON object either way: canonical (sorted, indented) so docs/state-schema.json diffs well.
    execute(False, run, _render_schema)
    del json_out


def _render_schema(result: SchemaResult, console: Console) -> None:
    import sys

    from aether.json_text import canonical_json

    sys.stdout.write(canonical_json(result.to_json()))
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command()(migrate)
    app.command()(schema)
